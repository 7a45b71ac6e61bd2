"""`Parameter`: a leaf Tensor that a `Module` registers as one of its learnable weights."""
from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.tensor import Tensor


class Parameter(Tensor):
    """A Tensor that requires grad and is registered by a Module when assigned as an attribute.

    ``Parameter(data)`` shares ``data``'s array (no copy) when it is a Tensor, as in PyTorch.
    Operations on a Parameter return plain Tensors.
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True):
        if data is None:
            data = np.zeros((0,), np.float32)
        if isinstance(data, Tensor):
            self.data = data.data
            self.grad = None
            self.creator = None
            self.generation = 0
            self.requires_grad = False
            self.requires_grad_(requires_grad)
        else:
            super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
