"""``wgan-clip``: the original WGAN, a Lipschitz critic by weight clipping.

Arjovsky, Chintala and Bottou, "Wasserstein Generative Adversarial Networks", ICML 2017, Algorithm 1:
RMSprop lr 5e-5, clip c = 0.01 of every critic parameter *after* each critic update, batch 64,
n_critic 5. RMSprop's alpha 0.99 and eps 1e-8 are the official PyTorch code's
(martinarjovsky/WassersteinGAN); TF and gan_toy.py use alpha 0.9, eps 1e-10 (``rmsprop_alpha``).
The official code clamps *before* each critic update (``clip_placement="before"``) and runs 100
critic iterations for the first 25 generator iterations and every 500th
(``critic_schedule="official"``).

Preset ``toy`` (gan_toy.py's wgan mode): RMSprop lr 5e-5 with TF's decay 0.9 and eps 1e-10, c = 0.01.
"""
from __future__ import annotations

from wgan import losses
from wgan.algorithms.base import Algorithm
from wgan.algorithms.options import CLIP, CLIP_PLACEMENT
from wgan.validation import ConfigError


class WGANClip(Algorithm):
    name = "wgan-clip"
    defaults = dict(optimizer="rmsprop", lr_g=5e-5, lr_d=5e-5, rmsprop_alpha=0.99, rmsprop_eps=1e-8,
                    critic_schedule="constant", n_critic=5, batch_size=64, loss="wgan")
    presets = {"toy": dict(optimizer="rmsprop", lr_g=5e-5, lr_d=5e-5, rmsprop_alpha=0.9, rmsprop_eps=1e-10,
                           clip=0.01, n_critic=5)}
    options = (CLIP, CLIP_PLACEMENT)

    @classmethod
    def validate(cls, config) -> None:
        super().validate(config)
        clip = config.algorithm_options["clip"]
        if clip <= 0:
            raise ConfigError(f"clip: wgan-clip needs a clipping value c > 0, got {clip}")

    def before_critic_step(self, critic) -> None:
        if self.config.algorithm_options["clip_placement"] == "before":
            losses.clip_parameters_(critic, self.config.algorithm_options["clip"])

    def after_critic_step(self, critic) -> None:
        if self.config.algorithm_options["clip_placement"] == "after":
            losses.clip_parameters_(critic, self.config.algorithm_options["clip"])
