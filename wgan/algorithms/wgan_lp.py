"""``wgan-lp``: WGAN with the one-sided (Lipschitz) penalty.

Petzka, Fischer and Lukovnikov, "On the regularization of Wasserstein GANs", ICLR 2018: the
penalty E[max(0, ||grad D(x^)||_2 - 1)^2], only penalising slopes above 1, with WGAN-GP's
sampling of x^, lambda 10 and optimizer (the paper keeps WGAN-GP's settings).

Preset ``toy``: as wgan-gp's (lambda 0.1, Adam lr 1e-4 betas (0.5, 0.9), n_critic 5).
"""
from __future__ import annotations

from wgan.algorithms.wgan_gp import WGANGP


class WGANLP(WGANGP):
    name = "wgan-lp"
    defaults = dict(WGANGP.defaults, penalty="one-sided")
