"""``ebgan``: energy-based GAN with an autoencoder critic.

Zhao, Mathieu and LeCun, "Energy-based Generative Adversarial Network", ICLR 2017. The critic is an
autoencoder whose energy is its reconstruction error, D(x) = mean_j (Dec(Enc(x))_j - x_j)^2 per
sample (`wgan.models.MLPAutoencoderCritic` for MLPs, `DCGANAutoencoderCritic` for the DCGAN family).
With margin m (``ebgan_margin``):

    L_D = E[D(x)] + E[max(0, m - D(G(z)))],      L_G = E[D(G(z))] + lambda_PT f_PT(S),

where the optional pulling-away term (``ebgan_pt_weight`` = lambda_PT; the paper's EBGAN-PT uses
0.1, off by default here as in the paper's plain EBGAN) is, over the codes S_i = Enc(G(z_i)) of a
generated batch of N,

    f_PT(S) = 1 / (N (N - 1)) sum_i sum_{j != i} (S_i . S_j / (||S_i|| ||S_j||))^2.

The hinge is per sample, as the paper's L_D; PyTorch-GAN's ebgan.py applies it to the batch mean.
Low energy means real: the logged ``w_estimate`` is the energy gap E[D(G(z))] - E[D(x)].

Where the constants come from: the paper chooses m (and the learning rate) per dataset by grid search,
and its text is not among this package's references, so no paper value of m is claimed. m = 1 is the
margin of PyTorch-GAN's ebgan.py (``max(1, batch_size / 64)``), whose energy is the same mean squared
reconstruction error, for data in [-1, 1] (rescale m with the data's scale); lambda_PT = 0.1 is that
code's too, and its Adam lr 2e-4, betas (0.5, 0.999) (DCGAN's, on whose architectures the paper builds)
are the defaults here, with one critic step and batch 64. No official code of the authors is public.
``ebgan_code_dim`` sets the code size (0: 1 for 2-D points, half the features for other MLP inputs, 64
for DCGAN).

Preset ``toy``: the preset's models, batch and latent; the rest stays as above.
"""
from __future__ import annotations

import math

import minigrad
from minigrad import Tensor, nn
from wgan.algorithms.base import Algorithm, Objective, Option
from wgan.models import DCGANAutoencoderCritic, MLPAutoencoderCritic


def pulling_away(codes: Tensor, eps: float = 1e-12) -> Tensor:
    """f_PT of a batch of codes (N, K), N >= 2: the mean squared cosine similarity of distinct pairs."""
    n = codes.shape[0]
    if n < 2:
        raise ValueError(f"pulling_away: needs at least 2 codes, got {n}")
    unit = codes / minigrad.sqrt(minigrad.sum(codes * codes, axis=1, keepdims=True) + eps)
    cos = minigrad.matmul(unit, minigrad.transpose(unit, 0, 1))
    return (minigrad.sum(cos * cos) - minigrad.sum(unit * unit)) / (n * (n - 1))


class EBGAN(Algorithm):
    name = "ebgan"
    defaults = dict(optimizer="adam", lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999), n_critic=1, batch_size=64,
                    loss="margin")
    presets = {"toy": {}}
    losses = ("margin",)
    options = (
        Option("ebgan_margin", 1.0, "margin m of max(0, m - D(G(z)))", minimum=0.0, positive=True),
        Option("ebgan_pt_weight", 0.0, "weight of the pulling-away term (0: off; the paper's EBGAN-PT: 0.1)",
               minimum=0.0),
        Option("ebgan_code_dim", 0, "autoencoder code size (0: automatic)", type=int, minimum=0),
    )

    def build_critic(self, sample_shape: tuple) -> nn.Module:
        cfg = self.config
        code = cfg.algorithm_options["ebgan_code_dim"]
        if cfg.model == "dcgan":
            init = "dcgan" if cfg.init == "auto" else cfg.init
            return DCGANAutoencoderCritic(sample_shape, code or 64, cfg.base_filters, cfg.critic_norm, init)
        features = math.prod(sample_shape)
        init = "toy" if cfg.init == "auto" else cfg.init
        return MLPAutoencoderCritic(sample_shape, code or max(1, features // 2), cfg.width, cfg.depth,
                                    cfg.activation, init)

    def critic_loss(self, d_real: Tensor, d_fake: Tensor) -> Tensor:
        margin = self.config.algorithm_options["ebgan_margin"]
        return minigrad.mean(d_real) + minigrad.mean(minigrad.relu(margin - d_fake))

    def w_estimate(self, d_real, d_fake):
        return d_fake.mean() - d_real.mean()

    def generator_objective(self, critic, fake: Tensor) -> Objective:
        weight = self.config.algorithm_options["ebgan_pt_weight"]
        energy, code = critic.energy_and_code(fake)
        loss = minigrad.mean(energy)
        if weight == 0:
            return Objective(loss, {"g_loss": loss})
        pt = pulling_away(code)
        return Objective(loss + weight * pt, {"g_loss": loss, "pulling_away": pt})
