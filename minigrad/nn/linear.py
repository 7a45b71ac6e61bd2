"""Affine layers: `Linear` and the do-nothing `Identity`."""
from __future__ import annotations

from typing import Any

from minigrad import creation
from minigrad.nn import init
from minigrad.nn.module import Module
from minigrad.nn.parameter import Parameter
from minigrad.ops import linear
from minigrad.ops import fused
from minigrad.tensor import Tensor
from minigrad.types import DeviceLike, DTypeLike


class Identity(Module):
    """Returns its input unchanged; accepts and ignores any constructor arguments (as PyTorch)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Linear(Module):
    """y = x Wᵀ + b for x of shape (*, in_features); W is (out_features, in_features), b (out_features,).

    Initialised as PyTorch: W ~ U(±1/√in_features) (kaiming_uniform_ with a=√5), b likewise.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device: DeviceLike = None,
                 dtype: DTypeLike = None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(creation.zeros(out_features, in_features, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(creation.zeros(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.default_reset_(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return linear(input, self.weight, self.bias)

    def _forward_activated(self, input: Tensor, activation: fused.Activation) -> Tensor:
        """activation(forward(input)) as one fused Function (called by `Sequential`)."""
        return fused.linear_activation(input, self.weight, self.bias, activation)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
