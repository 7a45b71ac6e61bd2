"""A training iteration captured once and replayed at every step: the `Trainer`'s graph set-up.

`capture_step(trainer, requested)` decides whether a trainer's iteration (`Trainer._iteration`: the critic
updates and the generator update of one step) runs captured, and returns the `CapturedStep` that replays it, or
None for eager steps:

- ``requested`` None (the default) captures wherever the configuration allows; True asks for it; False never.
- `capture_refusal` names why a configuration cannot be captured; asked for anyway, the run is eager and one
  RuntimeWarning names the reason.

On a device the capture is a CUDA graph (`minigrad.cuda.graphed`, after two eager warm-up steps). Data that
cannot be drawn inside the graph (a host sampler, a fixed-order set) is copied into the graph's input buffers in
place before each replay (`CapturedStep.inputs`).

The rules a captured iteration follows, and that the trainer's iteration keeps: its state lives in arrays (an
optimizer's step count and learning rate too: no Python number computed from array values), it makes no host
sync, it draws its random numbers on the device (`wgan.device.DeviceNoise`), and its inputs are refilled in
place. Its statistics stay on the device; the trainer reads and checks them at log steps (`wgan.device`).
"""
from __future__ import annotations

import warnings

import numpy as np

import minigrad
from minigrad import Tensor

__all__ = ["CapturedStep", "capture_refusal", "capture_step"]


def capture_refusal(trainer) -> str | None:
    """Why the trainer's iteration cannot be captured, or None."""
    if not trainer.on_device:
        return "the run is on the CPU (a CUDA graph needs device='cuda')"
    if trainer.config.critic_schedule == "official":
        return ("the official critic schedule changes n_critic between steps (100 at some steps), which a captured "
                "iteration cannot")
    return None


class CapturedStep:
    """The trainer's iteration, captured on its device; calling it refills ``inputs`` and replays the capture,
    returning the iteration's statistics (device arrays, copied: the replay rewrites its outputs).

    ``inputs``: one real batch per critic iteration, copied in before each replay, when the data cannot be
    drawn inside the graph (a host sampler, a fixed-order set); else None."""

    def __init__(self, trainer) -> None:
        self.trainer = trainer
        self.inputs: list | None = None
        if trainer.data_path in ("host sampler", "device slices"):
            xp = minigrad.backend.xp_for(trainer.device)
            shape = (trainer.config.batch_size, *trainer.dataset.sample_shape)
            self.inputs = [xp.zeros(shape, np.float32) for _ in range(trainer.config.n_critic)]
        inputs = self.inputs

        def iteration() -> dict:
            stats = trainer._iteration(inputs)
            return {k: v if isinstance(v, Tensor) else minigrad.as_tensor(v) for k, v in stats.items()}

        self.graphed = minigrad.cuda.graphed(iteration, warmup=2, device=trainer.device)

    def __call__(self) -> dict:
        if self.inputs is not None:  # host or fixed-order data: refilled outside the graph
            for buffer in self.inputs:
                buffer[...] = self.trainer._sample_real(self.trainer.config.batch_size)
        return {k: t.data.copy() for k, t in self.graphed().items()}


def capture_step(trainer, requested: bool | None) -> CapturedStep | None:
    """The `CapturedStep` of `trainer` (``requested``: True, False, or None for wherever possible), or None for
    eager steps; a RuntimeWarning names the reason when a capture was asked for, or is the default (on a
    device), and the configuration refuses it."""
    if requested is False or (requested is None and not trainer.on_device):
        return None
    reason = capture_refusal(trainer)
    if reason is not None:
        warnings.warn(f"cuda_graph: running eagerly because {reason}", RuntimeWarning, stacklevel=3)
        return None
    return CapturedStep(trainer)
