"""The gradient penalty's ops, fused: interpolated samples, per-sample gradient norms, (‖g‖ - 1)².

WGAN-GP and WGAN-LP evaluate the critic at x^ = t x + (1 - t) x~ (`convex_combination`, one kernel
on a GPU instead of five), and penalise its input gradient g (B, ...) per sample::

    n_i = sqrt(Σ_j g_ij² + eps)                 sample_norms(g, eps)    (B, ...) -> (B,)
    p_i = (n_i - 1)²,  or max(n_i - 1, 0)²      norm_penalty(n, one_sided)

As separate ops that is g·g, a sum, an add and a square root, then an add, a product and the
mean's sum and product: eight kernels forward and nine backward on a GPU. Here each line is one
Function, one kernel on CUDA (`minigrad.kernels`: a reduction for the norms, and for the penalty
with ``reduction="mean"``), and so is each gradient::

    d n_i / d g_ij = g_ij / n_i          NormGradient(g, gy, n):        g · gy / n
    d p_i / d n_i  = 2 (n_i - 1)         NormPenaltyGradient(n, gy):    gy · scale · 2 (n - 1)
                                         (one-sided: 2 max(n_i - 1, 0); scale 1/B for the mean)

The gradients are Functions whose own derivatives are written in minigrad ops (the norm's uses its
own output n), so the penalty stays differentiable to any order, as the critic's update needs.
On the CPU the wrappers run the unfused ops, so seeded CPU results do not change; the Functions
are tested against them (values and first and second derivatives).
"""
from __future__ import annotations

import math

import numpy as np

from minigrad import kernels
from minigrad.autograd import Function
from minigrad.backend import array_module, is_numpy
from minigrad.ops.elementwise import MulConst, ScaleBy, relu, sqrt
from minigrad.ops.reduce import mean
from minigrad.ops.reduce import sum as sum_
from minigrad.ops.shape import reshape, sum_to
from minigrad.tensor import Tensor, is_floating


class SampleNorms(Function):
    """n = sqrt(Σ g² + eps) over every axis of g but the first; d n / d g = g / n (`NormGradient`)."""

    def __init__(self, eps: float):
        self.eps = eps

    def forward(self, g):
        xp = array_module(g)
        if not is_numpy(xp):
            return kernels.sample_norms(g, self.eps)
        return xp.sqrt((g * g).sum(axis=tuple(range(1, g.ndim))) + self.eps)

    def backward(self, gy):
        g, n = self.inputs[0], self.outputs[0]()
        per_sample = (g.shape[0],) + (1,) * (g.ndim - 1)
        return NormGradient()(g, reshape(gy, per_sample), reshape(n, per_sample))


class NormGradient(Function):
    """gx = g · gy / n, with gy and n (B, 1, ...) broadcast over each sample: the gradient of `SampleNorms`
    in one kernel. Its own partials: g -> ggx · gy / n; gy -> Σ ggx · g / n; n -> -Σ ggx · g · gy / n²."""

    def forward(self, g, gy, n):
        xp = array_module(g)
        if not is_numpy(xp):
            return kernels.norm_gradient(g, gy, n)
        return g * (gy / n)

    def backward(self, ggx):
        g, gy, n = self.inputs
        need_g, need_gy, need_n = self.needs_input_grad
        q = sum_to(ggx * g, gy.shape) if need_gy or need_n else None
        return (ggx * (gy / n) if need_g else None, q / n if need_gy else None,
                -(q * gy) / (n * n) if need_n else None)


class NormPenaltySlope(Function):
    """s = 2 (n - 1), or 2 max(n - 1, 0): the derivative of (n - 1)² (its own is 2, or 2·[n > 1])."""

    def __init__(self, one_sided: bool):
        self.one_sided = one_sided

    def forward(self, n):
        xp = array_module(n)
        if not is_numpy(xp):
            return kernels.norm_penalty_slope(n, self.one_sided)
        e = n - 1
        return (xp.maximum(e, 0) if self.one_sided else e) * 2

    def backward(self, gs):
        return _times_slope_derivative(gs, self.inputs[0], self.one_sided, 1.0)


def _times_slope_derivative(g: Tensor, n: Tensor, one_sided: bool, scale: float) -> Tensor:
    """g · scale · s'(n): s' = 2, or 2·[n > 1] (a constant mask: its own derivative is 0)."""
    if one_sided:
        return ScaleBy((n.data > 1).astype(n.dtype) * (2 * scale))(g)
    return MulConst(2 * scale)(g)


class NormPenalty(Function):
    """p = (n - 1)², or max(n - 1, 0)², per sample (`scale` None) or summed times `scale` (mean: 1/B, sum: 1);
    d p / d n_i = gy · scale · s(n_i) (`NormPenaltyGradient`)."""

    def __init__(self, one_sided: bool, scale: float | None):
        self.one_sided, self.scale = one_sided, scale

    def forward(self, n):
        xp = array_module(n)
        if not is_numpy(xp):
            if self.scale is None:
                return kernels.norm_penalty(n, self.one_sided)
            return kernels.norm_penalty_sum(n, self.one_sided, self.scale)
        e = n - 1
        if self.one_sided:
            e = xp.maximum(e, 0)
        p = e * e
        return p if self.scale is None else p.sum() * self.scale

    def backward(self, gy):
        return NormPenaltyGradient(self.one_sided, 1.0 if self.scale is None else self.scale)(self.inputs[0], gy)


class NormPenaltyGradient(Function):
    """gn = gy · scale · s(n), gy broadcast against n (per sample, or 0-d for a reduced penalty), in one kernel;
    its partials: n -> ggn · gy · scale · s'(n); gy -> Σ ggn · scale · s(n)."""

    def __init__(self, one_sided: bool, scale: float):
        self.one_sided, self.scale = one_sided, scale

    def forward(self, n, gy):
        xp = array_module(n)
        if not is_numpy(xp):
            return kernels.norm_penalty_gradient(n, gy, self.one_sided, self.scale)
        e = n - 1
        return gy * self.scale * ((xp.maximum(e, 0) if self.one_sided else e) * 2)

    def backward(self, ggn):
        n, gy = self.inputs
        need_n, need_gy = self.needs_input_grad
        gn = _times_slope_derivative(ggn * gy, n, self.one_sided, self.scale) if need_n else None
        ggy = sum_to(MulConst(self.scale)(ggn * NormPenaltySlope(self.one_sided)(n)), gy.shape) if need_gy else None
        return gn, ggy


class ConvexCombination(Function):
    """y = t a + (1 - t) b (broadcast); d/da = t, d/db = 1 - t, d/dt = a - b, each summed to its input's shape."""

    def forward(self, t, a, b):
        return kernels.convex_combination(t, a, b)

    def backward(self, gy):
        t, a, b = self.inputs
        need_t, need_a, need_b = self.needs_input_grad
        gt = sum_to(gy * (a - b), t.shape) if need_t else None
        ga = sum_to(gy * t, a.shape) if need_a else None
        gb = sum_to(gy * (1 - t), b.shape) if need_b else None
        return gt, ga, gb


def convex_combination(a: Tensor, b: Tensor, t: Tensor) -> Tensor:
    """t a + (1 - t) b, broadcast: WGAN-GP's x^ = eps x + (1 - eps) x~ with a, b (B, ...) and t (B, 1, ...).

    One kernel on a GPU; on the CPU the unfused ops ``t * a + (1 - t) * b``.
    """
    for name, x in (("a", a), ("b", b), ("t", t)):
        if not isinstance(x, Tensor):
            raise TypeError(f"convex_combination: {name} must be a Tensor, got {type(x).__name__}")
        if not is_floating(x.dtype):
            raise ValueError(f"convex_combination: {name} must be floating, got {x.dtype}")
    if len({a.dtype, b.dtype, t.dtype}) != 1 or len({a.device, b.device, t.device}) != 1:
        raise ValueError(f"convex_combination: a, b and t must share a dtype and a device, got "
                         f"{a.dtype}/{a.device}, {b.dtype}/{b.device}, {t.dtype}/{t.device}")
    try:
        shape = np.broadcast_shapes(t.shape, a.shape, b.shape)
    except ValueError:
        raise ValueError(f"convex_combination: shapes a {a.shape}, b {b.shape} and t {t.shape} do not "
                         "broadcast together") from None
    if a.device == "cpu" or len(shape) == 0:
        return t * a + (1 - t) * b
    return ConvexCombination()(t, a, b)


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


def norm_penalty(norms: Tensor, one_sided: bool = False, reduction: str = "none") -> Tensor:
    """(n - 1)² per sample (WGAN-GP), or max(n - 1, 0)² with `one_sided` (WGAN-LP), for norms n (B,);
    `reduction` "mean" or "sum" reduces over the batch, as PyTorch's losses do.

    One kernel on a GPU (with the reduction); on the CPU the unfused ops
    ``e = n - 1.0; (relu(e) if one_sided else e) ** 2`` and then ``mean``/``sum``.
    """
    if not isinstance(norms, Tensor):
        raise TypeError(f"norm_penalty: norms must be a Tensor, got {type(norms).__name__}")
    if norms.ndim != 1 or not is_floating(norms.dtype) or norms.shape[0] == 0:
        raise ValueError(f"norm_penalty: expected floating per-sample norms of shape (B,), B > 0, got "
                         f"{norms.dtype} {norms.shape}")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"norm_penalty: reduction must be 'none', 'mean' or 'sum', got {reduction!r}")
    if norms.device == "cpu":
        excess = norms - 1.0
        if one_sided:
            excess = relu(excess)
        penalty = excess * excess
        return penalty if reduction == "none" else mean(penalty) if reduction == "mean" else sum_(penalty)
    scale = None if reduction == "none" else 1.0 / norms.shape[0] if reduction == "mean" else 1.0
    return NormPenalty(bool(one_sided), scale)(norms)
