"""Critic and generator losses, the gradient penalties and weight clipping.

Sign convention (as the papers): the critic *maximises* E[D(x)] - E[D(G(z))], so its loss
is ``E[D(G(z))] - E[D(x)]``; the generator minimises ``-E[D(G(z))]``. The critic's
estimate of W1 is ``E[D(x)] - E[D(G(z))]`` (minus the official code's ``Loss_D``).

=========  =====================================================  ==============================
loss       critic loss                                            generator loss
=========  =====================================================  ==============================
wgan       E[D(G(z))] - E[D(x)]                                    -E[D(G(z))]
hinge      E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]                -E[D(G(z))]
gan        E[softplus(-D(x))] + E[softplus(D(G(z)))]  (BCE)        E[softplus(-D(G(z)))] (non-saturating)
=========  =====================================================  ==============================
"""
from __future__ import annotations

import warnings
from collections.abc import Callable

import minigrad
import minigrad.functional as F
from minigrad import Tensor


def _wgan_critic(d_real: Tensor, d_fake: Tensor) -> Tensor:
    return minigrad.mean(d_fake) - minigrad.mean(d_real)


def _hinge_critic(d_real: Tensor, d_fake: Tensor) -> Tensor:
    return minigrad.mean(minigrad.relu(1.0 - d_real)) + minigrad.mean(minigrad.relu(1.0 + d_fake))


def _gan_critic(d_real: Tensor, d_fake: Tensor) -> Tensor:
    return minigrad.mean(minigrad.softplus(-d_real)) + minigrad.mean(minigrad.softplus(d_fake))


def _wgan_generator(d_fake: Tensor) -> Tensor:
    return -minigrad.mean(d_fake)


def _gan_generator(d_fake: Tensor) -> Tensor:
    return minigrad.mean(minigrad.softplus(-d_fake))


#: loss name -> (critic loss(d_real, d_fake), generator loss(d_fake)), as the table above.
LOSS_FUNCTIONS: dict[str, tuple[Callable[[Tensor, Tensor], Tensor], Callable[[Tensor], Tensor]]] = {
    "wgan": (_wgan_critic, _wgan_generator),
    "hinge": (_hinge_critic, _wgan_generator),
    "gan": (_gan_critic, _gan_generator),
}
LOSSES = tuple(LOSS_FUNCTIONS)


def _loss_pair(kind: str, where: str):
    if kind not in LOSS_FUNCTIONS:
        raise ValueError(f"{where}: unknown loss {kind!r} (expected 'wgan', 'hinge' or 'gan')")
    return LOSS_FUNCTIONS[kind]


def critic_loss(kind: str, d_real: Tensor, d_fake: Tensor) -> Tensor:
    """The critic's (discriminator's) loss from its outputs on real and generated batches."""
    return _loss_pair(kind, "critic_loss")[0](d_real, d_fake)


def generator_loss(kind: str, d_fake: Tensor) -> Tensor:
    """The generator's loss from the critic's outputs on generated samples."""
    return _loss_pair(kind, "generator_loss")[1](d_fake)


def input_leaf(x: Tensor) -> Tensor:
    """A new leaf holding x's values that requires grad: the point a penalty differentiates D at
    (the batch it came from stays a constant, as in the papers)."""
    return x.detach().requires_grad_(True)


def interpolate(real: Tensor, fake: Tensor, eps: Tensor) -> Tensor:
    """x^ = eps x + (1 - eps) x~ with one eps per sample (eps has shape (B, 1, ..., 1)).

    Returned as a new leaf that requires grad (the penalty differentiates D at x^; real
    and fake are constants here, as in the papers).
    """
    if eps.shape[0] != real.shape[0] or eps.size != real.shape[0]:
        raise ValueError(f"interpolate: eps must hold one value per sample, got shape {eps.shape} "
                         f"for a batch of shape {real.shape}")
    if real.shape != fake.shape:
        raise ValueError(f"interpolate: real {real.shape} and fake {fake.shape} batches differ in shape")
    with minigrad.no_grad():
        if eps.dtype == real.dtype == fake.dtype:
            x = F.convex_combination(real, fake, eps)  # one kernel on a GPU, these ops on the CPU
        else:
            x = (eps * real + (1.0 - eps) * fake).to(dtype=real.dtype)
    return x.requires_grad_(True)


def input_gradient(critic: Callable[[Tensor], Tensor], x: Tensor) -> tuple[Tensor, Tensor]:
    """(D(x), grad_x D(x)): the gradient of each sample's score with respect to that sample, shape
    x.shape, taken with ``create_graph=True`` so that a penalty on it is differentiable in the
    critic's weights. `x` must be a leaf that requires grad (`input_leaf`, `interpolate`)."""
    out = critic(x)
    ones = minigrad.ones_like(out)
    (g,) = minigrad.grad(out, x, grad_outputs=ones, create_graph=True)
    return out, g


def squared_norms(g: Tensor) -> Tensor:
    """||g_i||_2^2 per sample over every non-batch axis (a (B, C, H, W) gradient is one vector per
    sample, not one per pixel): shape (B,)."""
    return minigrad.sum(g * g, axis=tuple(range(1, g.ndim)))


def gradient_penalty(critic: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor, eps: Tensor,
                     one_sided: bool = False, sqrt_eps: float = 1e-12) -> tuple[Tensor, Tensor]:
    """The WGAN-GP penalty E[(||grad D(x^)||_2 - 1)^2] (or WGAN-LP's E[max(0, ||.|| - 1)^2]).

    x^ = eps x + (1 - eps) x~ per sample; the norm runs over every non-batch axis of the
    gradient (`squared_norms`), as sqrt(sum g^2 + sqrt_eps) so its derivative stays finite at
    g = 0. The penalty is differentiable in the critic's weights (`input_gradient`).
    Returns (penalty, per-sample norms).
    """
    _, g = input_gradient(critic, interpolate(real, fake, eps))
    norms = F.sample_norms(g, sqrt_eps)  # fused on a GPU (one kernel each); the unfused ops on the CPU
    return F.norm_penalty(norms, one_sided, reduction="mean"), norms


def check_penalizable(critic) -> None:
    """Refuse a critic holding batch norm: it couples the samples the penalty treats one by one."""
    for module in critic.modules():
        if "BatchNorm" in type(module).__name__:
            raise ValueError(
                f"gradient penalty: the critic contains {type(module).__name__}, which makes each output depend "
                "on the whole batch, while the penalty constrains the gradient per sample (Gulrajani et al. "
                "2017, section 4). Use layer norm (critic_norm='layernorm') or no normalisation."
            )


def warn_if_batchnorm_critic(critic) -> None:
    """Warn that a penalised critic holds batch norm, as the user insisted on (called once per run)."""
    kinds = sorted({type(m).__name__ for m in critic.modules() if "BatchNorm" in type(m).__name__})
    if kinds:
        warnings.warn(f"gradient penalty with a batch-normalised critic ({', '.join(kinds)}), as "
                      "allow_batchnorm_critic=True asks: the penalty is per sample, while batch norm makes each output "
                      "depend on the whole batch, so the penalised gradient is not the critic's per-sample gradient "
                      "(Gulrajani et al. 2017, section 4, recommend layer norm)", UserWarning, stacklevel=3)


def clip_parameters_(module, c: float) -> None:
    """Clamp every parameter of `module` (weights, biases, norm scales) to [-c, c] in place
    (one call per flat parameter buffer)."""
    minigrad.nn.utils.clamp_parameters_(module, -c, c)
