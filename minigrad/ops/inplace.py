"""In-place updates of a tensor's array, outside the graph: ``Tensor.add_``, ``mul_``, ``clamp_``, ...

They are what a training loop does to parameters and buffers between steps: weight
clipping (``p.clamp_(-c, c)``), an exponential moving average (``ema.lerp_(p, 1 - decay)``),
the power-iteration vectors of spectral norm (``u.copy_(new_u)``). Nothing is recorded,
so on a tensor that requires grad they run only inside ``with minigrad.no_grad():``, as
in PyTorch. The array is written in place (its dtype is kept: results are cast to it), so
every view and every holder of the array sees the change. Changing a tensor that a graph
not yet differentiated has saved makes that graph's gradients wrong; minigrad, which
keeps no version counters, cannot detect it. Each update is array-module calls with ``out=``
(never an operator on the array), so that a captured step (`minigrad.capture`) records it.
"""
from __future__ import annotations

from typing import Any

from minigrad import backend, tracing
from minigrad.autograd import is_grad_enabled
from minigrad.tensor import Tensor, TensorLike


def _target(t: Tensor, op: str) -> Any:
    """`t`'s array, after checking that it may be written in place."""
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(t).__name__}")
    if t.requires_grad and is_grad_enabled():
        raise RuntimeError(
            f"{op}: in-place update of a tensor that requires grad (shape {t.shape}) would not be "
            "recorded; do it inside `with minigrad.no_grad():`"
        )
    if not getattr(t.data.flags, "writeable", True):
        raise ValueError(f"{op}: the tensor (shape {t.shape}) is a read-only view (e.g. from expand); "
                         "write to the tensor it was made from")
    tracing.note_tensor(t)  # (a captured step that updates t raises at a replay after t.data was rebound)
    return t.data


def _operand(t: Tensor, other: TensorLike, op: str) -> Any:
    """`other` as a number or an array on `t`'s device whose shape broadcasts to `t`'s."""
    if isinstance(other, (int, float, bool)):
        return other
    if isinstance(other, Tensor):
        tracing.note_tensor(other)
    array = other.data if isinstance(other, Tensor) else other
    if not hasattr(array, "shape"):
        array = backend.xp_for(t.device).asarray(array)
    if backend.device_of(array) != t.device:
        raise RuntimeError(f"{op}: the operand is on {backend.device_of(array)} but the tensor is on {t.device}")
    try:
        shape = backend.xp_for(t.device).broadcast_shapes(array.shape, t.shape)
    except ValueError:
        shape = None
    if shape != t.shape:
        raise ValueError(f"{op}: an operand of shape {tuple(array.shape)} cannot update a tensor of shape {t.shape}")
    return array


def add_(t: Tensor, other: TensorLike, alpha: float = 1.0) -> Tensor:
    """t += alpha * other (``sub_`` is alpha = -alpha)."""
    data, value = _target(t, "add_"), _operand(t, other, "add_")
    xp = backend.array_module(data)
    if alpha != 1:
        value = alpha * value if isinstance(value, (int, float, bool)) else xp.multiply(alpha, value)
    xp.add(data, value, out=data)
    return t


def mul_(t: Tensor, other: TensorLike) -> Tensor:
    """t *= other."""
    data = _target(t, "mul_")
    backend.array_module(data).multiply(data, _operand(t, other, "mul_"), out=data)
    return t


def div_(t: Tensor, other: TensorLike) -> Tensor:
    """t /= other."""
    data = _target(t, "div_")
    backend.array_module(data).divide(data, _operand(t, other, "div_"), out=data)
    return t


def lerp_(t: Tensor, end: TensorLike, weight: float) -> Tensor:
    """t += weight * (end - t): an EMA step is ``ema.lerp_(p, 1 - decay)``."""
    data, value = _target(t, "lerp_"), _operand(t, end, "lerp_")
    xp = backend.array_module(data)
    xp.add(data, xp.multiply(weight, xp.subtract(value, data)), out=data)
    return t


def clamp_(t: Tensor, min: float | None = None, max: float | None = None) -> Tensor:
    """t limited to [min, max] (weight clipping: ``p.clamp_(-c, c)``)."""
    if min is None and max is None:
        raise ValueError("clamp_: at least one of min and max must be given")
    data = _target(t, "clamp_")
    backend.array_module(data).clip(data, min, max, out=data)
    return t


def copy_(t: Tensor, src: TensorLike) -> Tensor:
    """t's elements set from `src` (a Tensor or array of a broadcastable shape, from any device; cast to t's dtype)."""
    data = _target(t, "copy_")
    array = src.data if isinstance(src, Tensor) else src
    if hasattr(array, "shape"):
        array = backend.to_device(array, t.device)
    backend.array_module(data).copyto(data, _operand(t, array, "copy_"), casting="unsafe")
    return t


def fill_(t: Tensor, value: float) -> Tensor:
    """Every element of t set to `value` (``zero_`` is value 0)."""
    if not isinstance(value, (int, float, bool)) and getattr(value, "ndim", 1) != 0:
        raise TypeError(f"fill_: value must be a number, got {type(value).__name__}")
    data = _target(t, "fill_")
    backend.array_module(data).copyto(data, value, casting="unsafe")
    return t
