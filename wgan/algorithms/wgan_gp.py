"""``wgan-gp``: WGAN with the gradient penalty.

Gulrajani, Ahmed, Arjovsky, Dumoulin and Courville, "Improved Training of Wasserstein GANs",
NeurIPS 2017, Algorithm 1: lambda 10, n_critic 5, Adam lr 1e-4 betas (0, 0.9), batch 64; the
two-sided penalty E[(||grad D(x^)||_2 - 1)^2] at x^ = eps x + (1 - eps) x~ with one eps ~ U[0, 1]
per sample and the norm over every non-batch axis (`wgan.losses.gradient_penalty`).
``penalty="one-sided"`` is WGAN-LP's max(0, ||.|| - 1)^2 (see `wgan.algorithms.wgan_lp`);
``gp_eps`` sits inside the norm's square root. The official code (igul222/improved_wgan_training)
uses betas (0.5, 0.9) and, for CIFAR ResNets, a linear lr decay (``lr_decay="linear"``).

Preset ``toy`` (gan_toy.py): lambda 0.1, Adam lr 1e-4 betas (0.5, 0.9), n_critic 5.
"""
from __future__ import annotations

import numpy as np

from wgan import losses
from wgan.algorithms.base import Algorithm, NoiseStream
from wgan.algorithms.options import GP_EPS, GP_LAMBDA, PENALTY
from wgan.validation import ConfigError


class WGANGP(Algorithm):
    name = "wgan-gp"
    defaults = dict(optimizer="adam", lr_g=1e-4, lr_d=1e-4, betas=(0.0, 0.9), n_critic=5, batch_size=64,
                    loss="wgan")
    presets = {"toy": dict(optimizer="adam", lr_g=1e-4, lr_d=1e-4, betas=(0.5, 0.9), n_critic=5, gp_lambda=0.1)}
    options = (GP_LAMBDA, PENALTY, GP_EPS)
    penalised = True

    @classmethod
    def validate(cls, config) -> None:
        super().validate(config)
        opts = config.algorithm_options
        if opts["gp_lambda"] <= 0:
            raise ConfigError(f"gp_lambda: the {opts['penalty']} penalty needs gp_lambda > 0, got {opts['gp_lambda']}")

    def critic_noise(self, rng: NoiseStream, batch_shape: tuple) -> np.ndarray:
        """eps ~ U[0, 1], one per sample: shape (B, 1, ..., 1)."""
        return rng.random((batch_shape[0],) + (1,) * (len(batch_shape) - 1), dtype=np.float32)

    def critic_regularizer(self, critic, real, fake, eps):
        opts = self.config.algorithm_options
        penalty, norms = losses.gradient_penalty(critic, real, fake, eps, one_sided=opts["penalty"] == "one-sided",
                                                 sqrt_eps=opts["gp_eps"])
        return opts["gp_lambda"], penalty, {"grad_norm": norms.data.mean()}
