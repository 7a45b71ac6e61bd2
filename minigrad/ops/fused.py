"""Fused layer + activation: linear, conv2d and conv_transpose2d followed by relu or leaky_relu.

Each fused Function is its layer's Function with the activation applied *in place* to the
layer's freshly made output, so the pre-activation never exists as a second array:

    z = layer(x, W) + b        (the GEMM's output, bias added in place)
    y = act(z)                 (overwrites z)

and it keeps only what the activation's derivative needs: nothing for relu on the CPU (the mask
y > 0 is read off the output, since y > 0 exactly where z > 0; on a GPU one fused kernel writes
y and that mask together, `minigrad.kernels.relu_with_mask`, for a linear layer with its bias
add too), one boolean mask z <= 0 for
leaky_relu. Its backward is the activation's gradient ``ScaleBy(act'(z))(gy)``, a constant
mask, handed to the layer's own backward: the same minigrad ops, in the same order, as the
unfused chain ``act(layer(x, W, b))``, so the values, the gradients and every higher
derivative are identical to it (the unfused ops stay the reference the tests compare with).

`nn.Sequential` runs a Linear / Conv2d / ConvTranspose2d module followed by a ReLU or
LeakyReLU module through these (see `minigrad.nn.container.fused_activation`).
"""
from __future__ import annotations

from dataclasses import dataclass


from minigrad import kernels
from minigrad.backend import array_module, is_numpy
from minigrad.ops.conv import Conv2dFunction, ConvTranspose2dFunction, checked_conv2d, checked_conv_transpose2d
from minigrad.ops.elementwise import ScaleBy, leaky_relu, relu
from minigrad.ops.linalg import LinearFunction, linear
from minigrad.tensor import Tensor


@dataclass(frozen=True)
class Activation:
    """relu (slope None) or leaky_relu with `slope` in [0, 1]: applied in place, differentiated by a mask."""

    slope: float | None = None

    def apply_(self, z):
        """Overwrite z with act(z); return what the derivative needs (None for relu, the mask z <= 0 otherwise)."""
        xp = array_module(z)
        if self.slope is None:
            if not is_numpy(xp):  # on a GPU: the max and the mask z > 0 in one kernel (minigrad.kernels)
                return kernels.relu_with_mask(z)
            xp.maximum(z, 0, out=z)
            return None
        nonpositive = z <= 0
        z *= self._factor(xp, nonpositive, z.dtype)
        return nonpositive

    def derivative(self, y, saved):
        """act'(z) as a constant array, from the output y and what `apply_` returned."""
        if self.slope is None:
            return y > 0 if saved is None else saved
        return self._factor(array_module(y), saved, y.dtype)

    def unfused(self, z: Tensor) -> Tensor:
        """The reference: the activation as its own op."""
        return relu(z) if self.slope is None else leaky_relu(z, self.slope)

    def _factor(self, xp, nonpositive, dtype):
        """slope where z <= 0, else 1, computed as LeakyRelu.backward does ((z > 0) (1 - slope) + slope):
        the same bits, in z's memory layout (astype keeps it; xp.where would not)."""
        factor = (~nonpositive).astype(dtype)
        factor *= 1 - self.slope
        factor += self.slope
        return factor


class _ActivationMixin:
    """Runs the layer's forward, then the activation in place; backward: the mask, then the layer's backward."""

    def __init__(self, activation: Activation, *layer_args):
        super().__init__(*layer_args)
        self.activation = activation

    def forward(self, *arrays):
        y = super().forward(*arrays)
        self.saved = self.activation.apply_(y)
        return y

    def backward(self, gy):
        mask = self.activation.derivative(self.outputs[0]().data, self.saved)
        return super().backward(ScaleBy(mask)(gy))


class LinearActivation(_ActivationMixin, LinearFunction):
    """act(x Wᵀ + b): LinearFunction's GEMM and bias add, the activation in place on its output
    (relu on a GPU: the bias add, the max and the mask in one kernel after the GEMM)."""

    def forward(self, *arrays):
        x, w = arrays[0], arrays[1]
        if len(arrays) == 3 and self.activation.slope is None and not is_numpy(array_module(x)):
            y = x @ w.T
            self.saved = kernels.relu_with_mask(y, arrays[2])
            return y
        return super().forward(*arrays)


class Conv2dActivation(_ActivationMixin, Conv2dFunction):
    """act(conv2d(x, W) + b), the activation in place on the convolution's output."""


class ConvTranspose2dActivation(_ActivationMixin, ConvTranspose2dFunction):
    """act(conv_transpose2d(x, W) + b), the activation in place on the output."""


def linear_activation(x: Tensor, weight: Tensor, bias: Tensor | None, activation: Activation) -> Tensor:
    """act(linear(x, weight, bias)); inputs that are not plain 2-D linear operands take the unfused path
    (which reports what is wrong with them)."""
    if (x.ndim != 2 or weight.ndim != 2 or x.shape[1] != weight.shape[1]
            or (bias is not None and bias.shape != (weight.shape[0],))):
        return activation.unfused(linear(x, weight, bias))
    fn = LinearActivation(activation)
    return fn(x, weight) if bias is None else fn(x, weight, bias)


def conv2d_activation(x: Tensor, weight: Tensor, bias: Tensor | None, stride, padding, dilation, groups: int,
                      activation: Activation) -> Tensor:
    """act(conv2d(x, weight, bias, ...)) with conv2d's arguments and checks."""
    return checked_conv2d(lambda geo: Conv2dActivation(activation, geo), x, weight, bias, stride, padding,
                          dilation, groups)


def conv_transpose2d_activation(x: Tensor, weight: Tensor, bias: Tensor | None, stride, padding, output_padding,
                                groups: int, dilation, activation: Activation) -> Tensor:
    """act(conv_transpose2d(x, weight, bias, ...)) with conv_transpose2d's arguments and checks."""
    return checked_conv_transpose2d(lambda geo, out_hw: ConvTranspose2dActivation(activation, geo, out_hw), x,
                                    weight, bias, stride, padding, output_padding, groups, dilation)
