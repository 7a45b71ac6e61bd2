"""Shared pieces of the functional-API tests: hypothesis settings, geometry strategies, tensors."""
from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, assume, settings
from hypothesis import strategies as st

import minigrad

#: the active profile's settings, plus permission to use the (stateless) `device` fixture
PROPERTY = settings(
    settings.default,
    suppress_health_check=list(settings.default.suppress_health_check) + [HealthCheck.function_scoped_fixture],
)
MAX_INPUT = 96   # elements of the input (and output) of a checked op
MAX_WEIGHT = 48  # elements of a checked weight


def tensor(array, device: str, requires_grad: bool = True) -> minigrad.Tensor:
    return minigrad.tensor(array, device=device, requires_grad=requires_grad)


def values(seed: int, shape: tuple, scale: float = 1.0) -> np.ndarray:
    """Standard normal float64 values from a seeded generator (hypothesis draws the seed)."""
    return np.random.default_rng(seed).standard_normal(shape) * scale


def distinct_values(seed: int, shape: tuple) -> np.ndarray:
    """A shuffled grid of values at least 0.05 apart (no ties, e.g. for max pooling)."""
    return np.random.default_rng(seed).permutation(math.prod(shape)).reshape(shape) * 0.05 - 1.0


def int_or_pair(draw, pair: tuple):
    """`pair`, or its single int when both entries agree (PyTorch accepts both)."""
    return draw(st.sampled_from([pair, pair[0]])) if pair[0] == pair[1] else pair


def pairs(low: int, high: int) -> st.SearchStrategy:
    return st.tuples(st.integers(low, high), st.integers(low, high))


def conv_out(size: int, k: int, s: int, p: int, d: int) -> int:
    """PyTorch's conv2d output size."""
    return math.floor((size + 2 * p - d * (k - 1) - 1) / s + 1)


def conv_transpose_out(size: int, k: int, s: int, p: int, d: int, op: int) -> int:
    """PyTorch's conv_transpose2d output size."""
    return (size - 1) * s - 2 * p + d * (k - 1) + op + 1


@st.composite
def conv_cases(draw, transpose: bool = False) -> dict:
    """A small random convolution: shapes, stride, padding, dilation, groups (output_padding when transposed)."""
    groups = draw(st.sampled_from([1, 1, 2]))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    n = draw(st.integers(1, 2))
    kernel, stride, dilation, padding = draw(pairs(1, 3)), draw(pairs(1, 3)), draw(pairs(1, 2)), draw(pairs(0, 2))
    case = {"groups": groups, "stride": stride, "padding": padding, "dilation": dilation}
    if transpose:
        case["output_padding"] = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
        hw = draw(pairs(1, 4))
        out = tuple(conv_transpose_out(hw[a], kernel[a], stride[a], padding[a], dilation[a],
                                       case["output_padding"][a]) for a in (0, 1))
        assume(min(out) >= 1)
        weight = (cin, cout // groups) + kernel
        case["out_channels"] = cout
    else:
        span = [d * (k - 1) + 1 for d, k in zip(dilation, kernel)]
        hw = tuple(draw(st.integers(max(1, sp - 2 * p), max(1, sp - 2 * p) + 4)) for sp, p in zip(span, padding))
        out = tuple(conv_out(hw[a], kernel[a], stride[a], padding[a], dilation[a]) for a in (0, 1))
        weight = (cout, cin // groups) + kernel
        case["out_channels"] = cout
    x_shape = (n, cin) + hw
    assume(math.prod(x_shape) <= MAX_INPUT and math.prod(weight) <= MAX_WEIGHT)
    assume(n * cout * math.prod(out) <= MAX_INPUT)
    case.update(x_shape=x_shape, w_shape=weight, out_shape=(n, cout) + out, bias=draw(st.booleans()),
                seed=draw(st.integers(0, 2 ** 16)))
    for name in ("stride", "padding", "dilation") + (("output_padding",) if transpose else ()):
        case[name] = int_or_pair(draw, case[name])
    return case


@st.composite
def pool_cases(draw, dilated: bool):
    kernel, stride = draw(pairs(1, 3)), draw(pairs(1, 3))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    dilation = draw(pairs(1, 2)) if dilated else (1, 1)
    span = [d * (k - 1) + 1 for d, k in zip(dilation, kernel)]
    hw = tuple(draw(st.integers(max(1, s - 2 * p), max(1, s - 2 * p) + 4)) for s, p in zip(span, padding))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3))) + hw
    assume(math.prod(shape) <= 96)
    out = tuple((hw[a] + 2 * padding[a] - dilation[a] * (kernel[a] - 1) - 1) // stride[a] + 1 for a in (0, 1))
    kwargs = {"kernel_size": int_or_pair(draw, kernel), "padding": int_or_pair(draw, padding)}
    if draw(st.booleans()) or stride != kernel:
        kwargs["stride"] = int_or_pair(draw, stride)
    if dilated:
        kwargs["dilation"] = int_or_pair(draw, dilation)
    return {"shape": shape, "out": shape[:2] + out, "kwargs": kwargs, "seed": draw(st.integers(0, 2 ** 16)),
            "geometry": (kernel, stride, padding, dilation)}


def reference_pool(x, geometry, reduce, fill):
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = geometry
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
    oh = (x.shape[2] + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (x.shape[3] + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    y = np.empty(x.shape[:2] + (oh, ow))
    for p in range(oh):
        for q in range(ow):
            y[:, :, p, q] = reduce(xp[:, :, p * sh:p * sh + dh * (kh - 1) + 1:dh, q * sw:q * sw + dw * (kw - 1) + 1:dw],
                                   axis=(2, 3))
    return y


def _pair(v):
    return (v, v) if isinstance(v, int) else v


def reference_conv2d(x, w, b, stride, padding, dilation, groups):
    """The definition, one output pixel at a time."""
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh, ow = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1, (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    y = np.zeros((n, o, oh, ow))
    og = o // groups
    for oc in range(o):
        g = oc // og
        for p in range(oh):
            for q in range(ow):
                rows = slice(p * sh, p * sh + dh * (kh - 1) + 1, dh)
                cols = slice(q * sw, q * sw + dw * (kw - 1) + 1, dw)
                patch = xp[:, g * cg:(g + 1) * cg, rows, cols]
                y[:, oc, p, q] = (patch * w[oc]).sum(axis=(1, 2, 3)) + (0 if b is None else b[oc])
    return y


def reference_conv_transpose2d(x, w, b, stride, padding, output_padding, groups, dilation):
    """Scatter every input pixel times the kernel into the (padded) output."""
    (sh, sw), (ph, pw), (dh, dw), (oph, opw) = (_pair(v) for v in (stride, padding, dilation, output_padding))
    n, cin, h, wd = x.shape
    _, cg, kh, kw = w.shape
    oh = (h - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1
    ow = (wd - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1
    full = np.zeros((n, cg * groups, oh + 2 * ph, ow + 2 * pw))
    ing = cin // groups
    for ci in range(cin):
        g = ci // ing
        for p in range(h):
            for q in range(wd):
                full[:, g * cg:(g + 1) * cg, p * sh:p * sh + dh * (kh - 1) + 1:dh,
                     q * sw:q * sw + dw * (kw - 1) + 1:dw] += x[:, ci, p, q][:, None, None, None] * w[ci][None]
    y = full[:, :, ph:ph + oh, pw:pw + ow]
    return y if b is None else y + b[None, :, None, None]
