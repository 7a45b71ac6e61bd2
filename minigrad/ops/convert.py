"""Conversions as differentiable ops: a dtype cast and a copy to another device (``Tensor.to``)."""
from __future__ import annotations

import numpy as np

from minigrad import backend
from minigrad.autograd import Function
from minigrad.tensor import Tensor
from minigrad.types import DTypeLike


class CopyToDevice(Function):
    """Copy to another device (`backend.to_device` on the array); the gradient is copied back."""

    def __init__(self, device: str):
        self.device = device

    def forward(self, x):
        return backend.to_device(x, self.device)

    def backward(self, gy):
        return copy_to_device(gy, self.inputs[0].device)


class AsType(Function):
    """Cast to another dtype; the gradient is cast back to the input's dtype."""

    def __init__(self, dtype: np.dtype):
        self.dtype = dtype

    def forward(self, x):
        return x.astype(self.dtype)

    def backward(self, gy):
        return astype(gy, self.inputs[0].dtype)


def copy_to_device(x: Tensor, device: str) -> Tensor:
    """`x` on `device` ("cpu" or "cuda"), differentiably; the array-level move is `backend.to_device`."""
    return CopyToDevice(backend.normalize_device(device))(x)


def astype(x: Tensor, dtype: DTypeLike) -> Tensor:
    """`x` cast to `dtype`; a cast to a non-float dtype carries no gradient."""
    dtype = np.dtype(dtype)
    if x.requires_grad and dtype.kind != "f":
        return Tensor._make(x.data.astype(dtype))
    return AsType(dtype)(x)
