"""``gan``: the non-saturating GAN baseline.

Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014 (the non-saturating generator loss
-log D(G(z)) of their section 3), with DCGAN's optimizer (Radford, Metz and Chintala, ICLR 2016):
Adam lr 2e-4, betas (0.5, 0.999), one discriminator step per generator step, batch 64.

Preset ``toy``: only the preset's models, batch and latent (gan_toy.py has no GAN mode); the
optimizer and the one discriminator step stay the baseline's.
"""
from __future__ import annotations

from wgan.algorithms.base import Algorithm


class GAN(Algorithm):
    name = "gan"
    defaults = dict(optimizer="adam", lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999), n_critic=1, batch_size=64,
                    loss="gan")
    presets = {"toy": {}}
    losses = ("gan", "wgan", "hinge")
