"""``r1``: the non-saturating GAN with the R1 penalty on real data.

Mescheder, Geiger and Nowozin, "Which Training Methods for GANs do actually Converge?", ICML 2018
(Eq. 9): the discriminator minimises the non-saturating GAN loss plus

    gamma / 2 E_{x ~ P_data}[||grad D(x)||_2^2]

(the squared norm over every non-batch axis, at the real samples only, no interpolation), the
generator the non-saturating loss -E[log sigmoid(D(G(z)))]. ``r1_gamma`` defaults to 10, the value
of the paper's image experiments and of its code's configs (LMescheder/GAN_stability,
``reg_param: 10``); the code's RMSprop lr 1e-4 for both networks, one discriminator step, batch 64.

Preset ``toy``: the preset's models, batch and latent; gamma and the optimizer stay the paper's.
"""
from __future__ import annotations

import minigrad
from minigrad import Tensor
from wgan import losses
from wgan.algorithms.base import Algorithm, Objective, Option


class R1(Algorithm):
    name = "r1"
    defaults = dict(optimizer="rmsprop", lr_g=1e-4, lr_d=1e-4, rmsprop_alpha=0.99, rmsprop_eps=1e-8, n_critic=1,
                    batch_size=64, loss="gan")
    presets = {"toy": {}}
    losses = ("gan",)
    penalised = True
    options = (Option("r1_gamma", 10.0, "weight gamma of gamma/2 E||grad D(x)||^2 on real data", minimum=0.0,
                      positive=True),)

    def critic_objective(self, critic, real: Tensor, fake: Tensor, noise) -> Objective:
        """The real batch is scored at a leaf that requires grad, so the R1 gradient reuses that forward pass."""
        real_leaf = losses.input_leaf(real)
        d_real, g = losses.input_gradient(critic, real_leaf)
        d_fake = critic(fake)
        loss = self.critic_loss(d_real, d_fake)
        squared = losses.squared_norms(g)
        penalty = 0.5 * minigrad.mean(squared)
        xp = minigrad.backend.array_module(squared.data)
        total = loss + self.config.algorithm_options["r1_gamma"] * penalty
        return Objective(total, {"d_loss": loss, "penalty": penalty, "grad_norm": xp.sqrt(squared.data).mean()},
                         d_real, d_fake)
