"""Learning-rate schedules computed on the device, so that a captured training step advances them.

`LinearLR` has ``torch.optim.lr_scheduler.LinearLR``'s arguments and closed-form values:
after ``e`` calls of `step` (``last_epoch`` = e), each group's lr is
``base_lr * (start_factor + (end_factor - start_factor) * min(e, total_iters) / total_iters)``.

The epoch count lives on the device as a float64 0-d array and `step` computes every
group's learning rate from it with device operations, writing into the optimizer's
device learning rates: replaying a captured step that calls `step` advances the
schedule. The host keeps the same numbers without reading the device: ``last_epoch``
and each ``group["lr"]`` are advanced by the same formula in Python (by a replay hook
when the step is captured), so reading them never synchronises.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import backend, capture
from minigrad.optim.capture_guard import device_lr
from minigrad.optim.optimizer import Optimizer


class LinearLR:
    """Scale each group's initial lr by a factor moving linearly from `start_factor` to `end_factor`
    over `total_iters` calls of `step`, then staying at `end_factor`.

    Building it sets the factor for epoch 0 (``last_epoch=-1``, as PyTorch does) or, for a
    resumed run, for epoch ``last_epoch + 1``. Attributes: ``optimizer``, ``base_lrs``
    (each group's lr when the scheduler was built), ``last_epoch`` (host int).
    """

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"LinearLR: optimizer must be a minigrad.optim.Optimizer, got {type(optimizer).__name__}")
        if not 0 < start_factor <= 1:
            raise ValueError(f"LinearLR: start_factor must be in (0, 1], got {start_factor!r}")
        if not 0 <= end_factor <= 1:
            raise ValueError(f"LinearLR: end_factor must be in [0, 1], got {end_factor!r}")
        if not isinstance(total_iters, (int, np.integer)) or isinstance(total_iters, bool) or total_iters < 1:
            raise ValueError(f"LinearLR: total_iters must be an int >= 1, got {total_iters!r}")
        if not isinstance(last_epoch, (int, np.integer)) or isinstance(last_epoch, bool) or last_epoch < -1:
            raise ValueError(f"LinearLR: last_epoch must be an int >= -1, got {last_epoch!r}")
        devices = {p.device for g in optimizer.param_groups for p in g["params"]}
        if len(devices) > 1:
            raise ValueError(f"LinearLR: the optimizer's groups are on {' and '.join(sorted(devices))}; "
                             "a schedule runs on one device")
        self.optimizer = optimizer
        self.start_factor, self.end_factor, self.total_iters = float(start_factor), float(end_factor), int(total_iters)
        self.base_lrs = [float(g["lr"]) for g in optimizer.param_groups]
        self.last_epoch = int(last_epoch)
        xp = backend.xp_for(devices.pop() if devices else "cpu")
        self._epoch = xp.full((), float(self.last_epoch), np.float64)
        self.step()

    def _factor(self, epoch, xp=None):
        """The factor at `epoch` (a host number, or a float64 0-d array of `xp`: the same operations)."""
        total = float(self.total_iters)
        if isinstance(epoch, (int, float)):
            return self.start_factor + (self.end_factor - self.start_factor) * min(epoch, total) / total
        slope = xp.multiply(xp.minimum(epoch, total), self.end_factor - self.start_factor)
        return xp.add(xp.divide(slope, total), self.start_factor)

    def step(self) -> None:
        """Advance one epoch: the device count and learning rates with device operations, the host
        values in Python. Inside a captured step, each replay does the same."""
        capturing = capture.is_capturing()
        xp, opt = backend.array_module(self._epoch), self.optimizer
        xp.add(self._epoch, 1, out=self._epoch)
        factor = self._factor(self._epoch, xp)
        for i, (group, base) in enumerate(zip(opt.param_groups, self.base_lrs)):
            if group["params"]:
                lr = device_lr(opt, i, xp, capturing)
                xp.multiply(factor, base, out=lr)
        self._advance_host()
        if capturing:
            capture.on_replay(lambda: self._advance_host())  # one hook per call: each replay advances as often

    def _advance_host(self) -> None:
        self.last_epoch += 1
        factor = self._factor(self.last_epoch)
        for i, (group, base) in enumerate(zip(self.optimizer.param_groups, self.base_lrs)):
            group["lr"] = base * factor
            self.optimizer._lrs[i].synced = group["lr"]

    def get_last_lr(self) -> list[float]:
        """Each group's current learning rate (host values; no device read)."""
        return [float(group["lr"]) for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        return {"start_factor": self.start_factor, "end_factor": self.end_factor, "total_iters": self.total_iters,
                "base_lrs": list(self.base_lrs), "last_epoch": self.last_epoch}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a `state_dict`: the schedule's constants, and the epoch (copied into the device count)."""
        expected = {"start_factor", "end_factor", "total_iters", "base_lrs", "last_epoch"}
        if not isinstance(state_dict, dict) or set(state_dict) != expected:
            raise ValueError(f"LinearLR.load_state_dict: expected a dict with the keys {sorted(expected)}")
        if len(state_dict["base_lrs"]) != len(self.optimizer.param_groups):
            raise ValueError(f"LinearLR.load_state_dict: {len(state_dict['base_lrs'])} base_lrs for "
                             f"{len(self.optimizer.param_groups)} parameter groups")
        self.start_factor, self.end_factor = float(state_dict["start_factor"]), float(state_dict["end_factor"])
        self.total_iters, self.base_lrs = int(state_dict["total_iters"]), [float(v) for v in state_dict["base_lrs"]]
        self.last_epoch = int(state_dict["last_epoch"]) - 1
        backend.array_module(self._epoch).copyto(self._epoch, float(self.last_epoch))
        self.step()

    def __repr__(self) -> str:
        return (f"LinearLR(start_factor={self.start_factor}, end_factor={self.end_factor}, "
                f"total_iters={self.total_iters}, last_epoch={self.last_epoch})")
