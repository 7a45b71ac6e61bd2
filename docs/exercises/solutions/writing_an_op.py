"""Reference solutions for docs/exercises/writing_an_op.py."""
import minigrad
from minigrad import Function, Tensor
from minigrad.backend import array_module
from minigrad.ops.elementwise import Binary, Unary


class Softplus(Unary):
    def compute(self, xp, x):
        return xp.logaddexp(0, x)

    def derivative(self, x, y, gy):
        return gy * minigrad.sigmoid(x)


def softplus(x: Tensor) -> Tensor:
    return Softplus()(x)


class SoftplusGradOnce(Function):
    def forward(self, x, gy):
        return gy / (1 + array_module(x).exp(-x))


class SoftplusFirstOrder(Softplus):
    def derivative(self, x, y, gy):
        return SoftplusGradOnce()(x, gy)


def softplus_first_order(x: Tensor) -> Tensor:
    return SoftplusFirstOrder()(x)


class Hypot(Binary):
    def compute(self, a, b):
        return array_module(a).hypot(a, b)

    def grad_a(self, gy, a, b):
        return gy * a / hypot(a, b)

    def grad_b(self, gy, a, b):
        return gy * b / hypot(a, b)


def hypot(a: Tensor, b: Tensor) -> Tensor:
    return Hypot()(a, b)
