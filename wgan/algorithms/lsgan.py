"""``lsgan``: least-squares GAN.

Mao, Li, Xie, Lau, Wang and Smolley, "Least Squares Generative Adversarial Networks", ICCV 2017
(Eq. 2): the discriminator's sigmoid cross-entropy replaced by least squares on a linear output,

    L_D = 1/2 E[(D(x) - b)^2] + 1/2 E[(D(G(z)) - a)^2],      L_G = 1/2 E[(D(G(z)) - c)^2],

with a the label of fake data, b of real data and c the value G wants D to give its samples. The paper
gives two codings (section 3.2.2), both offered by ``lsgan_coding``:

- (a, b, c) = (-1, 1, 0): b - c = 1 and b - a = 2, the conditions under which minimising L_G minimises
  the Pearson chi^2 divergence between P_data + P_g and 2 P_g (Eq. 8);
- (a, b, c) = (0, 1, 1): c = b, the generator asks for samples as real as possible (Eq. 9).

The default is (0, 1, 1), the coding of the authors' code: every script of the official repository
(xudonmao/LSGAN: ``vgg.py``/``mcgan.py`` ``loss_l2`` for the LSUN scenes and the Chinese characters, and
``stability_comparison/mixture_gaussian/ls.py``) trains D towards 1 on real and 0 on generated samples and
G towards 1. (That the paper reports the two codings performing alike and trains with the 0-1 coding, its
Eq. 9, is from its section 3.2.2; the paper's text is not among this package's references to check.)

Optimizer, from the same code: Adam with beta1 0.5 (beta2 TensorFlow's default 0.999), one discriminator
step per generator step, batch 64; lr 2e-4 is ``train_chn.py``'s (and DCGAN's), ``train_lsun.py`` uses 1e-3
for the scenes.

Preset ``toy``: the preset's models, batch and latent; the optimizer stays as above. (The official
mixture-of-Gaussians script uses other settings: Adam lr 1e-4 for D and 1e-3 for G, beta1 0.5, batch 512,
2 x 128 tanh MLPs, a 256-d latent.)
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
                      "((-1, 1, 0) minimises Pearson chi^2)", type=tuple, metavar=("A", "B", "C")),)

    def critic_loss(self, d_real: Tensor, d_fake: Tensor) -> Tensor:
        a, b, _ = self.config.algorithm_options["lsgan_coding"]
        return _half_mean_square(d_real, b) + _half_mean_square(d_fake, a)

    def generator_loss(self, d_fake: Tensor) -> Tensor:
        return _half_mean_square(d_fake, self.config.algorithm_options["lsgan_coding"][2])
