"""Shape layers: `Flatten` and its inverse `Unflatten`."""
from __future__ import annotations

from minigrad import ops
from minigrad.nn.module import Module
from minigrad.tensor import Tensor


class Flatten(Module):
    """Merge dimensions start_dim..end_dim into one: (N, C, H, W) -> (N, C·H·W) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Tensor) -> Tensor:
        return ops.flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dimension `dim` into `unflattened_size`: (N, C·H·W) -> (N, C, H, W) with dim=1, size (C, H, W)."""

    def __init__(self, dim: int, unflattened_size: tuple):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, input: Tensor) -> Tensor:
        dim = self.dim % input.ndim if -input.ndim <= self.dim < input.ndim else None
        if dim is None:
            raise ValueError(f"Unflatten: dim {self.dim} is out of range for an input of shape {input.shape}")
        shape = input.shape[:dim] + self.unflattened_size + input.shape[dim + 1:]
        try:
            return ops.reshape(input, shape)
        except ValueError:
            raise ValueError(
                f"Unflatten: dimension {self.dim} of size {input.shape[dim]} cannot be unflattened "
                f"into {self.unflattened_size} (input shape {input.shape})"
            ) from None

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
