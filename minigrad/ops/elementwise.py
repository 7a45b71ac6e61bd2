"""Elementwise operations.

Smooth ops are rows of a table: a forward on arrays and a derivative rule written in
minigrad ops, so every gradient is itself differentiable. Piecewise-linear ops (relu,
leaky_relu, abs, clamp) multiply the gradient by a constant mask (`ScaleBy`): their
second derivative is exactly zero, so double backward sends nothing back through them.
"""
from __future__ import annotations

import numpy as np

from minigrad.autograd import Function
from minigrad.backend import array_module
from minigrad.ops.common import broadcast_shapes, constant_like, pair
from minigrad.tensor import Tensor


def unbroadcast(g: Tensor, shape: tuple) -> Tensor:
    """Sum a broadcast gradient `g` back down to `shape`."""
    if g.shape == shape:
        return g
    from minigrad.ops.shape import sum_to

    return sum_to(g, shape)


# ----------------------------------------------------------------------------- binary
class Binary(Function):
    """Base for broadcasting binary ops: names the op and shapes when broadcasting fails."""

    def forward(self, a, b):
        try:
            return self.compute(a, b)
        except ValueError:
            broadcast_shapes(self.name, a.shape, b.shape)
            raise


class Add(Binary):
    def compute(self, a, b):
        return a + b

    def backward(self, gy):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        return (unbroadcast(gy, a.shape) if need_a else None,
                unbroadcast(gy, b.shape) if need_b else None)


class Sub(Binary):
    def compute(self, a, b):
        return a - b

    def backward(self, gy):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        return (unbroadcast(gy, a.shape) if need_a else None,
                unbroadcast(-gy, b.shape) if need_b else None)


class Mul(Binary):
    def compute(self, a, b):
        return a * b

    def backward(self, gy):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        return (unbroadcast(gy * b, a.shape) if need_a else None,
                unbroadcast(gy * a, b.shape) if need_b else None)


class Div(Binary):
    def compute(self, a, b):
        return a / b

    def backward(self, gy):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        ga = gy / b if need_a or need_b else None
        return (unbroadcast(ga, a.shape) if need_a else None,
                unbroadcast(-ga * a / b, b.shape) if need_b else None)


class Pow(Binary):
    """a ** b for two tensors: d/da = b a^(b-1), d/db = a^b log a."""

    def compute(self, a, b):
        return a ** b

    def backward(self, gy):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        ga = unbroadcast(gy * b * a ** (b - 1), a.shape) if need_a else None
        gb = unbroadcast(gy * a ** b * log(a), b.shape) if need_b else None
        return ga, gb


class Maximum(Binary):
    """Elementwise max; at ties the gradient is split evenly (as in PyTorch)."""

    def compute(self, a, b):
        return array_module(a).maximum(a, b)

    def backward(self, gy):
        a, b = self.inputs
        return _select_backward(self, gy, a.data > b.data, a.data == b.data)


class Minimum(Binary):
    def compute(self, a, b):
        return array_module(a).minimum(a, b)

    def backward(self, gy):
        a, b = self.inputs
        return _select_backward(self, gy, a.data < b.data, a.data == b.data)


def _select_backward(fn: Function, gy: Tensor, a_wins, tie):
    a, b = fn.inputs
    need_a, need_b = fn.needs_input_grad
    weight_a = a_wins + 0.5 * tie
    ga = unbroadcast(ScaleBy(weight_a.astype(gy.dtype))(gy), a.shape) if need_a else None
    gb = unbroadcast(ScaleBy((1 - weight_a).astype(gy.dtype))(gy), b.shape) if need_b else None
    return ga, gb


# ----------------------------------------------------------------------------- with a Python scalar
# A Python number c stays a weak scalar (float32 * 2.0 is float32) and gets no gradient.
class AddConst(Function):
    """x + c."""

    def __init__(self, c):
        self.c = c

    def forward(self, x):
        return x + self.c

    def backward(self, gy):
        return gy


class MulConst(Function):
    """x * c: d/dx = c."""

    def __init__(self, c):
        self.c = c

    def forward(self, x):
        return x * self.c

    def backward(self, gy):
        return MulConst(self.c)(gy)


class RDivConst(Function):
    """c / x: d/dx = -c / x² = -y / x."""

    def __init__(self, c):
        self.c = c

    def forward(self, x):
        return self.c / x

    def backward(self, gy):
        return gy * (-self.outputs[0]() / self.inputs[0])


_PY_SCALARS = (int, float)


class Where(Function):
    """cond ? a : b with a constant boolean `cond`."""

    def __init__(self, cond):
        self.cond = cond

    def forward(self, a, b):
        try:
            return array_module(a).where(self.cond, a, b)
        except ValueError:
            broadcast_shapes("Where", self.cond.shape, a.shape, b.shape)
            raise

    def backward(self, gy):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        zero = zeros_scalar(gy)
        ga = unbroadcast(where(self.cond, gy, zero), a.shape) if need_a else None
        gb = unbroadcast(where(self.cond, zero, gy), b.shape) if need_b else None
        return ga, gb


def zeros_scalar(like: Tensor) -> Tensor:
    return Tensor._make(array_module(like.data).zeros((), like.dtype), False)


# ----------------------------------------------------------------------------- unary, smooth
class Unary(Function):
    """A smooth elementwise op given by a row of `UNARY_RULES` (its `forward_rule` and `derivative_rule`)."""

    def forward(self, x):
        return self.forward_rule(array_module(x), x)

    def backward(self, gy):
        return self.derivative_rule(self.inputs[0], self.outputs[0](), gy)


class TanhGrad(Function):
    """gy (1 - y²), the gradient of tanh given its output y; inputs (y, gy).

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


def _sigmoid_array(xp, x):
    return xp.exp(-xp.logaddexp(0, -x))


#: name: (forward on arrays, derivative rule (x, y, gy) -> gx on Tensors)
UNARY_RULES = {
    "Neg": (lambda xp, x: -x, lambda x, y, gy: -gy),
    "Exp": (lambda xp, x: xp.exp(x), lambda x, y, gy: gy * y),
    "Log": (lambda xp, x: xp.log(x), lambda x, y, gy: gy / x),
    "Sqrt": (lambda xp, x: xp.sqrt(x), lambda x, y, gy: gy / (2 * y)),
    "Sin": (lambda xp, x: xp.sin(x), lambda x, y, gy: gy * cos(x)),
    "Cos": (lambda xp, x: xp.cos(x), lambda x, y, gy: -gy * sin(x)),
    "Tanh": (lambda xp, x: xp.tanh(x), lambda x, y, gy: TanhGrad()(y, gy)),
    "Sigmoid": (_sigmoid_array, lambda x, y, gy: SigmoidGrad()(y, gy)),
    "Softplus": (lambda xp, x: xp.logaddexp(0, x), lambda x, y, gy: gy * sigmoid(x)),
}

_UNARY_CLASSES = {
    name: type(name, (Unary,), {"forward_rule": staticmethod(fwd), "derivative_rule": staticmethod(rule),
                                "__doc__": f"Elementwise {name.lower()}."})
    for name, (fwd, rule) in UNARY_RULES.items()
}
Neg, Exp, Log, Sqrt, Sin, Cos, Tanh, Sigmoid, Softplus = (_UNARY_CLASSES[n] for n in UNARY_RULES)


class PowConst(Function):
    """x ** c for a constant exponent c: d/dx = c x^(c-1)."""

    def __init__(self, c):
        self.c = c

    def forward(self, x):
        return x * x if self.c == 2 else x ** self.c

    def backward(self, gy):
        x, c = self.inputs[0], self.c
        return gy * (2 * x) if c == 2 else gy * (c * x ** (c - 1))


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
def add(a, b) -> Tensor:
    if type(b) in _PY_SCALARS and isinstance(a, Tensor):
        return AddConst(b)(a)
    if type(a) in _PY_SCALARS and isinstance(b, Tensor):
        return AddConst(a)(b)
    return Add()(*pair(a, b))


def sub(a, b) -> Tensor:
    if type(b) in _PY_SCALARS and isinstance(a, Tensor):
        return AddConst(-b)(a)
    if type(a) in _PY_SCALARS and isinstance(b, Tensor):
        return AddConst(a)(Neg()(b))
    return Sub()(*pair(a, b))


def mul(a, b) -> Tensor:
    if type(b) in _PY_SCALARS and isinstance(a, Tensor):
        return MulConst(b)(a)
    if type(a) in _PY_SCALARS and isinstance(b, Tensor):
        return MulConst(a)(b)
    return Mul()(*pair(a, b))


def div(a, b) -> Tensor:
    if type(b) in _PY_SCALARS and isinstance(a, Tensor):
        return MulConst(1.0 / b)(a)
    if type(a) in _PY_SCALARS and isinstance(b, Tensor):
        return RDivConst(a)(b)
    return Div()(*pair(a, b))


def pow(a, b) -> Tensor:  # noqa: A001 (mirrors torch.pow)
    if isinstance(a, Tensor) and not isinstance(b, Tensor) and np.ndim(b) == 0:
        return PowConst(b)(a)
    return Pow()(*pair(a, b))


def maximum(a, b) -> Tensor:
    return Maximum()(*pair(a, b))


def minimum(a, b) -> Tensor:
    return Minimum()(*pair(a, b))


def where(cond, a, b) -> Tensor:
    """Elements of `a` where `cond` is true, else of `b` (cond carries no gradient)."""
    if isinstance(cond, Tensor):
        cond = cond.data
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError("where: at least one of a and b must be a Tensor")
    a, b = pair(a, b)
    return Where(cond)(a, b)


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
    return Tanh()(x)


def sigmoid(x: Tensor) -> Tensor:
    return Sigmoid()(x)


def softplus(x: Tensor, beta: float = 1.0) -> Tensor:
    """log(1 + e^(beta x)) / beta."""
    return Softplus()(x) if beta == 1 else Softplus()(x * beta) / beta


def relu(x: Tensor) -> Tensor:
    return Relu()(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    return LeakyRelu(negative_slope)(x)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    return Elu(alpha)(x)


def abs(x: Tensor) -> Tensor:  # noqa: A001 (mirrors torch.abs)
    return Abs()(x)


def clamp(x: Tensor, min=None, max=None) -> Tensor:  # noqa: A002 (PyTorch's argument names)
    """x limited to [min, max]; the gradient is 1 on [min, max] (bounds included, as PyTorch) and 0 outside."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    return Clamp(min, max)(x)
