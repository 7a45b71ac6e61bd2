"""``dragan``: a gradient penalty in a neighbourhood of the real data.

Kodali, Abernethy, Hays and Kira, "On Convergence and Stability of GANs" (DRAGAN), arXiv:1705.07215,
2017: the standard (non-saturating) GAN loss plus

    lambda E[(||grad D(x^)||_2 - k)^2],     lambda = 10, k = 1,

where x^ lies around the real data only. The noise is that of the paper's practical scheme and its
official code (kodalinaveen3/DRAGAN): a perturbed copy x_p = x + c std(x) u with u ~ U[0, 1] per
coordinate, c = 0.5 (``dragan_c``) and std(x) the batch's standard deviation over all its values,
and x^ = x + alpha (x_p - x) with one alpha ~ U[0, 1] per sample. The norm runs over every non-batch
axis (`wgan.losses.squared_norms`); ``gp_eps`` sits inside its square root. The official code's
Adam lr 1e-4, betas (0.5, 0.9), one discriminator step, batch 64.

Preset ``toy``: the preset's models, batch and latent; the rest stays the paper's.
"""
from __future__ import annotations

import numpy as np

import minigrad
from minigrad import Tensor
from wgan import losses
from wgan.algorithms.base import Algorithm, NoiseStream, Option
from wgan.algorithms.options import GP_EPS, GP_LAMBDA
from wgan.validation import ConfigError


def perturbed_real(real: Tensor, alpha: Tensor, u: Tensor, c: float) -> Tensor:
    """x^ = x + alpha * (c std(x) u): one alpha (B, 1, ..., 1) per sample, u (B, ...) ~ U[0, 1] per coordinate."""
    if alpha.size != real.shape[0] or u.shape != real.shape:
        raise ValueError(f"dragan: alpha {alpha.shape} must hold one value per sample and u {u.shape} match the "
                         f"batch {real.shape}")
    with minigrad.no_grad():
        centered = real - minigrad.mean(real)
        std = minigrad.sqrt(minigrad.mean(centered * centered))
        x = (real + alpha * (c * std) * u).to(dtype=real.dtype)
    return x.requires_grad_(True)


class DRAGAN(Algorithm):
    name = "dragan"
    defaults = dict(optimizer="adam", lr_g=1e-4, lr_d=1e-4, betas=(0.5, 0.9), n_critic=1, batch_size=64,
                    loss="gan")
    presets = {"toy": {}}
    losses = ("gan", "wgan", "hinge")
    penalised = True
    options = (GP_LAMBDA, GP_EPS, Option("dragan_c", 0.5, "perturbation scale c of x + c std(x) U[0, 1]",
                                         minimum=0.0, positive=True, metavar="C"))

    def critic_noise(self, rng: NoiseStream, batch_shape: tuple) -> dict:
        alpha = rng.random((batch_shape[0],) + (1,) * (len(batch_shape) - 1), dtype=np.float32)
        return {"alpha": alpha, "u": rng.random(batch_shape, dtype=np.float32)}

    def critic_regularizer(self, critic, real, fake, noise):
        opts = self.config.algorithm_options
        x_hat = perturbed_real(real, noise["alpha"], noise["u"], opts["dragan_c"])
        _, g = losses.input_gradient(critic, x_hat)
        norms = minigrad.sqrt(losses.squared_norms(g) + opts["gp_eps"])
        excess = norms - 1.0
        return opts["gp_lambda"], minigrad.mean(excess * excess), {"grad_norm": norms.data.mean()}

    @classmethod
    def validate(cls, config) -> None:
        super().validate(config)
        gp_lambda = config.algorithm_options["gp_lambda"]
        if gp_lambda <= 0:
            raise ConfigError(f"gp_lambda: dragan's penalty needs gp_lambda > 0, got {gp_lambda}")
