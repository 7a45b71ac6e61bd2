"""Reductions: sum, mean, var, max, min, logsumexp over `axis` with `keepdims`."""
from __future__ import annotations

import math

import numpy as np

from minigrad import kernels
from minigrad.autograd import Function
from minigrad.backend import array_module
from minigrad.ops.common import normalize_axis
from minigrad.ops.elementwise import MulConst, ScaleBy, exp, log
from minigrad.ops.shape import broadcast_to, reshape
from minigrad.tensor import Tensor
from minigrad.types import Axis


def _keepdims_shape(shape: tuple, axes: tuple | None) -> tuple:
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _expand_back(gy: Tensor, x_shape: tuple, axes, keepdims: bool) -> Tensor:
    """Broadcast a reduced gradient back to the input's shape."""
    if not keepdims:
        gy = reshape(gy, _keepdims_shape(x_shape, axes))
    return broadcast_to(gy, x_shape)


class Sum(Function):
    def __init__(self, axes, keepdims: bool):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x):
        return x.sum(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        return _expand_back(gy, self.inputs[0].shape, self.axes, self.keepdims)


class Mean(Function):
    """sum(x) · scale (scale = 1/count) as one reduction kernel, for floating x on a GPU; its gradient is
    the unfused mean's, ``broadcast(gy · scale)`` (`mean` runs Sum and the product on the CPU)."""

    def __init__(self, axes, keepdims: bool, scale: float):
        self.axes, self.keepdims, self.scale = axes, keepdims, scale

    def forward(self, x):
        return kernels.scaled_sum(x, self.scale, self.axes, self.keepdims)

    def backward(self, gy):
        return _expand_back(MulConst(self.scale)(gy), self.inputs[0].shape, self.axes, self.keepdims)


class _Extremum(Function):
    """max or min; the gradient is split evenly among tied extreme elements."""

    def __init__(self, axes, keepdims: bool):
        self.axes, self.keepdims = axes, keepdims

    def backward(self, gy):
        x, y = self.inputs[0], self.outputs[0]()
        hits = x.data == y.data.reshape(_keepdims_shape(x.shape, self.axes))
        share = hits / hits.sum(axis=self.axes, keepdims=True)
        return ScaleBy(share.astype(x.dtype))(_expand_back(gy, x.shape, self.axes, self.keepdims))


class Max(_Extremum):
    def forward(self, x):
        return x.max(axis=self.axes, keepdims=self.keepdims)


class Min(_Extremum):
    def forward(self, x):
        return x.min(axis=self.axes, keepdims=self.keepdims)


def _check_nonempty(x: Tensor, axes, op: str) -> None:
    sizes = x.shape if axes is None else [x.shape[a] for a in axes]
    if any(s == 0 for s in sizes):
        raise ValueError(f"{op}: cannot reduce over an empty axis (shape {x.shape}, axis {axes})")


def sum(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    return Sum(normalize_axis(axis, x.ndim, "sum"), keepdims)(x)


def mean(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    axes = normalize_axis(axis, x.ndim, "mean")
    _check_nonempty(x, axes, "mean")
    count = x.size if axes is None else int(math.prod(x.shape[a] for a in axes))
    if x.device != "cpu" and x.dtype in (np.float32, np.float64) and axes != ():  # one kernel on a GPU
        return Mean(axes, keepdims, 1.0 / count)(x)
    return Sum(axes, keepdims)(x) * (1.0 / count)


def var(x: Tensor, axis: Axis = None, keepdims: bool = False, correction: int = 1) -> Tensor:
    """Variance with PyTorch's default Bessel correction (divide by n - correction)."""
    axes = normalize_axis(axis, x.ndim, "var")
    _check_nonempty(x, axes, "var")
    count = x.size if axes is None else int(math.prod(x.shape[a] for a in axes))
    if count - correction <= 0:
        raise ValueError(f"var: {count} elements with correction {correction} leave no degrees of freedom")
    centered = x - mean(x, axes, keepdims=True)
    return Sum(axes, keepdims)(centered * centered) * (1.0 / (count - correction))


def max(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    axes = normalize_axis(axis, x.ndim, "max")
    _check_nonempty(x, axes, "max")
    return Max(axes, keepdims)(x)


def min(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    axes = normalize_axis(axis, x.ndim, "min")
    _check_nonempty(x, axes, "min")
    return Min(axes, keepdims)(x)


def logsumexp(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """log(sum(exp(x))) computed stably by shifting by the (constant) max."""
    axes = normalize_axis(axis, x.ndim, "logsumexp")
    _check_nonempty(x, axes, "logsumexp")
    xp = array_module(x.data)
    shift = x.data.max(axis=axes, keepdims=True)
    shift = xp.where(xp.isfinite(shift), shift, 0)
    shift_t = Tensor._make(shift)
    out = log(Sum(axes, True)(exp(x - shift_t))) + shift_t
    if not keepdims:
        out = reshape(out, tuple(s for i, s in enumerate(x.shape) if axes is not None and i not in axes))
    return out
