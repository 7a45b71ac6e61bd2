"""The gradient penalty's tail as fused ops: per-sample norms of a gradient and (‖g‖ - 1)².

WGAN-GP, WGAN-LP and DRAGAN penalise a critic's input gradient g (B, ...) per sample::

    n_i = sqrt(Σ_j g_ij² + eps)                 sample_norms(g, eps)    (B, ...) -> (B,)
    p_i = (n_i - 1)²,  or max(n_i - 1, 0)²      norm_penalty(n, one_sided)

As separate ops that is g·g, a sum, an add and a square root, then an add and a product: six
kernels forward and seven backward on a GPU. Here each line is one Function: on CUDA
`sample_norms` is one reduction kernel and `norm_penalty` one elementwise kernel
(`minigrad.kernels`), and their gradients are two ops each::

    d n_i / d g_ij = g_ij / n_i          ->  g · reshape(gy / n, (B, 1, ...))
    d p_i / d n_i  = 2 (n_i - 1)         ->  gy · slope(n)     (one-sided: 2 max(n_i - 1, 0))

written in minigrad ops (the norm uses its own output n, the slope is a Function whose derivative
is 2, or 2·[n > 1]), so the penalty stays differentiable to any order, as the critic's update
needs. On the CPU the wrappers run the unfused ops, so seeded CPU results do not change; the
Functions are tested against them (values and first and second derivatives).
"""
from __future__ import annotations

import math

import numpy as np

from minigrad import kernels
from minigrad.autograd import Function
from minigrad.backend import array_module
from minigrad.ops.elementwise import MulConst, ScaleBy, relu, sqrt
from minigrad.ops.reduce import sum as sum_
from minigrad.ops.shape import reshape
from minigrad.tensor import Tensor, is_floating


class SampleNorms(Function):
    """n = sqrt(Σ g² + eps) over every axis of g but the first; d n / d g = g / n."""

    def __init__(self, eps: float):
        self.eps = eps

    def forward(self, g):
        xp = array_module(g)
        if xp is not np:
            return kernels.sample_norms(g, self.eps)
        return xp.sqrt((g * g).sum(axis=tuple(range(1, g.ndim))) + self.eps)

    def backward(self, gy):
        g, n = self.inputs[0], self.outputs[0]()
        return g * reshape(gy / n, (g.shape[0],) + (1,) * (g.ndim - 1))


class NormPenaltySlope(Function):
    """s = 2 (n - 1), or 2 max(n - 1, 0): the derivative of `NormPenalty` (its own is 2, or 2·[n > 1])."""

    def __init__(self, one_sided: bool):
        self.one_sided = one_sided

    def forward(self, n):
        xp = array_module(n)
        if xp is not np:
            return kernels.norm_penalty_slope(n, self.one_sided)
        e = n - 1
        return (xp.maximum(e, 0) if self.one_sided else e) * 2

    def backward(self, gs):
        if self.one_sided:
            n = self.inputs[0].data
            return ScaleBy((n > 1).astype(n.dtype) * 2)(gs)
        return MulConst(2)(gs)


class NormPenalty(Function):
    """p = (n - 1)², or max(n - 1, 0)²; d p / d n = `NormPenaltySlope`."""

    def __init__(self, one_sided: bool):
        self.one_sided = one_sided

    def forward(self, n):
        xp = array_module(n)
        if xp is not np:
            return kernels.norm_penalty(n, self.one_sided)
        e = n - 1
        if self.one_sided:
            e = xp.maximum(e, 0)
        return e * e

    def backward(self, gy):
        return gy * NormPenaltySlope(self.one_sided)(self.inputs[0])


def sample_norms(g: Tensor, eps: float = 0.0) -> Tensor:
    """The L2 norm of each sample of g (B, ...) over all its other axes, sqrt(Σ g² + eps): shape (B,).

    `eps` inside the square root keeps the derivative g / n finite at g = 0 (WGAN-GP's 1e-12).
    One kernel on a GPU; on the CPU the unfused ops ``sqrt(sum(g * g, axes) + eps)``.
    """
    if not isinstance(g, Tensor):
        raise TypeError(f"sample_norms: g must be a Tensor, got {type(g).__name__}")
    if g.ndim < 1 or not is_floating(g.dtype):
        raise ValueError(f"sample_norms: expected a floating gradient of shape (B, ...), got {g.dtype} {g.shape}")
    if not (isinstance(eps, (int, float)) and math.isfinite(eps) and eps >= 0):
        raise ValueError(f"sample_norms: eps must be a finite number >= 0, got {eps!r}")
    if g.device == "cpu" or g.ndim == 1:
        return sqrt(sum_(g * g, axis=tuple(range(1, g.ndim))) + eps)
    return SampleNorms(float(eps))(g)


def norm_penalty(norms: Tensor, one_sided: bool = False) -> Tensor:
    """(n - 1)² per sample (WGAN-GP), or max(n - 1, 0)² with `one_sided` (WGAN-LP), for norms n (B,).

    One kernel on a GPU; on the CPU the unfused ops ``e = n - 1.0; (relu(e) if one_sided else e) ** 2``.
    """
    if not isinstance(norms, Tensor):
        raise TypeError(f"norm_penalty: norms must be a Tensor, got {type(norms).__name__}")
    if norms.ndim != 1 or not is_floating(norms.dtype):
        raise ValueError(f"norm_penalty: expected floating per-sample norms of shape (B,), got "
                         f"{norms.dtype} {norms.shape}")
    if norms.device == "cpu":
        excess = norms - 1.0
        if one_sided:
            excess = relu(excess)
        return excess * excess
    return NormPenalty(bool(one_sided))(norms)
