"""``wgan-div``: the Wasserstein divergence.

Wu, Huang, Thoma, Acharya and Van Gool, "Wasserstein Divergence for GANs", ECCV 2018: no Lipschitz
constraint; the critic minimises

    E[D(G(z))] - E[D(x)] + k E[||grad D(x^)||_2^p]        (k = 2, p = 6, the paper's choice)

(written in this package's sign convention: the paper's D is our -D, which leaves the penalty
unchanged), and the generator minimises -E[D(G(z))]. The norm runs over every non-batch axis and is
raised to the p-th power as (sum g^2)^(p/2), with no square root.

Where x^ is drawn (``div_sampling``):

- ``"interpolation"`` (default): x^ = eps x + (1 - eps) x~ with one eps ~ U[0, 1] per sample, as
  WGAN-GP. This is what the authors' code does (musikisomorphie/wgan-div, wgan_div.py: ``interpolates =
  real_data + alpha * (fake_data - real_data)``, alpha of shape (batch, 1)), and the paper's Algorithm 1
  (not checked against the paper's text, which is not among this package's references);
- ``"real-fake"`` (PyTorch-GAN's wgan_div.py, a third-party implementation): the gradient at the real and
  at the generated samples themselves, penalty k/2 (E||grad D(x)||^p + E||grad D(x~)||^p).

Where the constants come from: k = 2, p = 6 are the values the paper recommends (PyTorch-GAN uses them
too; not checked against the paper's text). The authors' code raises the norm to p = 6 as
(sum g^2)^3 but weights the penalty with LAMBDA = 10, not 2. The optimizer is the authors' code's:
Adam lr 2e-4, betas (0, 0.9), CRITIC_ITERS = 4 critic steps per generator step, batch 64 (PyTorch-GAN's
are its template's: Adam betas (0.5, 0.999), n_critic 5).

Preset ``toy``: gan_toy.py's WGAN settings (Adam lr 1e-4, betas (0.5, 0.9), n_critic 5) with k and p kept.
"""
from __future__ import annotations

import numpy as np

import minigrad
from wgan import losses
from wgan.algorithms.base import Algorithm, NoiseStream, Option


def divergence_penalty(critic, points, p: float) -> tuple:
    """E[||grad D(u)||^p] over the samples u of `points` (a leaf requiring grad), and the per-sample norms."""
    _, g = losses.input_gradient(critic, points)
    squared = losses.squared_norms(g)
    return minigrad.mean(squared ** (p / 2)), squared


class WGANDiv(Algorithm):
    name = "wgan-div"
    defaults = dict(optimizer="adam", lr_g=2e-4, lr_d=2e-4, betas=(0.0, 0.9), n_critic=4, batch_size=64,
                    loss="wgan")
    presets = {"toy": dict(optimizer="adam", lr_g=1e-4, lr_d=1e-4, betas=(0.5, 0.9), n_critic=5)}
    losses = ("wgan",)
    penalised = True
    options = (
        Option("div_k", 2.0, "weight k of the W-div penalty", minimum=0.0, positive=True),
        Option("div_p", 6.0, "power p of the gradient norm", minimum=0.0, positive=True),
        Option("div_sampling", "interpolation", "where the penalty is taken: interpolation (paper) or "
               "real-fake (PyTorch-GAN)", type=str, choices=("interpolation", "real-fake")),
    )

    def critic_noise(self, rng: NoiseStream, batch_shape: tuple):
        if self.config.algorithm_options["div_sampling"] == "real-fake":
            return None
        return rng.random((batch_shape[0],) + (1,) * (len(batch_shape) - 1), dtype=np.float32)

    def critic_regularizer(self, critic, real, fake, eps):
        opts = self.config.algorithm_options
        k, p = opts["div_k"], opts["div_p"]
        if opts["div_sampling"] == "interpolation":
            penalty, squared = divergence_penalty(critic, losses.interpolate(real, fake, eps), p)
        else:
            at_real, sq_real = divergence_penalty(critic, losses.input_leaf(real), p)
            at_fake, sq_fake = divergence_penalty(critic, losses.input_leaf(fake), p)
            penalty, squared = 0.5 * (at_real + at_fake), minigrad.concatenate([sq_real, sq_fake])
        return k, penalty, {"grad_norm": minigrad.backend.array_module(squared.data).sqrt(squared.data).mean()}
