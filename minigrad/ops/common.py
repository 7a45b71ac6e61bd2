"""Helpers shared by the ops: turning Python scalars into constants, reducing broadcast gradients."""
from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.backend import array_module
from minigrad.tensor import Tensor

_SCALARS = (int, float, bool, np.number, np.bool_)
PY_SCALARS = (int, float)  # the weak Python numbers that ops take as constants (bool is not one)


def constant_like(value: Any, like: Tensor) -> Tensor:
    """`value` (a Python/NumPy scalar or array) as a constant Tensor on `like`'s device.

    Python scalars are *weak* (NEP 50): float32 stays float32 when combined with 2.0.
    """
    if isinstance(value, Tensor):
        return value
    xp = array_module(like.data)
    if isinstance(value, _SCALARS):
        dtype = np.result_type(like.dtype, value if isinstance(value, (int, float, bool)) else value.dtype)
        return Tensor._make(xp.asarray(value, dtype=dtype))
    return Tensor(value, device=like.device)


def pair(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Both operands as Tensors, scalars taking the dtype and device of the tensor operand."""
    if isinstance(a, Tensor):
        return a, (b if isinstance(b, Tensor) else constant_like(b, a))
    return constant_like(a, b), b


def normalize_axis(axis: Any, ndim: int, op: str) -> tuple[int, ...] | None:
    """`axis` (None, int or tuple) as a sorted tuple of non-negative axes; None means all."""
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise ValueError(f"{op}: axis {a} is out of range for a tensor with {ndim} dimensions")
        out.append(int(a) % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: repeated axis in {axis}")
    return tuple(sorted(out))


def one_axis(axis: int, ndim: int, op: str) -> int:
    """A single `axis` as a non-negative int (see `normalize_axis`)."""
    axes = normalize_axis(axis, ndim, op)
    assert axes is not None  # an int axis is never "all axes"
    return axes[0]


def broadcast_shapes(op: str, *shapes: tuple[int, ...]) -> tuple[int, ...]:
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(
            f"{op}: shapes {' and '.join(str(tuple(s)) for s in shapes)} cannot be broadcast together"
        ) from None
