"""Tensor constructors, each taking `dtype`, `device` and `requires_grad` (float32 by default)."""
from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import backend
from minigrad.tensor import _DEFAULT_FLOAT, Tensor, as_array
from minigrad.types import DeviceLike, DTypeLike


def _finish(array: Any, requires_grad: bool) -> Tensor:
    t = Tensor._make(array)
    return t.requires_grad_(True) if requires_grad else t


def _shape(shape: Any) -> tuple[int, ...]:
    shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else tuple(shape)
    if any(not isinstance(s, (int, np.integer)) or s < 0 for s in shape):
        raise ValueError(f"invalid shape {shape}: sizes must be non-negative ints")
    return shape


def tensor(data: Any, dtype: DTypeLike = None, device: DeviceLike = None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of `data` (Python numbers, lists, numpy/cupy arrays)."""
    return Tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)


def as_tensor(data: Any, dtype: DTypeLike = None, device: DeviceLike = None) -> Tensor:
    """`data` as a Tensor, sharing its memory when it can, as ``torch.as_tensor``.

    A numpy/cupy array already of that dtype (default: its own) and on that device (default:
    its own) is wrapped without a copy, so writes through either side show in the other.
    A Tensor of that dtype and device is returned as is. Anything else is converted (copied),
    Python floats becoming float32. The result is a constant leaf (no gradient).
    """
    if isinstance(data, Tensor) and (dtype is None or np.dtype(dtype) == data.dtype) \
            and (device is None or backend.normalize_device(device) == data.device):
        return data
    return Tensor._make(as_array(data, dtype, device, copy=False))


def zeros(*shape: Any, dtype: DTypeLike = None, device: DeviceLike = None, requires_grad: bool = False) -> Tensor:
    xp = backend.xp_for(backend.normalize_device(device))
    return _finish(xp.zeros(_shape(shape), dtype or _DEFAULT_FLOAT), requires_grad)


def ones(*shape: Any, dtype: DTypeLike = None, device: DeviceLike = None, requires_grad: bool = False) -> Tensor:
    xp = backend.xp_for(backend.normalize_device(device))
    return _finish(xp.ones(_shape(shape), dtype or _DEFAULT_FLOAT), requires_grad)


def full(shape: Any, fill_value: float, dtype: DTypeLike = None, device: DeviceLike = None,
         requires_grad: bool = False) -> Tensor:
    xp = backend.xp_for(backend.normalize_device(device))
    if dtype is None:
        dtype = _DEFAULT_FLOAT if isinstance(fill_value, float) else np.result_type(fill_value)
    return _finish(xp.full(_shape((shape,)), fill_value, dtype), requires_grad)


def randn(*shape: Any, dtype: DTypeLike = None, device: DeviceLike = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples from the device's generator (see `manual_seed`)."""
    device = backend.normalize_device(device)
    dtype = np.dtype(dtype or _DEFAULT_FLOAT)
    return _finish(backend.generator(device).standard_normal(_shape(shape), dtype=dtype), requires_grad)


def rand(*shape: Any, dtype: DTypeLike = None, device: DeviceLike = None, requires_grad: bool = False) -> Tensor:
    """Uniform samples on [0, 1) from the device's generator."""
    device = backend.normalize_device(device)
    dtype = np.dtype(dtype or _DEFAULT_FLOAT)
    return _finish(backend.generator(device).random(_shape(shape), dtype=dtype), requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, dtype: DTypeLike = None,
           device: DeviceLike = None, requires_grad: bool = False) -> Tensor:
    if end is None:
        start, end = 0, start
    xp = backend.xp_for(backend.normalize_device(device))
    if dtype is None:
        is_float = any(isinstance(v, float) for v in (start, end, step))
        dtype = _DEFAULT_FLOAT if is_float else np.int64
    return _finish(xp.arange(start, end, step, dtype=dtype), requires_grad)


def _like(fn):
    def like(x: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
        return fn(*x.shape, dtype=dtype or x.dtype, device=device or x.device, requires_grad=requires_grad)

    like.__name__ = fn.__name__ + "_like"
    like.__doc__ = f"{fn.__name__} with the shape (and by default dtype and device) of `x`."
    return like


zeros_like, ones_like, randn_like, rand_like = _like(zeros), _like(ones), _like(randn), _like(rand)


def full_like(x: Tensor, fill_value: float, dtype: DTypeLike = None, device: DeviceLike = None,
              requires_grad: bool = False) -> Tensor:
    return full(x.shape, fill_value, dtype=dtype or x.dtype, device=device or x.device, requires_grad=requires_grad)
