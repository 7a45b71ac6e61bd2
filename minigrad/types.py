"""Type aliases used in minigrad's signatures."""
from __future__ import annotations

from typing import Literal, Union

from numpy.typing import DTypeLike

Device = Literal["cpu", "cuda"]  # a canonical device name, as `Tensor.device` returns it
DeviceLike = Union[str, None]  # what a `device=` argument accepts: "cpu", "cuda", "cuda:0", or None (the default)
Scalar = Union[int, float, bool]  # a Python number, as `Tensor.item()` returns it
Shape = tuple[int, ...]

__all__ = ["DTypeLike", "Device", "DeviceLike", "Scalar", "Shape"]
