"""Sliding windows over two spatial axes, shared by convolutions and pooling.

`windows` is im2col as a zero-copy strided view; `fold` is its adjoint (col2im), which
adds every window element back to the pixel it came from by summing one strided slice
per kernel offset (kh*kw vectorised adds, no scatter). Both work on NumPy and CuPy arrays
of any memory layout.

The spatial axes come FIRST, (H, W, N, C): the ops keep their activations physically in
that order (viewed as (N, C, H, W)), so each strided slice moves whole contiguous N x C
blocks (long inner loops) instead of short image rows.
"""
from __future__ import annotations

import numpy as np

from minigrad.backend import array_module

Pair = tuple[int, int]


def as_pair(value, name: str, op: str) -> Pair:
    """An int or a pair of ints as a pair (PyTorch accepts both for sizes, strides, paddings)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value):
        return int(value[0]), int(value[1])
    raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")


def output_size(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    """floor((size + 2 padding - dilation (kernel - 1) - 1) / stride) + 1, PyTorch's formula."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def pad_hw(x, padding: Pair, value: float = 0.0):
    """`x` (H, W, ...) padded by `padding` on both sides of H and W with `value`.

    Returns `x` itself when there is no padding; otherwise a new C-contiguous array.
    """
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x
    h, w = x.shape[:2]
    out = array_module(x).full((h + 2 * ph, w + 2 * pw) + x.shape[2:], value, x.dtype)
    out[ph:ph + h, pw:pw + w] = x
    return out


def windows(x, kernel: Pair, stride: Pair, dilation: Pair, out_hw: Pair):
    """The strided view (OH, OW, kh, kw, ...) with [y, x, i, j, ...] = x[y sh + i dh, x sw + j dw, ...].

    `x` is (H, W, ...), already padded. No data is copied.
    """
    s_h, s_w = x.strides[:2]
    return array_module(x).lib.stride_tricks.as_strided(
        x, shape=(out_hw[0], out_hw[1], kernel[0], kernel[1]) + x.shape[2:],
        strides=(stride[0] * s_h, stride[1] * s_w, dilation[0] * s_h, dilation[1] * s_w) + x.strides[2:])


def fold(col, size_hw: Pair, stride: Pair, dilation: Pair):
    """The adjoint of `windows`: col (OH, OW, kh, kw, ...) summed back into (H, W, ...).

    out[y sh + i dh, x sw + j dw, ...] += col[y, x, i, j, ...], as one strided-slice add per
    kernel offset (i, j). `size_hw` is the padded (H, W).
    """
    oh, ow, kh, kw = col.shape[:4]
    (sh, sw), (dh, dw) = stride, dilation
    out = array_module(col).zeros(tuple(size_hw) + col.shape[4:], col.dtype)
    for i in range(kh):
        rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
        for j in range(kw):
            out[rows, j * dw:j * dw + sw * (ow - 1) + 1:sw] += col[:, :, i, j]
    return out


def crop_hw(x, padding: Pair):
    """The view of `x` (H, W, ...) without `padding` on each side of H and W."""
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x
    return x[ph:x.shape[0] - ph, pw:x.shape[1] - pw]


def spatial_first(x):
    """The view (H, W, N, C) of an (N, C, H, W) array."""
    return x.transpose(2, 3, 0, 1)


def spatial_last(x):
    """The view (N, C, H, W) of an (H, W, N, C) array."""
    return x.transpose(2, 3, 0, 1)
