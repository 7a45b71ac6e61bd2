"""``sngan``: spectrally normalised critic with the hinge loss.

Miyato, Kataoka, Koyama and Yoshida, "Spectral Normalization for Generative Adversarial Networks",
ICLR 2018: every critic layer's weight divided by its largest singular value (one power iteration
per forward pass), the hinge loss (Eq. 17; ``loss="wgan"`` or ``"gan"`` for the paper's other two),
Adam setting A of the paper (lr 1e-4, betas (0.5, 0.9), n_critic 5), batch 64. The paper's ResNet
runs and the official config use lr 2e-4, betas (0, 0.9): pass them explicitly.

Preset ``toy``: gan_toy.py's Adam settings, which equal setting A.
"""
from __future__ import annotations

from minigrad import nn
from wgan.algorithms.base import Algorithm
from wgan.models import apply_spectral_norm


class SNGAN(Algorithm):
    name = "sngan"
    defaults = dict(optimizer="adam", lr_g=1e-4, lr_d=1e-4, betas=(0.5, 0.9), n_critic=5, batch_size=64,
                    loss="hinge")
    presets = {"toy": dict(optimizer="adam", lr_g=1e-4, lr_d=1e-4, betas=(0.5, 0.9), n_critic=5)}
    losses = ("hinge", "wgan", "gan")

    def prepare_critic(self, critic: nn.Module) -> nn.Module:
        return apply_spectral_norm(super().prepare_critic(critic))
