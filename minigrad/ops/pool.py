"""Pooling and nearest upsampling over the last two axes of (N, C, H, W) tensors.

Average and max pooling are linear in their input once the max positions are fixed, so
each forward has a companion gradient Function and the two are each other's backward:
second derivatives are exact (zero through the max selection, as in PyTorch).
"""
from __future__ import annotations

import math
from collections.abc import Sequence

from minigrad.autograd import Function
from minigrad.backend import array_module
from minigrad.ops.shape import broadcast_to, getitem, reshape, squeeze, unsqueeze
from minigrad.ops.window import (Pair, as_pair, crop_hw, fold, output_size, pad_hw, spatial_first, spatial_last,
                                 windows)
from minigrad.tensor import Tensor
from minigrad.types import IntPair


class PoolGeometry:
    """Kernel, stride, padding, dilation (pairs) and the input and output sizes of a pooling."""

    def __init__(self, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair, in_hw: Pair):
        self.kernel, self.stride, self.padding, self.dilation = kernel, stride, padding, dilation
        self.in_hw = tuple(in_hw)
        oh, ow = (output_size(in_hw[a], kernel[a], stride[a], padding[a], dilation[a]) for a in (0, 1))
        self.out_hw = (oh, ow)
        self.padded_hw = (in_hw[0] + 2 * padding[0], in_hw[1] + 2 * padding[1])

    def windows(self, x, fill: float):
        """The (OH, OW, kh, kw, N, C) windows of x (N, C, H, W) padded with `fill`."""
        xpad = pad_hw(spatial_first(x), self.padding, fill)
        return windows(xpad, self.kernel, self.stride, self.dilation, self.out_hw)

    def flat_windows(self, x, fill: float):
        """The windows as (OH, OW, kh kw, N, C) (a copy)."""
        n, c = x.shape[:2]
        return self.windows(x, fill).reshape(self.out_hw + (self.kernel[0] * self.kernel[1], n, c))

    def fold(self, col):
        """col (OH, OW, kh, kw, N, C) summed back into an (N, C, H, W) input gradient."""
        return spatial_last(crop_hw(fold(col, self.padded_hw, self.stride, self.dilation), self.padding))


class AvgPool2d(Function):
    """y[n, c, p, q] = mean over the kh x kw window at (p sh, q sw) of the zero-padded x."""

    def __init__(self, geo: PoolGeometry):
        self.geo = geo

    def forward(self, x):
        return spatial_last(self.geo.windows(x, 0.0).sum(axis=(2, 3))) * (1.0 / math.prod(self.geo.kernel))

    def backward(self, gy):
        return AvgPool2dGrad(self.geo)(gy)


class AvgPool2dGrad(Function):
    """The adjoint of AvgPool2d: each gy element spread evenly over its window."""

    def __init__(self, geo: PoolGeometry):
        self.geo = geo

    def forward(self, gy):
        kh, kw = self.geo.kernel
        share = spatial_first(gy) * (1.0 / (kh * kw))  # (OH, OW, N, C)
        spread = array_module(gy).broadcast_to(share[:, :, None, None], share.shape[:2] + (kh, kw) + share.shape[2:])
        return self.geo.fold(spread)

    def backward(self, ggx):
        return AvgPool2d(self.geo)(ggx)


class MaxPool2d(Function):
    """y = the max of each window of the (-inf)-padded x; the first maximum wins ties, as in PyTorch."""

    def __init__(self, geo: PoolGeometry):
        self.geo = geo

    def forward(self, x):
        flat = self.geo.flat_windows(x, -float("inf"))
        self.index = flat.argmax(axis=2)  # (OH, OW, N, C)
        return spatial_last(array_module(x).take_along_axis(flat, self.index[:, :, None], axis=2)[:, :, 0])

    def backward(self, gy):
        return MaxPool2dScatter(self.geo, self.index)(gy)


def _onehot(index, kk: int, dtype):
    """(OH, OW, kk, N, C) with 1 at each window's selected position."""
    xp = array_module(index)
    return (index[:, :, None] == xp.arange(kk).reshape(1, 1, kk, 1, 1)).astype(dtype)


class MaxPool2dScatter(Function):
    """gx: each gy element sent to its window's max position (repeats add up). Linear in gy."""

    def __init__(self, geo: PoolGeometry, index):
        self.geo, self.index = geo, index

    def forward(self, gy):
        kh, kw = self.geo.kernel
        g = spatial_first(gy)  # (OH, OW, N, C)
        col = g[:, :, None] * _onehot(self.index, kh * kw, gy.dtype)
        return self.geo.fold(col.reshape(g.shape[:2] + (kh, kw) + g.shape[2:]))

    def backward(self, ggx):
        return MaxPool2dGather(self.geo, self.index)(ggx)


class MaxPool2dGather(Function):
    """The adjoint of MaxPool2dScatter: each window's value at the stored max position."""

    def __init__(self, geo: PoolGeometry, index):
        self.geo, self.index = geo, index

    def forward(self, x):
        flat = self.geo.flat_windows(x, 0.0)
        return spatial_last(array_module(x).take_along_axis(flat, self.index[:, :, None], axis=2)[:, :, 0])

    def backward(self, ggy):
        return MaxPool2dScatter(self.geo, self.index)(ggy)


# ----------------------------------------------------------------------------- wrappers
def _pool_geometry(op: str, x: Tensor, kernel_size, stride, padding, dilation=1) -> PoolGeometry:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(x).__name__}")
    if x.ndim != 4:
        raise ValueError(f"{op}: expected a 4-D input (N, C, H, W) or a 3-D one (C, H, W), got shape {x.shape}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input, got dtype {x.dtype}")
    kernel = as_pair(kernel_size, "kernel_size", op)
    stride = kernel if stride is None or stride == () else as_pair(stride, "stride", op)
    padding, dilation = as_pair(padding, "padding", op), as_pair(dilation, "dilation", op)
    if min(kernel) <= 0 or min(stride) <= 0 or min(dilation) <= 0:
        raise ValueError(f"{op}: kernel_size {kernel}, stride {stride} and dilation {dilation} must be positive")
    if min(padding) < 0 or any(2 * p > k for p, k in zip(padding, kernel)):
        raise ValueError(f"{op}: padding {padding} must be non-negative and at most half of kernel_size {kernel}")
    for a in (0, 1):
        span = dilation[a] * (kernel[a] - 1) + 1
        if span > x.shape[2 + a] + 2 * padding[a]:
            raise ValueError(f"{op}: kernel {kernel} (dilation {dilation}) is larger than the padded input "
                             f"(input {x.shape}, padding {padding})")
    return PoolGeometry(kernel, stride, padding, dilation, (x.shape[2], x.shape[3]))


def avg_pool2d(input: Tensor, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0) -> Tensor:
    """Average pooling as torch.nn.functional.avg_pool2d (zero padding counts in the mean).

    (N, C, H, W) -> (N, C, OH, OW), OH = floor((H + 2 padding - kh) / stride) + 1;
    stride defaults to kernel_size. An unbatched (C, H, W) input gives (C, OH, OW).
    """
    if isinstance(input, Tensor) and input.ndim == 3:
        return squeeze(avg_pool2d(unsqueeze(input, 0), kernel_size, stride, padding), 0)
    return AvgPool2d(_pool_geometry("avg_pool2d", input, kernel_size, stride, padding))(input)


def max_pool2d(input: Tensor, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0,
               dilation: IntPair = 1) -> Tensor:
    """Max pooling as torch.nn.functional.max_pool2d (padding is -inf, never selected).

    (N, C, H, W) -> (N, C, OH, OW), OH = floor((H + 2 padding - dilation (kh - 1) - 1) / stride) + 1.
    An unbatched (C, H, W) input gives (C, OH, OW).
    """
    if isinstance(input, Tensor) and input.ndim == 3:
        return squeeze(max_pool2d(unsqueeze(input, 0), kernel_size, stride, padding, dilation), 0)
    return MaxPool2d(_pool_geometry("max_pool2d", input, kernel_size, stride, padding, dilation))(input)


def interpolate(input: Tensor, size: IntPair | None = None, scale_factor: float | tuple[float, float] | None = None,
                mode: str = "nearest") -> Tensor:
    """Nearest-neighbour resizing of (N, C, H, W) as torch.nn.functional.interpolate(mode="nearest").

    Give the output `size` (int or pair) or a `scale_factor` (number or pair); output pixel
    (p, q) copies input pixel (floor(p H / OH), floor(q W / OW)) (floor(p / scale) with a
    scale_factor). Integer factors are a broadcast and reshape; the gradient sums each block.
    """
    op = "interpolate"
    if mode != "nearest":
        raise ValueError(f"{op}: only mode='nearest' is supported, got {mode!r}")
    if not isinstance(input, Tensor) or input.ndim != 4:
        raise ValueError(f"{op}: expected a 4-D Tensor (N, C, H, W), got {getattr(input, 'shape', type(input))}")
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{op}: give exactly one of size and scale_factor")
    n, c, h, w = input.shape
    if size is not None:
        out = as_pair(size, "size", op)
        steps: list[float | None] = [None, None]
    else:
        assert scale_factor is not None  # exactly one of size and scale_factor was given
        factors: Sequence[float] = (scale_factor if isinstance(scale_factor, (tuple, list))
                                    else (scale_factor, scale_factor))
        if len(factors) != 2 or any(f <= 0 for f in factors):
            raise ValueError(f"{op}: scale_factor must be positive (one number or a pair), got {scale_factor!r}")
        out = (math.floor(h * factors[0]), math.floor(w * factors[1]))
        steps = [1.0 / f for f in factors]
    if min(out) <= 0:
        raise ValueError(f"{op}: output size {out} must be positive (input {input.shape})")
    if out[0] % h == 0 and out[1] % w == 0:
        sh, sw = out[0] // h, out[1] // w
        blocks = broadcast_to(reshape(input, (n, c, h, 1, w, 1)), (n, c, h, sh, w, sw))
        return reshape(blocks, (n, c) + out)
    xp = array_module(input.data)
    rows, cols = (xp.minimum(xp.floor(xp.arange(o) * (step if step else i / o)).astype(xp.int64), i - 1)
                  for o, i, step in ((out[0], h, steps[0]), (out[1], w, steps[1])))
    return getitem(input, (slice(None), slice(None), rows[:, None], cols[None, :]))


def upsample(input: Tensor, size: IntPair | None = None, scale_factor: float | tuple[float, float] | None = None,
             mode: str = "nearest") -> Tensor:
    """torch.nn.functional.upsample: the same as `interpolate`."""
    return interpolate(input, size, scale_factor, mode)
