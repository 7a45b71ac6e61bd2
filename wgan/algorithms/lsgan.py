"""``lsgan``: least-squares GAN.

Mao, Li, Xie, Lau, Wang and Smolley, "Least Squares Generative Adversarial Networks", ICCV 2017
(Eq. 2): the discriminator's sigmoid cross-entropy replaced by least squares on a linear output,

    L_D = 1/2 E[(D(x) - b)^2] + 1/2 E[(D(G(z)) - a)^2],      L_G = 1/2 E[(D(G(z)) - c)^2],

with a the label of fake data, b of real data and c the value G wants D to give its samples. The paper
gives two codings (section 3.2.2), both offered by ``lsgan_coding``:

- (a, b, c) = (-1, 1, 0): b - c = 1 and b - a = 2, the conditions under which minimising L_G minimises
  the Pearson chi^2 divergence between P_data + P_g and 2 P_g (Eq. 8);
- (a, b, c) = (0, 1, 1): c = b, the generator asks for samples as real as possible (Eq. 9).

The default is (0, 1, 1): the coding of the paper's experiments (the paper reports the two perform
alike) and of the common implementations, so results compare with theirs. Optimizer: Adam lr 2e-4,
betas (0.5, 0.999), one discriminator step, batch 64 (the paper follows DCGAN's settings).

Preset ``toy``: the preset's models, batch and latent; the optimizer stays the paper's.
"""
from __future__ import annotations

import minigrad
from minigrad import Tensor
from wgan.algorithms.base import Algorithm, Option


def _half_mean_square(d: Tensor, target: float) -> Tensor:
    diff = d - target
    return 0.5 * minigrad.mean(diff * diff)


class LSGAN(Algorithm):
    name = "lsgan"
    defaults = dict(optimizer="adam", lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999), n_critic=1, batch_size=64,
                    loss="least-squares")
    presets = {"toy": {}}
    losses = ("least-squares",)
    options = (Option("lsgan_coding", (0.0, 1.0, 1.0), "labels (a, b, c): fake, real, and G's target "
                      "((-1, 1, 0) minimises Pearson chi^2)", type=tuple),)

    def critic_loss(self, d_real: Tensor, d_fake: Tensor) -> Tensor:
        a, b, _ = self.config.algorithm_options["lsgan_coding"]
        return _half_mean_square(d_real, b) + _half_mean_square(d_fake, a)

    def generator_loss(self, d_fake: Tensor) -> Tensor:
        return _half_mean_square(d_fake, self.config.algorithm_options["lsgan_coding"][2])
