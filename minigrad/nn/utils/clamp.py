"""`clamp_parameters_`: clamp parameters in place, one call per flat buffer (weight clipping)."""
from __future__ import annotations

from collections.abc import Iterable

from minigrad import backend
from minigrad.nn import flat
from minigrad.nn.module import Module
from minigrad.tensor import Tensor


def clamp_parameters_(parameters: Module | Iterable[Tensor], min: float, max: float) -> None:
    """Clamp every value of `parameters` (a Module's, or an iterable of Tensors) to [min, max] in place.

    WGAN's weight clipping. A flat buffer all of whose parameters are given is clamped by
    one call over the whole buffer; any other parameter by one call of its own.
    """
    params = list(parameters.parameters() if isinstance(parameters, Module) else parameters)
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"clamp_parameters_: parameters[{i}] is a {type(p).__name__}, not a Tensor")
    if not min <= max:
        raise ValueError(f"clamp_parameters_: min={min!r} must not exceed max={max!r}")
    buffers, rest = flat.whole_buffers(params)
    for array in [b.data for b in buffers] + [p.data for p in rest]:
        backend.array_module(array).clip(array, min, max, out=array)
