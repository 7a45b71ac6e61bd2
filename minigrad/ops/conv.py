"""2-D convolution and transposed convolution, differentiable to any order.

Three bilinear Functions call each other in their backward passes (Chainer's pattern):

* `Conv2dFunction`           y  = conv2d(x, W)             x (N, C, H, W), W (O, C/G, kh, kw)
* `ConvTranspose2dFunction`  x' = conv_transpose2d(g, W)   the adjoint of conv2d in x
* `ConvGradW`                gW = ∂<g, conv2d(x, W)>/∂W    a correlation of x with g

conv2d's input gradient is conv_transpose2d(gy, W), its weight gradient ConvGradW(x, gy);
conv_transpose2d's are conv2d(gy, W) and ConvGradW(gy, x); ConvGradW's backward takes the
gradient ggW it receives to conv_transpose2d(gy, ggW) for x and conv2d(x, ggW) for gy. So
every second (and higher) derivative is exact.

Each forward is im2col (a strided view copied once) and ONE GEMM (batched over groups),
or a GEMM and col2im (one strided add per kernel offset). Outputs are kept physically
spatial-first, (H, W, N, C) in memory viewed as (N, C, H, W): the next layer's GEMM
operand (H W N, C) is then a free reshape, and im2col/col2im move contiguous N x C blocks.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from minigrad.autograd import Function
from minigrad.backend import array_module
from minigrad.ops.reduce import sum as _sum
from minigrad.ops.shape import pad, squeeze, unsqueeze
from minigrad.ops.window import Pair, as_pair, crop_hw, fold, output_size, pad_hw, spatial_first, spatial_last, windows
from minigrad.tensor import Tensor
from minigrad.types import IntPair


@dataclass(frozen=True)
class ConvGeometry:
    """Stride, padding, dilation (pairs) and groups of a convolution."""

    stride: Pair
    padding: Pair
    dilation: Pair
    groups: int

    def out_hw(self, hw: Pair, kernel: Pair) -> Pair:
        h, w = (output_size(hw[a], kernel[a], self.stride[a], self.padding[a], self.dilation[a]) for a in (0, 1))
        return h, w


# ----------------------------------------------------------------------------- array kernels
def im2col(x, kernel: Pair, geo: ConvGeometry, out_hw: Pair):
    """x (N, C, H, W) -> contiguous col (OH OW N, G, C/G kh kw): col[p, g, (i, j, c)] = xpad[n, g C/G + c, ...]."""
    n, c = x.shape[:2]
    g = geo.groups
    xpad = pad_hw(spatial_first(x), geo.padding)  # (Hp, Wp, N, C)
    view = windows(xpad.reshape(xpad.shape[:3] + (g, c // g)), kernel, geo.stride, geo.dilation, out_hw)
    col = array_module(x).ascontiguousarray(view.transpose(0, 1, 4, 5, 2, 3, 6))  # (OH, OW, N, G, kh, kw, C/G)
    return col.reshape(out_hw[0] * out_hw[1] * n, g, -1)


def _rows(x, groups: int):
    """x (N, C, H, W) as the matrix (H W N, G, C/G); free when x is spatial-first in memory."""
    h, w, n, c = spatial_first(x).shape
    return spatial_first(x).reshape(h * w * n, groups, c // groups)


def _grouped_matmul(a, b):
    """a (P, G, K) @ b (G, K, M) -> (P, G, M): one GEMM, or one batched GEMM over the groups."""
    xp = array_module(a)
    if a.shape[1] == 1:
        return xp.matmul(a[:, 0], b[0])[:, None]
    return xp.matmul(a.transpose(1, 0, 2), b).transpose(1, 0, 2)


def conv_forward(col, w, out_hw: Pair, n: int):
    """y (OH, OW, N, O) = col (P, G, kh kw C/G) @ W (G, kh kw C/G, O/G).

    W is laid out (G, O/G, kh kw C/G) (a cheap per-row copy) and used transposed by the GEMM.
    """
    o, cg, kh, kw = w.shape
    g = col.shape[1]
    wm = w.reshape(g, o // g, cg, kh, kw).transpose(0, 1, 3, 4, 2).reshape(g, o // g, kh * kw * cg)
    return _grouped_matmul(col, wm.transpose(0, 2, 1)).reshape(out_hw[0], out_hw[1], n, o)


def conv_transpose_forward(x, w, geo: ConvGeometry, out_hw: Pair):
    """The adjoint of conv2d in its input: x (N, Cin, H, W), W (Cin, Cout/G, kh, kw) -> (OH, OW, N, Cout).

    col (H W N, G, kh kw Cout/G) = x @ W, then col2im into the padded output and crop.
    """
    n, cin, h, w_ = x.shape
    _, cout_g, kh, kw = w.shape
    g = geo.groups
    wm = w.reshape(g, cin // g, cout_g, kh, kw).transpose(0, 1, 3, 4, 2).reshape(g, cin // g, -1)
    col = _grouped_matmul(_rows(x, g), wm).reshape(h, w_, n, g, kh, kw, cout_g)
    padded = (out_hw[0] + 2 * geo.padding[0], out_hw[1] + 2 * geo.padding[1])
    y = fold(col.transpose(0, 1, 4, 5, 2, 3, 6), padded, geo.stride, geo.dilation)  # (Hp, Wp, N, G, Cout/G)
    return crop_hw(y.reshape(padded + (n, g * cout_g)), geo.padding)


def weight_grad(col, gy, kernel: Pair):
    """gW (O, C/G, kh, kw) from gWᵀ (G, O/G, kh kw C/G) = gyᵀ (G, O/G, P) @ col (G, P, kh kw C/G)."""
    g = col.shape[1]
    o = gy.shape[1]
    gym = _rows(gy, g)  # (P, G, O/G)
    gwt = array_module(gy).matmul(gym.transpose(1, 2, 0), col.transpose(1, 0, 2))
    kh, kw = kernel
    return gwt.reshape(o, kh, kw, -1).transpose(0, 3, 1, 2)


# ----------------------------------------------------------------------------- Functions
def _with_bias_grad(fn: Function, gx, gw, gy):
    """(gx, gw), plus the bias gradient Σ_{n,p,q} gy when the conv was called with a bias."""
    if len(fn.inputs) == 2:
        return gx, gw
    return gx, gw, (_sum(gy, axis=(0, 2, 3)) if fn.needs_input_grad[2] else None)


class Conv2dFunction(Function):
    """y = conv2d(x, W) + b: x (N, C, H, W), W (O, C/G, kh, kw), b (O,) -> y (N, O, OH, OW).

    y[n, o, p, q] = b[o] + Σ_{c, i, j} W[o, c, i, j] xpad[n, g(o) C/G + c, p sh + i dh, q sw + j dw].
    `out_hw` keeps only the first output rows and columns (the adjoint of a conv_transpose2d
    whose output_padding is at least its stride); by default the full output.
    """

    def __init__(self, geo: ConvGeometry, out_hw: Pair | None = None):
        self.geo, self.out_hw = geo, out_hw

    def forward(self, x, w, b=None):
        kernel = w.shape[2:]
        out_hw = self.out_hw or self.geo.out_hw(x.shape[2:], kernel)
        self.col = col = im2col(x, kernel, self.geo, out_hw)  # reused by the weight gradient
        y = conv_forward(col, w, out_hw, x.shape[0])
        if b is not None:
            y += b
        return spatial_last(y)

    def backward(self, gy):
        x, w = self.inputs[:2]
        need = self.needs_input_grad
        gx = ConvTranspose2dFunction(self.geo, x.shape[2:])(gy, w) if need[0] else None
        gw = ConvGradW(self.geo, w.shape[2:], self.col)(x, gy) if need[1] else None
        return _with_bias_grad(self, gx, gw, gy)


class ConvTranspose2dFunction(Function):
    """y = conv_transpose2d(x, W) + b: x (N, Cin, H, W), W (Cin, Cout/G, kh, kw) -> y (N, Cout, OH, OW).

    The adjoint of conv2d in its input: ypad[n, co, p sh + i dh, q sw + j dw] += W[ci, co, i, j] x[n, ci, p, q].
    `out_hw` is the output size (it fixes output_padding).
    """

    def __init__(self, geo: ConvGeometry, out_hw: Pair):
        self.geo, self.out_hw = geo, tuple(out_hw)

    def forward(self, x, w, b=None):
        y = conv_transpose_forward(x, w, self.geo, self.out_hw)
        if b is not None:
            y += b
        return spatial_last(y)

    def backward(self, gy):
        x, w = self.inputs[:2]
        need = self.needs_input_grad
        gx = col = None
        if need[0]:
            conv = Conv2dFunction(self.geo, x.shape[2:])
            gx = conv(gy, w)
            col = conv.col  # im2col of gy: the weight gradient below correlates the same windows
        gw = ConvGradW(self.geo, w.shape[2:], col)(gy, x) if need[1] else None
        return _with_bias_grad(self, gx, gw, gy)


class ConvGradW(Function):
    """gW = ∂<gy, conv2d(x, W)>/∂W = Σ_n,p,q gy[n, o, p, q] xpad[n, c, p sh + i dh, q sw + j dw].

    Bilinear in (x, gy); its backward uses the incoming ggW: d/dx = conv_transpose2d(gy, ggW),
    d/dgy = conv2d(x, ggW). `col` is x's im2col when the forward conv already built it.
    """

    def __init__(self, geo: ConvGeometry, kernel: Pair, col=None):
        self.geo, self.kernel, self.col = geo, tuple(kernel), col

    def forward(self, x, gy):
        col = self.col if self.col is not None else im2col(x, self.kernel, self.geo, gy.shape[2:])
        self.col = None  # the cache has served; do not keep it alive with the graph
        return weight_grad(col, gy, self.kernel)

    def backward(self, ggw):
        x, gy = self.inputs
        need = self.needs_input_grad
        gx = ConvTranspose2dFunction(self.geo, x.shape[2:])(gy, ggw) if need[0] else None
        ggy = Conv2dFunction(self.geo, gy.shape[2:])(x, ggw) if need[1] else None
        return gx, ggy


# ----------------------------------------------------------------------------- wrappers
def _geometry(op: str, stride, padding, dilation, groups) -> ConvGeometry:
    stride, padding, dilation = (as_pair(v, n, op) for v, n in
                                 ((stride, "stride"), (padding, "padding"), (dilation, "dilation")))
    if min(stride) <= 0:
        raise ValueError(f"{op}: stride must be positive, got {stride}")
    if min(padding) < 0:
        raise ValueError(f"{op}: padding must be non-negative, got {padding}")
    if min(dilation) <= 0:
        raise ValueError(f"{op}: dilation must be positive, got {dilation}")
    if not isinstance(groups, (int, np.integer)) or groups <= 0:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    return ConvGeometry(stride, padding, dilation, int(groups))


def _check_operands(op: str, x: Tensor, weight: Tensor, bias: Tensor | None, in_axis: int, groups: int) -> None:
    """Shared checks: 4-D input and weight, matching channels (weight axis `in_axis` x groups), dtypes, bias."""
    for name, t in (("input", x), ("weight", weight)) + ((("bias", bias),) if bias is not None else ()):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    if x.ndim != 4:
        raise ValueError(f"{op}: expected a 4-D input (N, C, H, W) or a 3-D one (C, H, W), got shape {x.shape}")
    if weight.ndim != 4:
        raise ValueError(f"{op}: expected a 4-D weight, got shape {weight.shape}")
    expected = weight.shape[0] if in_axis == 0 else weight.shape[1] * groups
    if x.shape[1] != expected:
        layout = "(in, out/groups, kh, kw)" if in_axis == 0 else "(out, in/groups, kh, kw)"
        raise ValueError(f"{op}: input of shape {x.shape} has {x.shape[1]} channels but weight of shape "
                         f"{weight.shape} {layout} with groups={groups} expects {expected}")
    out_channels = weight.shape[0] if in_axis == 1 else weight.shape[1] * groups
    if weight.shape[0] % groups or (in_axis == 1 and out_channels % groups):
        raise ValueError(f"{op}: weight of shape {weight.shape} does not split into groups={groups}")
    if bias is not None and bias.shape != (out_channels,):
        raise ValueError(f"{op}: bias of shape {bias.shape} does not match the {out_channels} output channels "
                         f"of weight {weight.shape}")
    dtypes = {t.dtype for t in (x, weight, bias) if t is not None}
    if len(dtypes) > 1 or x.dtype.kind != "f":
        raise TypeError(f"{op}: input, weight and bias must share one floating dtype, got "
                        f"{', '.join(str(t.dtype) for t in (x, weight, bias) if t is not None)}")


def _string_padding(op: str, x: Tensor, weight: Tensor, padding: str, stride, dilation) -> tuple:
    """conv2d's padding="valid" or "same" as (input, symmetric padding), padding x when "same" is uneven."""
    if padding == "valid":
        return x, 0
    if padding != "same":
        raise ValueError(f"{op}: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    if as_pair(stride, "stride", op) != (1, 1):
        raise ValueError(f"{op}: padding='same' needs stride 1, got stride {stride}")
    if not isinstance(x, Tensor) or x.ndim != 4 or not isinstance(weight, Tensor) or weight.ndim != 4:
        return x, 0  # the shape checks report the problem
    totals = [d * (k - 1) for d, k in zip(as_pair(dilation, "dilation", op), weight.shape[2:])]
    if totals[0] % 2 or totals[1] % 2:
        x = pad(x, ((0, 0), (0, 0), (0, totals[0] % 2), (0, totals[1] % 2)))
    return x, (totals[0] // 2, totals[1] // 2)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntPair = 1,
           padding: IntPair | str = 0, dilation: IntPair = 1, groups: int = 1) -> Tensor:
    """2-D cross-correlation as torch.nn.functional.conv2d.

    input (N, C, H, W) (or unbatched (C, H, W)), weight (O, C/groups, kh, kw), bias (O,) -> (N, O, OH, OW) with
    OH = floor((H + 2 padding - dilation (kh - 1) - 1) / stride) + 1 (likewise OW).
    stride, padding and dilation are ints or (h, w) pairs; padding may also be "valid" (0) or
    "same" (stride 1, output size = input size; an odd total padding puts the extra row/column
    at the bottom/right, as PyTorch).
    """
    return checked_conv2d(Conv2dFunction, input, weight, bias, stride, padding, dilation, groups)


def checked_conv2d(make, input: Tensor, weight: Tensor, bias: Tensor | None, stride, padding, dilation,
                   groups: int) -> Tensor:
    """conv2d's checks, then the Function ``make(geometry)`` applied (Conv2dFunction or a fused one)."""
    op = "conv2d"
    if isinstance(input, Tensor) and input.ndim == 3:
        return squeeze(checked_conv2d(make, unsqueeze(input, 0), weight, bias, stride, padding, dilation, groups), 0)
    if isinstance(padding, str):
        input, padding = _string_padding(op, input, weight, padding, stride, dilation)
    geo = _geometry(op, stride, padding, dilation, groups)
    _check_operands(op, input, weight, bias, 1, groups)
    for a, axis in ((2, "height"), (3, "width")):
        padded = input.shape[a] + 2 * geo.padding[a - 2]
        span = geo.dilation[a - 2] * (weight.shape[a] - 1) + 1
        if span > padded:
            raise ValueError(f"{op}: kernel {weight.shape[2:]} (dilated {span} in {axis}) is larger than the padded "
                             f"input {axis} {padded} (input {input.shape}, padding {geo.padding})")
    fn = make(geo)
    return fn(input, weight) if bias is None else fn(input, weight, bias)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntPair = 1,
                     padding: IntPair = 0, output_padding: IntPair = 0, groups: int = 1,
                     dilation: IntPair = 1) -> Tensor:
    """2-D transposed convolution as torch.nn.functional.conv_transpose2d (the input gradient of conv2d).

    input (N, Cin, H, W) (or unbatched), weight (Cin, Cout/groups, kh, kw), bias (Cout,) -> (N, Cout, OH, OW) with
    OH = (H - 1) stride - 2 padding + dilation (kh - 1) + output_padding + 1 (likewise OW).
    output_padding must be smaller than stride or dilation.
    """
    return checked_conv_transpose2d(ConvTranspose2dFunction, input, weight, bias, stride, padding, output_padding,
                                    groups, dilation)


def checked_conv_transpose2d(make, input: Tensor, weight: Tensor, bias: Tensor | None, stride, padding,
                             output_padding, groups: int, dilation) -> Tensor:
    """conv_transpose2d's checks, then ``make(geometry, out_hw)`` applied (ConvTranspose2dFunction or a fused one)."""
    op = "conv_transpose2d"
    if isinstance(input, Tensor) and input.ndim == 3:
        return squeeze(checked_conv_transpose2d(make, unsqueeze(input, 0), weight, bias, stride, padding,
                                                output_padding, groups, dilation), 0)
    geo = _geometry(op, stride, padding, dilation, groups)
    output_padding = as_pair(output_padding, "output_padding", op)
    _check_operands(op, input, weight, bias, 0, groups)
    out_hw = []
    for a in (0, 1):
        s, d, extra = geo.stride[a], geo.dilation[a], output_padding[a]
        if not 0 <= extra < max(s, d):
            raise ValueError(f"{op}: output_padding {output_padding} must be non-negative and smaller than "
                             f"stride {geo.stride} or dilation {geo.dilation}")
        size = (input.shape[2 + a] - 1) * s - 2 * geo.padding[a] + d * (weight.shape[2 + a] - 1) + extra + 1
        if size <= 0:
            raise ValueError(f"{op}: input {input.shape} with weight {weight.shape}, stride {geo.stride}, padding "
                             f"{geo.padding} and dilation {geo.dilation} gives a non-positive output size {size}")
        out_hw.append(size)
    fn = make(geo, tuple(out_hw))
    return fn(input, weight) if bias is None else fn(input, weight, bias)
