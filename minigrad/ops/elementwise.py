"""Elementwise operations.

Binary ops are a base class and one small class per op: `Binary` does the shape bookkeeping
(it skips gradients nobody asked for and sums broadcast gradients back to each input's
shape), each op gives its forward on arrays and its two partial derivatives on Tensors.
Smooth unary ops are the same pattern with one input. Piecewise-linear ops (relu,
leaky_relu, abs, clamp, max/min selection) multiply the gradient by a constant mask
(`ScaleBy`): their second derivative is exactly zero, so double backward sends nothing
back through them.
"""
from __future__ import annotations

import operator
from typing import Any
from collections.abc import Callable

import numpy as np

from minigrad.autograd import Function
from minigrad.backend import array_module
from minigrad.ops.common import PY_SCALARS, broadcast_shapes, constant_like, pair
from minigrad.ops.shape import sum_to
from minigrad.tensor import Tensor, TensorLike


# ----------------------------------------------------------------------------- binary
class Binary(Function):
    """Base of the broadcasting binary ops ``y = f(a, b)``.

    A subclass defines ``compute(a, b)`` on arrays and the partial derivatives
    ``grad_a(gy, a, b)``, ``grad_b(gy, a, b)`` on Tensors (at the broadcast shape). This
    base asks only for the gradients that are needed and sums each back to its input's
    shape. `scalar_right(x, c)` / `scalar_left(c, x)`, where given, compute ``x op c`` /
    ``c op x`` for a Python number c as a one-input op (see `binary`).
    """

    scalar_right: Callable[[Tensor, Any], Tensor] | None = None
    scalar_left: Callable[[Any, Tensor], Tensor] | None = None

    def forward(self, a: Any, b: Any) -> Any:
        try:
            return self.compute(a, b)
        except ValueError:
            broadcast_shapes(self.name, a.shape, b.shape)
            raise

    def backward(self, gy: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        return (sum_to(self.grad_a(gy, a, b), a.shape) if need_a else None,
                sum_to(self.grad_b(gy, a, b), b.shape) if need_b else None)

    def compute(self, a: Any, b: Any) -> Any:
        raise NotImplementedError

    def grad_a(self, gy: Tensor, a: Tensor, b: Tensor) -> Tensor:
        raise NotImplementedError

    def grad_b(self, gy: Tensor, a: Tensor, b: Tensor) -> Tensor:
        raise NotImplementedError


def binary(op: type[Binary], a: TensorLike, b: TensorLike) -> Tensor:
    """``a op b``: the scalar dispatch of every binary op, written once.

    A Python number beside a Tensor stays a weak scalar (float32 * 2.0 is float32) and gets
    no gradient: the op's one-input form is used when it has one. Anything else (arrays,
    NumPy scalars) becomes a constant Tensor on the other operand's device.
    """
    if type(b) in PY_SCALARS and op.scalar_right is not None and isinstance(a, Tensor):
        return op.scalar_right(a, b)
    if type(a) in PY_SCALARS and op.scalar_left is not None and isinstance(b, Tensor):
        return op.scalar_left(a, b)
    return op()(*pair(a, b))


class Add(Binary):
    """a + b."""
    def compute(self, a, b): return a + b
    def grad_a(self, gy, a, b): return gy
    def grad_b(self, gy, a, b): return gy
    @staticmethod
    def scalar_right(x, c): return AddConst(c)(x)
    @staticmethod
    def scalar_left(c, x): return AddConst(c)(x)


class Sub(Binary):
    """a - b."""
    def compute(self, a, b): return a - b
    def grad_a(self, gy, a, b): return gy
    def grad_b(self, gy, a, b): return -gy
    @staticmethod
    def scalar_right(x, c): return AddConst(-c)(x)
    @staticmethod
    def scalar_left(c, x): return AddConst(c)(Neg()(x))


class Mul(Binary):
    """a b."""
    def compute(self, a, b): return a * b
    def grad_a(self, gy, a, b): return gy * b
    def grad_b(self, gy, a, b): return gy * a
    @staticmethod
    def scalar_right(x, c): return MulConst(c)(x)
    @staticmethod
    def scalar_left(c, x): return MulConst(c)(x)


class Div(Binary):
    """a / b: d/da = 1/b, d/db = -a/b²."""
    def compute(self, a, b): return a / b
    def grad_a(self, gy, a, b): return gy / b
    def grad_b(self, gy, a, b): return -(gy / b) * a / b
    @staticmethod
    def scalar_right(x, c): return MulConst(1.0 / c)(x)
    @staticmethod
    def scalar_left(c, x): return RDivConst(c)(x)


class Pow(Binary):
    """a ** b for two tensors: d/da = b a^(b-1), d/db = a^b log a."""
    def compute(self, a, b): return a ** b
    def grad_a(self, gy, a, b): return gy * b * a ** (b - 1)
    def grad_b(self, gy, a, b): return gy * a ** b * log(a)


class Maximum(Binary):
    """Elementwise max; at ties the gradient is split evenly (as in PyTorch)."""
    def compute(self, a, b): return array_module(a).maximum(a, b)
    def grad_a(self, gy, a, b): return ScaleBy(_winner_weight(gy, a.data > b.data, a.data == b.data))(gy)
    def grad_b(self, gy, a, b): return ScaleBy(1 - _winner_weight(gy, a.data > b.data, a.data == b.data))(gy)


class Minimum(Binary):
    """Elementwise min; at ties the gradient is split evenly."""
    def compute(self, a, b): return array_module(a).minimum(a, b)
    def grad_a(self, gy, a, b): return ScaleBy(_winner_weight(gy, a.data < b.data, a.data == b.data))(gy)
    def grad_b(self, gy, a, b): return ScaleBy(1 - _winner_weight(gy, a.data < b.data, a.data == b.data))(gy)


def _winner_weight(gy: Tensor, wins: Any, tie: Any) -> Any:
    """1 where `a` wins the selection, 0.5 at ties, 0 where it loses (a constant mask; `b` gets 1 minus it)."""
    return (wins + 0.5 * tie).astype(gy.dtype)


class Where(Binary):
    """cond ? a : b with a constant boolean `cond`."""

    def __init__(self, cond: Any):
        self.cond = cond

    def forward(self, a, b):
        try:
            return array_module(a).where(self.cond, a, b)
        except ValueError:
            broadcast_shapes("Where", self.cond.shape, a.shape, b.shape)
            raise

    def grad_a(self, gy, a, b): return where(self.cond, gy, zeros_scalar(gy))
    def grad_b(self, gy, a, b): return where(self.cond, zeros_scalar(gy), gy)


def zeros_scalar(like: Tensor) -> Tensor:
    return Tensor._make(array_module(like.data).zeros((), like.dtype))


# ----------------------------------------------------------------------------- with a Python scalar
# A Python number c stays a weak scalar (float32 * 2.0 is float32) and gets no gradient.
class AddConst(Function):
    """x + c."""

    def __init__(self, c: Any):
        self.c = c

    def forward(self, x):
        return x + self.c

    def backward(self, gy):
        return gy


class MulConst(Function):
    """x * c: d/dx = c."""

    def __init__(self, c: Any):
        self.c = c

    def forward(self, x):
        return x * self.c

    def backward(self, gy):
        return MulConst(self.c)(gy)


class RDivConst(Function):
    """c / x: d/dx = -c / x² = -y / x."""

    def __init__(self, c: Any):
        self.c = c

    def forward(self, x):
        return self.c / x

    def backward(self, gy):
        return gy * (-self.outputs[0]() / self.inputs[0])


class PowConst(Function):
    """x ** c for a constant exponent c: d/dx = c x^(c-1)."""

    def __init__(self, c: Any):
        self.c = c

    def forward(self, x):
        return x * x if self.c == 2 else x ** self.c

    def backward(self, gy):
        x, c = self.inputs[0], self.c
        return gy * (2 * x) if c == 2 else gy * (c * x ** (c - 1))


# ----------------------------------------------------------------------------- unary, smooth
class Unary(Function):
    """Base of the smooth elementwise ops ``y = f(x)``.

    A subclass defines ``compute(xp, x)`` on arrays (xp is numpy or cupy) and
    ``derivative(x, y, gy)``, the input gradient written in minigrad ops (so it can be
    differentiated again); it may use the input x, the output y or both.
    """

    def forward(self, x: Any) -> Any:
        return self.compute(array_module(x), x)

    def backward(self, gy: Tensor) -> Tensor:
        return self.derivative(self.inputs[0], self.outputs[0](), gy)

    def compute(self, xp: Any, x: Any) -> Any:
        raise NotImplementedError

    def derivative(self, x: Tensor, y: Tensor, gy: Tensor) -> Tensor:
        raise NotImplementedError


class Neg(Unary):
    """-x."""
    def compute(self, xp, x): return -x
    def derivative(self, x, y, gy): return -gy


class Exp(Unary):
    """e^x; d/dx = y."""
    def compute(self, xp, x): return xp.exp(x)
    def derivative(self, x, y, gy): return gy * y


class Log(Unary):
    """log x; d/dx = 1/x."""
    def compute(self, xp, x): return xp.log(x)
    def derivative(self, x, y, gy): return gy / x


class Sqrt(Unary):
    """√x; d/dx = 1 / (2y)."""
    def compute(self, xp, x): return xp.sqrt(x)
    def derivative(self, x, y, gy): return gy / (2 * y)


class Sin(Unary):
    """sin x; d/dx = cos x."""
    def compute(self, xp, x): return xp.sin(x)
    def derivative(self, x, y, gy): return gy * cos(x)


class Cos(Unary):
    """cos x; d/dx = -sin x."""
    def compute(self, xp, x): return xp.cos(x)
    def derivative(self, x, y, gy): return -gy * sin(x)


class TanhFunction(Unary):
    """tanh x; d/dx = 1 - y², as one fused `TanhGrad` op."""
    def compute(self, xp, x): return xp.tanh(x)
    def derivative(self, x, y, gy): return TanhGrad()(y, gy)


class SigmoidFunction(Unary):
    """σ(x) = 1 / (1 + e^-x), computed as exp(-log(1 + e^-x)) (no overflow); d/dx = y (1 - y)."""
    def compute(self, xp, x): return xp.exp(-xp.logaddexp(0, -x))
    def derivative(self, x, y, gy): return SigmoidGrad()(y, gy)


class SoftplusFunction(Unary):
    """log(1 + e^x); d/dx = σ(x)."""
    def compute(self, xp, x): return xp.logaddexp(0, x)
    def derivative(self, x, y, gy): return gy * sigmoid(x)


class TanhGrad(Function):
    """gy (1 - y²), the gradient of tanh given its output y; inputs (y, gy).

    One fused op instead of three (square, subtract, multiply) on the hot path.
    Second order: d/dgy = 1 - y², d/dy = -2 y gy.
    """

    def forward(self, y, gy):
        return gy * (1 - y * y)

    def backward(self, ggx):
        y, gy = self.inputs
        need_y, need_gy = self.needs_input_grad
        return (-2 * y * gy * ggx if need_y else None,
                TanhGrad()(y, ggx) if need_gy else None)


class SigmoidGrad(Function):
    """gy y (1 - y), the gradient of sigmoid given its output y; inputs (y, gy).

    Second order: d/dgy = y (1 - y), d/dy = gy (1 - 2y).
    """

    def forward(self, y, gy):
        return gy * y * (1 - y)

    def backward(self, ggx):
        y, gy = self.inputs
        need_y, need_gy = self.needs_input_grad
        return (ggx * gy * (1 - 2 * y) if need_y else None,
                SigmoidGrad()(y, ggx) if need_gy else None)


class Elu(Function):
    """x if x > 0 else alpha (e^x - 1); derivative 1 or y + alpha (smooth in y, so twice differentiable)."""

    def __init__(self, alpha: float):
        self.alpha = alpha

    def forward(self, x):
        xp = array_module(x)
        return xp.where(x > 0, x, self.alpha * xp.expm1(xp.minimum(x, 0)))

    def backward(self, gy):
        x, y = self.inputs[0], self.outputs[0]()
        one = constant_like(1, gy)
        return gy * where(x.data > 0, one, y + self.alpha)


# ----------------------------------------------------------------------------- piecewise linear
class ScaleBy(Function):
    """gy * mask for a constant array `mask`: the gradient of a piecewise-linear op.

    Linear in gy, constant in everything else, so its own backward is ScaleBy(mask) again
    and nothing flows to the op's input: the second derivative is exactly zero.
    """

    def __init__(self, mask):
        self.mask = mask

    def forward(self, gy):
        return gy * self.mask

    def backward(self, ggx):
        return ScaleBy(self.mask)(ggx)


class Relu(Function):
    def forward(self, x):
        return array_module(x).maximum(x, 0)

    def backward(self, gy):
        return ScaleBy(self.inputs[0].data > 0)(gy)


class LeakyRelu(Function):
    """x if x > 0 else slope * x (computed as max(x, slope x) for 0 <= slope <= 1: no np.where)."""

    def __init__(self, slope: float):
        self.slope = slope

    def forward(self, x):
        xp = array_module(x)
        scaled = x * self.slope
        return xp.maximum(x, scaled) if self.slope <= 1 else xp.minimum(x, scaled)

    def backward(self, gy):
        x = self.inputs[0].data
        factor = (x > 0).astype(x.dtype)
        factor *= 1 - self.slope
        factor += self.slope
        return ScaleBy(factor)(gy)


class Abs(Function):
    def forward(self, x):
        return array_module(x).abs(x)

    def backward(self, gy):
        return ScaleBy(array_module(gy.data).sign(self.inputs[0].data))(gy)


class Clamp(Function):
    def __init__(self, low, high):
        self.low, self.high = low, high

    def forward(self, x):
        return array_module(x).clip(x, self.low, self.high)

    def backward(self, gy):
        x = self.inputs[0].data
        inside = True if self.low is None else x >= self.low  # the bounds pass the gradient, as in PyTorch
        if self.high is not None:
            inside = (x <= self.high) & inside
        return ScaleBy(inside)(gy)


# ----------------------------------------------------------------------------- wrappers
def add(a: TensorLike, b: TensorLike) -> Tensor:
    return binary(Add, a, b)


def sub(a: TensorLike, b: TensorLike) -> Tensor:
    return binary(Sub, a, b)


def mul(a: TensorLike, b: TensorLike) -> Tensor:
    return binary(Mul, a, b)


def div(a: TensorLike, b: TensorLike) -> Tensor:
    return binary(Div, a, b)


def pow(a: TensorLike, b: TensorLike) -> Tensor:
    """a ** b; a constant 0-d exponent (a number or a 0-d array) uses the one-input `PowConst`."""
    if isinstance(a, Tensor) and not isinstance(b, Tensor) and np.ndim(b) == 0:
        return PowConst(b)(a)
    return binary(Pow, a, b)


def maximum(a: TensorLike, b: TensorLike) -> Tensor:
    return binary(Maximum, a, b)


def minimum(a: TensorLike, b: TensorLike) -> Tensor:
    return binary(Minimum, a, b)


def where(cond: Any, a: TensorLike, b: TensorLike) -> Tensor:
    """Elements of `a` where `cond` is true, else of `b` (cond carries no gradient)."""
    if isinstance(cond, Tensor):
        cond = cond.data
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError("where: at least one of a and b must be a Tensor")
    a, b = pair(a, b)
    return Where(cond)(a, b)


def _compare(op: Callable[[Any, Any], Any], a: TensorLike, b: TensorLike) -> Tensor:
    a, b = pair(a, b)
    return Tensor._make(op(a.data, b.data))


def lt(a: TensorLike, b: TensorLike) -> Tensor:
    """a < b as a boolean tensor (no gradient); likewise le, gt, ge, eq, ne."""
    return _compare(operator.lt, a, b)


def le(a: TensorLike, b: TensorLike) -> Tensor:
    return _compare(operator.le, a, b)


def gt(a: TensorLike, b: TensorLike) -> Tensor:
    return _compare(operator.gt, a, b)


def ge(a: TensorLike, b: TensorLike) -> Tensor:
    return _compare(operator.ge, a, b)


def eq(a: TensorLike, b: TensorLike) -> Tensor:
    return _compare(operator.eq, a, b)


def ne(a: TensorLike, b: TensorLike) -> Tensor:
    return _compare(operator.ne, a, b)


def neg(x: Tensor) -> Tensor:
    return Neg()(x)


def exp(x: Tensor) -> Tensor:
    return Exp()(x)


def log(x: Tensor) -> Tensor:
    return Log()(x)


def sqrt(x: Tensor) -> Tensor:
    return Sqrt()(x)


def sin(x: Tensor) -> Tensor:
    return Sin()(x)


def cos(x: Tensor) -> Tensor:
    return Cos()(x)


def tanh(x: Tensor) -> Tensor:
    return TanhFunction()(x)


def sigmoid(x: Tensor) -> Tensor:
    return SigmoidFunction()(x)


def softplus(x: Tensor, beta: float = 1.0) -> Tensor:
    """log(1 + e^(beta x)) / beta."""
    return SoftplusFunction()(x) if beta == 1 else SoftplusFunction()(x * beta) / beta


def relu(x: Tensor) -> Tensor:
    return Relu()(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    return LeakyRelu(negative_slope)(x)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    return Elu(alpha)(x)


def abs(x: Tensor) -> Tensor:
    return Abs()(x)


def clamp(x: Tensor, min: float | None = None, max: float | None = None) -> Tensor:
    """x limited to [min, max]; the gradient is 1 on [min, max] (bounds included, as PyTorch) and 0 outside."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    return Clamp(min, max)(x)
