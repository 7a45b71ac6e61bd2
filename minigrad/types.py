"""Type aliases used in minigrad's signatures."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy.typing

Array = Any  # a numpy.ndarray on the CPU or a cupy.ndarray on a GPU (CuPy is optional, so not named here)
Device = Literal["cpu", "cuda"]  # a canonical device name, as `Tensor.device` returns it
DeviceLike = str | None  # what a `device=` argument accepts: "cpu", "cuda", "cuda:0", or None (the default)
Scalar = int | float | bool  # a Python number, as `Tensor.item()` returns it
Shape = tuple[int, ...]
Axis = int | Sequence[int] | None  # the axes to reduce over; None means all
IntPair = int | tuple[int, int]  # a conv or pool size: one int for both spatial axes, or (height, width)
DTypeLike = numpy.typing.DTypeLike | None  # a dtype, its name or type (np.float32, "float32"), or None: the default

__all__ = ["Array", "Axis", "DTypeLike", "Device", "DeviceLike", "IntPair", "Scalar", "Shape"]
