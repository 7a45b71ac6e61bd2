"""The capture guard: what keeps an optimizer step captured into a graph (`minigrad.graphed`) honest.

A captured step replays its array calls on the arrays it was captured with, with every Python number
frozen. So everything a step derives from its own progress lives on the device and is updated by the
step itself: the step counts, Adam's bias corrections, and each group's learning rate (`DeviceLR`: a
float64 0-d array on the group's device; ``group["lr"]`` is its host-side value, copied to the device
when it changes, and `minigrad.optim.lr_scheduler` updates both).

While a step is being captured the optimizer records what the graph depends on (`CaptureGuard.record`:
the parameter groups, the parameter and state arrays, the device learning rates) and registers
`CaptureGuard.check_replay` to run before every replay: it raises if a parameter or state array was
rebound (the graph would update the old one) or a hyperparameter other than lr changed, and copies a
learning rate set between replays to the device. Creating state during a capture raises too
(`refuse_while_capturing`): a replay would redo it.
"""
from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import numpy as np

from minigrad import backend

if TYPE_CHECKING:  # the optimizer imports this module
    from minigrad.optim.optimizer import Optimizer

_AGAIN = "; capture the step again (a new minigrad.graphed)"


class DeviceLR:
    """A group's learning rate on the device (``array``, float64 0-d) and the host value it holds."""

    __slots__ = ("array", "synced")

    def __init__(self):
        self.array: Any = None
        self.synced: Any = None


def device_lr(optimizer: Optimizer, i: int, xp, capturing: bool):
    """Group i's learning rate as a float64 0-d array of `xp`, holding ``param_groups[i]["lr"]``."""
    entry = optimizer._lrs[i]
    value = optimizer.param_groups[i]["lr"]
    if entry.array is None or backend.array_module(entry.array) is not xp:
        refuse_while_capturing(optimizer, capturing, f"the learning rate of param_groups[{i}] on the device")
        entry.array, entry.synced = xp.full((), float(value), np.float64), value
    elif value is not entry.synced and value != entry.synced:
        if capturing:
            raise RuntimeError(
                f"{optimizer.name}: param_groups[{i}]['lr'] was set to {value!r} inside a step being captured; "
                "a Python number is frozen into the graph. Set it between replays (outside the step), or "
                "use minigrad.optim.lr_scheduler, which updates it on the device")
        xp.copyto(entry.array, float(value))
        entry.synced = value
    return entry.array


def refuse_while_capturing(optimizer: Optimizer, capturing: bool, what: str) -> None:
    """Raise if a step being captured would create `what` (a replay would create it again)."""
    if capturing:
        raise RuntimeError(f"{optimizer.name}: this step would create {what} while it is being captured; a replay "
                           "would redo that (zeroing the state every time). Run one eager step first "
                           "(minigrad.graphed's warm-up does)")


class CaptureGuard:
    """One optimizer's record of what its captured step depends on, checked before every replay."""

    def __init__(self, optimizer: Optimizer):
        self.optimizer = optimizer
        self.captured: dict[str, Any] | None = None

    def record(self) -> None:
        """The identities and values a captured step depends on, as they are now."""
        opt = self.optimizer
        self.captured = {
            "groups": [(group["params"], {k: copy.deepcopy(v) for k, v in group.items() if k not in ("params", "lr")})
                       for group in opt.param_groups],
            "params": [(p, p.data) for group in opt.param_groups for p in group["params"]],
            "state": [(p, key, value) for p, state in opt.state.items() for key, value in state.items()],
            "lrs": [entry.array for entry in opt._lrs],
        }

    def check_replay(self) -> None:
        """Before a replay: raise if an array the graph updates was rebound or a fixed hyperparameter
        changed; copy a learning rate set since the last step to the device."""
        opt, snap = self.optimizer, self.captured
        assert snap is not None
        if len(opt.param_groups) != len(snap["groups"]):
            raise RuntimeError(f"{opt.name}: param_groups changed from {len(snap['groups'])} to "
                               f"{len(opt.param_groups)} groups after the step was captured{_AGAIN}")
        for i, (group, (params, fixed)) in enumerate(zip(opt.param_groups, snap["groups"])):
            if group["params"] is not params and [id(p) for p in group["params"]] != [id(p) for p in params]:
                raise RuntimeError(f"{opt.name}: param_groups[{i}]['params'] changed after the step was "
                                   f"captured{_AGAIN}")
            now = {k: v for k, v in group.items() if k not in ("params", "lr")}
            if now != fixed:
                changed = sorted(k for k in set(now) | set(fixed) if now.get(k) != fixed.get(k))
                raise RuntimeError(f"{opt.name}: param_groups[{i}] {changed} changed after the step was captured; "
                                   f"the graph keeps the values it was captured with (only lr is read from the "
                                   f"device){_AGAIN}")
            if params:
                device_lr(opt, i, backend.array_module(params[0].data), False)
            if opt._lrs[i].array is not snap["lrs"][i]:
                raise RuntimeError(f"{opt.name}: the device learning rate of param_groups[{i}] was replaced after "
                                   f"the step was captured (the parameters moved device){_AGAIN}")
        for index, (p, data) in enumerate(snap["params"]):
            if p.data is not data:
                raise RuntimeError(
                    f"{opt.name}: parameter {index} (shape {p.shape}) was rebound to another array after the step "
                    "was captured (Module.to to another device or dtype, or an assignment to .data); the graph "
                    "would keep updating the old array. Copy new values in place (p.data[...] = v, "
                    f"Module.load_state_dict){_AGAIN}")
        for p, key, value in snap["state"]:
            if opt.state.get(p, {}).get(key) is not value:
                raise RuntimeError(
                    f"{opt.name}: the state entry {key!r} of a parameter of shape {p.shape} was rebound or removed "
                    "after the step was captured; the graph would keep updating the old array "
                    f"(load_state_dict copies in place when the state exists){_AGAIN}")
