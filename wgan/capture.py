"""A training iteration captured once and replayed at every step: the `Trainer`'s graph set-up.

`capture_step(trainer, requested)` decides whether a trainer's iteration (`Trainer._iteration`: the critic
updates and the generator update of one step) runs captured, and returns the `CapturedStep` that runs it, or
None for eager steps:

- ``requested`` None (the default) captures wherever the configuration allows; True asks for it; False never.
- `capture_refusal` names why a configuration cannot be captured. The run is then eager and says why in one
  line: an info line in the log when capture was the default, a RuntimeWarning when it was asked for. On the
  CPU the capture itself can refuse a step (`minigrad.capture`: the recorded step must replay bit for bit as
  the eager one); that is reported the same way, at the step where it happens.

One design on both devices (`minigrad.graphed`): two eager warm-up steps, then the iteration is captured and
replayed. On a device the capture is a CUDA graph; data that cannot be drawn inside it (a host sampler, a
fixed-order set) is copied into the graph's input buffers in place before each replay (`CapturedStep.inputs`).
On the CPU it is a tape of NumPy calls; the dataset's sampler is host code, called at its place in every replay
(`minigrad.capture.host`) so that its draws and the noise's come from the trainer's generator in the eager
order, and its batch is copied into the captured input buffer.

The rules a captured iteration follows, and that the trainer's iteration keeps: its state lives in arrays (an
optimizer's step count and learning rate too: no Python number computed from array values), it reads nothing
back to Python inside the step, and its random numbers come from the trainer's streams (on a device
`wgan.device.DeviceNoise`, on the CPU the trainer's NumPy generator, recorded). Its statistics stay arrays; the
trainer reads them after each step on the CPU (the NaN/Inf check, with the eager run's stop step and message)
and at log steps on a device (`wgan.device`).
"""
from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np

import minigrad
from minigrad import Tensor

__all__ = ["CapturedStep", "capture_refusal", "capture_step"]

log = logging.getLogger("wgan")


def capture_refusal(trainer) -> str | None:
    """Why the trainer's iteration cannot be captured, or None."""
    if trainer.config.critic_schedule == "official":
        return ("the official critic schedule changes n_critic between steps (100 at some steps), which a captured "
                "iteration cannot")
    return None


def report_eager(reason: str, requested: bool | None) -> None:
    """Say in one line why the steps run eagerly: a RuntimeWarning when capture was asked for, else a log line."""
    message = f"graph: running eagerly because {reason}"
    if requested:
        warnings.warn(message, RuntimeWarning, stacklevel=4)
    else:
        log.info(message)


class CapturedStep:
    """The trainer's iteration, captured on its device; calling it runs one step and returns the iteration's
    statistics: on a device as device arrays (copied: the replay rewrites its outputs), on the CPU as floats,
    checked for NaN/Inf in the order the eager iteration checks them.

    ``inputs`` (a device): one real batch per critic iteration, copied in before each replay, when the data
    cannot be drawn inside the graph (a host sampler, a fixed-order set); else None. ``graphed``: the
    `minigrad.graphed` step (``graphed.eager_reason`` says why the CPU capture refused the step, if it did)."""

    def __init__(self, trainer, requested: bool | None) -> None:
        self.trainer, self.requested = trainer, requested
        self.inputs: list | None = None
        self._reported = False
        if trainer.on_device:
            if trainer.data_path in ("host sampler", "device slices"):
                xp = minigrad.backend.xp_for(trainer.device)
                shape = (trainer.config.batch_size, *trainer.dataset.sample_shape)
                self.inputs = [xp.zeros(shape, np.float32) for _ in range(trainer.config.n_critic)]
            inputs = self.inputs

            def iteration() -> dict:
                stats = trainer._iteration(inputs)
                return {k: v if isinstance(v, Tensor) else minigrad.as_tensor(v) for k, v in stats.items()}

            self.graphed: Any = minigrad.cuda.graphed(iteration, warmup=2, device=trainer.device)
            return
        keys: list[list[str]] = []  # each row's keys, as the step's Python code last ran (a replay runs none)

        def cpu_iteration() -> list[list[Tensor]]:
            rows: list[dict] = []
            trainer._iteration(rows=rows)
            keys[:] = [list(row) for row in rows]
            return [[v if isinstance(v, Tensor) else minigrad.as_tensor(v) for v in row.values()] for row in rows]

        self._keys = keys
        self.graphed = minigrad.graphed(cpu_iteration, warmup=2, device="cpu")

    @property
    def on(self) -> bool:
        """Whether the steps are (to be) replayed: False once a CPU capture refused the step."""
        return getattr(self.graphed, "eager_reason", None) is None

    def __call__(self) -> dict:
        trainer = self.trainer
        if trainer.on_device:
            if self.inputs is not None:  # host or fixed-order data: refilled outside the graph
                for buffer in self.inputs:
                    buffer[...] = trainer._sample_real(trainer.config.batch_size)
            return {k: t.data.copy() for k, t in self.graphed().items()}
        rows = self.graphed()
        if not self._reported and self.graphed.eager_reason is not None:
            self._reported = True
            report_eager(f"the step could not be captured: {self.graphed.eager_reason}", self.requested)
        return trainer._checked_rows([dict(zip(names, (float(t.data) for t in row)))
                                      for names, row in zip(self._keys, rows)])


def capture_step(trainer, requested: bool | None) -> CapturedStep | None:
    """The `CapturedStep` of `trainer` (``requested``: True, False, or None for wherever possible), or None for
    eager steps, saying why in one line when the configuration refuses a capture (see `report_eager`)."""
    if requested is False:
        return None
    reason = capture_refusal(trainer)
    if reason is not None:
        report_eager(reason, requested)
        return None
    return CapturedStep(trainer, requested)
