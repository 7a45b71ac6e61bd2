"""Matrix products: matmul (1-D, 2-D, batched with broadcasting) and the fused linear layer."""
from __future__ import annotations

from minigrad.autograd import Function
from minigrad.backend import array_module
from minigrad.ops.shape import reshape, sum_to, swapaxes
from minigrad.tensor import Tensor


class MatMul(Function):
    """a @ b with NumPy's rules; gradients ga = g bᵀ, gb = aᵀ g, summed over broadcast batches."""

    def forward(self, a, b):
        try:
            return array_module(a).matmul(a, b)
        except ValueError:  # `matmul` checked the inner sizes: the batch dimensions disagree
            raise ValueError(
                f"matmul: the batch dimensions of shapes {a.shape} and {b.shape} cannot be broadcast together"
            ) from None

    def backward(self, gy):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        a2 = a if a.ndim > 1 else reshape(a, (1, a.shape[0]))
        b2 = b if b.ndim > 1 else reshape(b, (b.shape[0], 1))
        g = gy
        if a.ndim == 1:
            g = reshape(g, g.shape[:-1] + (1,) + g.shape[-1:] if b.ndim > 1 else g.shape + (1,))
        if b.ndim == 1:
            g = reshape(g, g.shape + (1,))
        ga = gb = None
        if need_a:
            ga = reshape(sum_to(matmul(g, swapaxes(b2, -1, -2)), a2.shape), a.shape)
        if need_b:
            gb = reshape(sum_to(matmul(swapaxes(a2, -1, -2), g), b2.shape), b.shape)
        return ga, gb


class LinearFunction(Function):
    """y = x Wᵀ + b for x (N, in), W (out, in), b (out,): one GEMM and an in-place bias add."""

    def forward(self, x, w, b=None):
        y = x @ w.T
        if b is not None:
            y += b
        return y

    def backward(self, gy):
        x, w = self.inputs[0], self.inputs[1]
        need = self.needs_input_grad
        gx = matmul(gy, w) if need[0] else None
        gw = matmul(swapaxes(gy, -1, -2), x) if need[1] else None
        if len(self.inputs) == 2:
            return gx, gw
        gb = sum_to(gy, self.inputs[2].shape) if need[2] else None
        return gx, gw, gb


def matmul(a: Tensor, b: Tensor) -> Tensor:
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"matmul: both operands must be Tensors, got {type(a).__name__} and {type(b).__name__}")
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: 0-d operands are not allowed (shapes {a.shape} and {b.shape})")
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} are not aligned ({k_a} != {k_b})")
    return MatMul()(a, b)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight.T + bias, as torch.nn.functional.linear; x is (..., in), weight (out, in)."""
    if weight.ndim != 2 or x.ndim < 1 or x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input of shape {x.shape} does not match weight of shape {weight.shape} "
            "(expected input (..., in_features) and weight (out_features, in_features))"
        )
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"linear: bias of shape {bias.shape} does not match weight of shape {weight.shape}")
    if x.ndim != 2:
        lead = x.shape[:-1]
        return reshape(linear(reshape(x, (-1, x.shape[-1])), weight, bias), lead + (weight.shape[0],))
    return LinearFunction()(x, weight) if bias is None else LinearFunction()(x, weight, bias)
