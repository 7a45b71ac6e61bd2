"""Shape operations: reshape, transpose/permute, broadcast_to, sum_to, squeeze/unsqueeze,
flatten, indexing, concatenate, stack, pad. Each backward is another shape op."""
from __future__ import annotations

import math

from minigrad.autograd import Function
from minigrad.backend import array_module
from minigrad.ops.common import broadcast_shapes, normalize_axis, one_axis
from minigrad.tensor import Tensor
from collections.abc import Iterable, Sequence
from typing import Any

from minigrad.types import Axis


class Reshape(Function):
    def __init__(self, shape: tuple):
        self.shape = shape

    def forward(self, x):
        return x.reshape(self.shape)

    def backward(self, gy):
        return reshape(gy, self.inputs[0].shape)


class Transpose(Function):
    def __init__(self, axes: tuple):
        self.axes = axes

    def forward(self, x):
        return x.transpose(self.axes)

    def backward(self, gy):
        inverse = tuple(sorted(range(len(self.axes)), key=self.axes.__getitem__))
        return Transpose(inverse)(gy)


class BroadcastTo(Function):
    def __init__(self, shape: tuple):
        self.shape = shape

    def forward(self, x):
        return array_module(x).broadcast_to(x, self.shape)

    def backward(self, gy):
        return sum_to(gy, self.inputs[0].shape)


class SumTo(Function):
    """Sum a tensor down to `shape` (the reverse of broadcasting)."""

    def __init__(self, shape: tuple):
        self.shape = shape

    def forward(self, x):
        lead = x.ndim - len(self.shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, s in enumerate(self.shape) if s == 1 and x.shape[lead + i] != 1
        )
        y = x.sum(axis=axes, keepdims=True) if axes else x
        return y.reshape(self.shape) if lead else y

    def backward(self, gy):
        return broadcast_to(gy, self.inputs[0].shape)


class GetItem(Function):
    def __init__(self, index):
        self.index = index

    def forward(self, x):
        return x[self.index]

    def backward(self, gy):
        return GetItemGrad(self.index, self.inputs[0].shape)(gy)


class GetItemGrad(Function):
    """Scatter-add `gy` into zeros of the indexed tensor's shape (repeated indices add up)."""

    def __init__(self, index, shape: tuple):
        self.index, self.shape = index, shape

    def forward(self, gy):
        xp = array_module(gy)
        gx = xp.zeros(self.shape, gy.dtype)
        if xp.__name__ == "numpy":
            xp.add.at(gx, self.index, gy)
        else:  # CuPy's scatter-add lives in cupyx, imported only on a GPU (CuPy is optional)
            import cupyx

            cupyx.scatter_add(gx, self.index, gy)
        return gx

    def backward(self, ggx):
        return GetItem(self.index)(ggx)


class Concatenate(Function):
    def __init__(self, axis: int):
        self.axis = axis

    def forward(self, *xs):
        return array_module(xs[0]).concatenate(xs, axis=self.axis)

    def backward(self, gy):
        grads, start = [], 0
        for x, needed in zip(self.inputs, self.needs_input_grad):
            stop = start + x.shape[self.axis]
            index = (slice(None),) * self.axis + (slice(start, stop),)
            grads.append(GetItem(index)(gy) if needed else None)
            start = stop
        return tuple(grads)


class Pad(Function):
    """Constant padding; `pad_width` as in numpy.pad: ((before, after), ...) per axis."""

    def __init__(self, pad_width: tuple, value: float):
        self.pad_width, self.value = pad_width, value

    def forward(self, x):
        return array_module(x).pad(x, self.pad_width, constant_values=self.value)

    def backward(self, gy):
        index = tuple(slice(before, gy.shape[i] - after) for i, (before, after) in enumerate(self.pad_width))
        return GetItem(index)(gy)


# ----------------------------------------------------------------------------- wrappers
def reshape(x: Tensor, *shape: Any) -> Tensor:
    shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
    if shape == x.shape:
        return x
    known = math.prod(s for s in shape if s != -1)
    target = tuple(x.size // known if s == -1 and known else s for s in shape)
    if shape.count(-1) > 1 or math.prod(target) != x.size:
        raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} elements) into {shape}")
    return Reshape(target)(x)


def transpose(x: Tensor, *axes: int) -> Tensor:
    """No axes: reverse all axes (``x.T``). Two axes: swap them, as ``torch.transpose``."""
    if not axes:
        return Transpose(tuple(reversed(range(x.ndim))))(x)
    if len(axes) == 2:
        return swapaxes(x, *axes)
    raise TypeError(f"transpose: pass no axes or two axes to swap, got {axes}; use permute for a permutation")


def permute(x: Tensor, *axes: Any) -> Tensor:
    axes = tuple(axes[0]) if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
    if sorted(a % max(x.ndim, 1) for a in axes) != list(range(x.ndim)):
        raise ValueError(f"permute: {axes} is not a permutation of the {x.ndim} axes of shape {x.shape}")
    return Transpose(tuple(a % x.ndim for a in axes))(x)


def swapaxes(x: Tensor, a: int, b: int) -> Tensor:
    a, b = (one_axis(i, x.ndim, "transpose") for i in (a, b))
    perm = list(range(x.ndim))
    perm[a], perm[b] = perm[b], perm[a]
    return Transpose(tuple(perm))(x)


def broadcast_to(x: Tensor, shape: Sequence[int]) -> Tensor:
    shape = tuple(shape)
    if shape == x.shape:
        return x
    if broadcast_shapes("broadcast_to", x.shape, shape) != shape:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}")
    return BroadcastTo(shape)(x)


def expand(x: Tensor, *shape: Any) -> Tensor:
    """PyTorch's expand: like broadcast_to, with -1 keeping a dimension."""
    shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
    lead = len(shape) - x.ndim
    return broadcast_to(x, tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(shape)))


def sum_to(x: Tensor, shape: Sequence[int]) -> Tensor:
    shape = tuple(shape)
    if shape == x.shape:
        return x
    if broadcast_shapes("sum_to", x.shape, shape) != x.shape:
        raise ValueError(f"sum_to: shape {x.shape} does not broadcast from {shape}")
    return SumTo(shape)(x)


def squeeze(x: Tensor, axis: Axis = None) -> Tensor:
    axes = normalize_axis(axis, x.ndim, "squeeze")
    if axes is None:
        axes = tuple(i for i, s in enumerate(x.shape) if s == 1)
    return reshape(x, tuple(s for i, s in enumerate(x.shape) if not (i in axes and s == 1)))


def unsqueeze(x: Tensor, axis: int) -> Tensor:
    axis = one_axis(axis, x.ndim + 1, "unsqueeze")
    return reshape(x, x.shape[:axis] + (1,) + x.shape[axis:])


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    if x.ndim == 0:
        return reshape(x, (1,))
    start, end = one_axis(start_dim, x.ndim, "flatten"), one_axis(end_dim, x.ndim, "flatten")
    return reshape(x, x.shape[:start] + (math.prod(x.shape[start:end + 1]),) + x.shape[end + 1:])


def getitem(x: Tensor, index: Any) -> Tensor:
    """Basic slicing and integer-array indexing (Tensor indices are taken as arrays)."""
    if isinstance(index, Tensor):
        index = index.data
    elif isinstance(index, tuple):
        index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
    try:
        return GetItem(index)(x)
    except IndexError as exc:
        raise IndexError(f"getitem: index {index!r} is invalid for shape {x.shape}: {exc}") from None


def concatenate(tensors: Iterable[Tensor], axis: int = 0) -> Tensor:
    tensors = list(tensors)
    if not tensors:
        raise ValueError("concatenate: expected a non-empty sequence of tensors")
    first = tensors[0]
    axis = one_axis(axis, first.ndim, "concatenate")
    for t in tensors[1:]:
        if t.ndim != first.ndim or any(a != b for i, (a, b) in enumerate(zip(t.shape, first.shape)) if i != axis):
            raise ValueError(
                f"concatenate: shapes {[tuple(t.shape) for t in tensors]} differ outside axis {axis}"
            )
    return Concatenate(axis)(*tensors)


def stack(tensors: Iterable[Tensor], axis: int = 0) -> Tensor:
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    if any(t.shape != tensors[0].shape for t in tensors):
        raise ValueError(f"stack: all tensors must have the same shape, got {[tuple(t.shape) for t in tensors]}")
    axis = one_axis(axis, tensors[0].ndim + 1, "stack")
    return concatenate([unsqueeze(t, axis) for t in tensors], axis)


def pad(x: Tensor, pad_width: Any, value: float = 0.0) -> Tensor:
    """Constant padding. `pad_width` is numpy.pad's ((before, after), ...) per axis, or an int."""
    if isinstance(pad_width, int):
        pad_width = ((pad_width, pad_width),) * x.ndim
    pad_width = tuple((int(b), int(a)) for b, a in pad_width)
    if len(pad_width) != x.ndim or any(b < 0 or a < 0 for b, a in pad_width):
        raise ValueError(f"pad: pad_width {pad_width} must give non-negative (before, after) for each of {x.ndim} axes")
    return Pad(pad_width, value)(x)
