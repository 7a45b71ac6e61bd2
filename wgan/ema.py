"""An exponential moving average of a generator's weights (Yazıcı et al. 2019).

Yazıcı, Foo, Winkler, Yap, Piliouras and Chandrasekhar, "The Unusual Effectiveness of Averaging in
GAN Training", ICLR 2019: after every generator update,

    theta_EMA <- beta theta_EMA + (1 - beta) theta        (computed as theta_EMA += (1 - beta)(theta - theta_EMA))

starting from theta_EMA = theta at initialisation (a share beta^T of the initial weights remains after
T updates); the paper uses beta = 0.999 (and 0.9999). The
average is a separate copy of the generator that training never reads, so it cannot change the
training trajectory. Buffers (batch norm's running mean and variance) are *copied* from the trained
generator at every update, not averaged (as StyleGAN2's code does): in eval mode the averaged
weights are normalised with statistics measured on the raw weights' activations, a small mismatch
while the two weight sets are close.
"""
from __future__ import annotations

import copy

from minigrad import nn


class ExponentialMovingAverage:
    """``module``: the averaged copy of `source` (same architecture, same device); `update` after each
    step of `source`'s optimizer."""

    def __init__(self, source: nn.Module, decay: float):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"ema_decay: must lie in (0, 1), got {decay}")
        self.decay = float(decay)
        self.module = copy.deepcopy(source)
        self.module.requires_grad_(False)

    def update(self, source: nn.Module) -> None:
        """theta_EMA += (1 - decay) (theta - theta_EMA) for every parameter; buffers copied."""
        rate = 1.0 - self.decay
        for averaged, current in zip(self.module.parameters(), source.parameters()):
            averaged.lerp_(current, rate)
        for (_, buffer), (_, trained) in zip(self.module.named_buffers(), source.named_buffers()):
            buffer.copy_(trained)
