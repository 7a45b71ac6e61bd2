"""`Dropout`: zero each element with probability p in training mode, scaling the rest by 1/(1-p)."""
from __future__ import annotations

import minigrad.functional as F
from minigrad.nn.module import Module
from minigrad.tensor import Tensor


class Dropout(Module):
    """Inverted dropout (Srivastava et al., 2014); the identity in eval mode. ``inplace`` is accepted
    for PyTorch compatibility and has no effect (minigrad never overwrites its input)."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: probability p must be in [0, 1], got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
