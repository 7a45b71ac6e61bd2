"""2-D convolution layers: `Conv2d` and its adjoint `ConvTranspose2d` (PyTorch's layouts and defaults)."""
from __future__ import annotations

from collections.abc import Sequence

import minigrad.functional as F
from minigrad import creation
from minigrad.nn import init
from minigrad.nn.module import Module
from minigrad.nn.parameter import Parameter
from minigrad.ops import fused, pad
from minigrad.ops.window import as_pair
from minigrad.tensor import Tensor
from minigrad.types import DeviceLike, DTypeLike, IntPair


class _ConvNd(Module):
    """Shared construction: channel/group checks, the weight and bias Parameters, PyTorch's default init."""

    def __init__(self, layer: str, in_channels: int, out_channels: int, kernel_size, stride, padding, dilation,
                 groups: int, bias: bool, padding_mode: str, weight_shape_channels: tuple, device, dtype):
        super().__init__()
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{layer}: in_channels ({in_channels}) and out_channels ({out_channels}) must be divisible "
                f"by groups ({groups})"
            )
        if padding_mode != "zeros":
            raise ValueError(f"{layer}: padding_mode {padding_mode!r} is not supported (only 'zeros')")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = as_pair(kernel_size, "kernel_size", layer)
        self.stride = as_pair(stride, "stride", layer)
        self.padding: str | tuple[int, int] = (padding if isinstance(padding, str)
                                               else as_pair(padding, "padding", layer))
        self.dilation = as_pair(dilation, "dilation", layer)
        self.padding_mode = padding_mode
        self.weight = Parameter(creation.zeros(*weight_shape_channels, *self.kernel_size, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(creation.zeros(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.default_reset_(self.weight, self.bias)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if getattr(self, "output_padding", (0, 0)) != (0, 0):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv2d(_ConvNd):
    """Cross-correlation of an (N, C_in, H, W) input with a weight of shape
    (out_channels, in_channels / groups, kH, kW), plus a bias of shape (out_channels,).

    Output size per spatial dim: ⌊(H + 2·padding − dilation·(k − 1) − 1) / stride⌋ + 1.
    ``padding`` may also be "valid" (no padding) or "same" (output size = input size, stride 1;
    an odd total padding puts the extra row/column at the bottom/right, as PyTorch).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntPair, stride: IntPair = 1,
                 padding: IntPair | str = 0, dilation: IntPair = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: DeviceLike = None, dtype: DTypeLike = None):
        if isinstance(padding, str) and padding not in ("valid", "same"):
            raise ValueError(f"Conv2d: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
        super().__init__("Conv2d", in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, padding_mode, (out_channels, in_channels // max(groups, 1)), device, dtype)
        if padding == "same" and self.stride != (1, 1):
            raise ValueError(f"Conv2d: padding='same' needs stride 1, got stride {self.stride}")

    def _explicit_padding(self, input: Tensor) -> tuple[Tensor, tuple[int, int]]:
        """The input (extra-padded at the bottom/right for an odd 'same') and the symmetric padding."""
        if self.padding == "valid":
            return input, (0, 0)
        if not isinstance(self.padding, str):
            return input, self.padding
        totals = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size)]
        extra = [t % 2 for t in totals]
        if any(extra):
            input = pad(input, ((0, 0), (0, 0), (0, extra[0]), (0, extra[1])))
        return input, (totals[0] // 2, totals[1] // 2)

    def forward(self, input: Tensor) -> Tensor:
        input, padding = self._explicit_padding(input)
        return F.conv2d(input, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)

    def _forward_activated(self, input: Tensor, activation: fused.Activation) -> Tensor:
        """activation(forward(input)) as one fused Function (called by `Sequential`)."""
        input, padding = self._explicit_padding(input)
        return fused.conv2d_activation(input, self.weight, self.bias, self.stride, padding, self.dilation,
                                       self.groups, activation)


class ConvTranspose2d(_ConvNd):
    """The transpose (gradient) of Conv2d: weight of shape (in_channels, out_channels / groups, kH, kW).

    Output size per spatial dim: (H − 1)·stride − 2·padding + dilation·(k − 1) + output_padding + 1.
    ``forward(input, output_size)`` picks output_padding to reach `output_size`, as PyTorch.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntPair, stride: IntPair = 1,
                 padding: IntPair = 0, output_padding: IntPair = 0, groups: int = 1, bias: bool = True,
                 dilation: IntPair = 1, padding_mode: str = "zeros", device: DeviceLike = None,
                 dtype: DTypeLike = None):
        padding = as_pair(padding, "padding", "ConvTranspose2d")
        super().__init__("ConvTranspose2d", in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, (in_channels, out_channels // max(groups, 1)), device, dtype)
        self.output_padding = as_pair(output_padding, "output_padding", "ConvTranspose2d")

    def _output_padding(self, input: Tensor, output_size) -> tuple[int, int]:
        if output_size is None:
            return self.output_padding
        output_size = tuple(output_size)[-2:]
        result = []
        for d in range(2):
            low = ((input.shape[d + 2] - 1) * self.stride[d] - 2 * int(self.padding[d])
                   + self.dilation[d] * (self.kernel_size[d] - 1) + 1)
            if not low <= output_size[d] < low + self.stride[d]:
                raise ValueError(
                    f"ConvTranspose2d: requested output size {output_size} is not reachable from input "
                    f"{input.shape}; dimension {d} must be in [{low}, {low + self.stride[d] - 1}]"
                )
            result.append(output_size[d] - low)
        return tuple(result)

    def forward(self, input: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        assert not isinstance(self.padding, str)  # __init__ accepts only int or pair padding here
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                  self._output_padding(input, output_size), self.groups, self.dilation)

    def _forward_activated(self, input: Tensor, activation: fused.Activation) -> Tensor:
        """activation(forward(input)) as one fused Function (called by `Sequential`)."""
        return fused.conv_transpose2d_activation(input, self.weight, self.bias, self.stride, self.padding,
                                                 self.output_padding, self.groups, self.dilation, activation)
