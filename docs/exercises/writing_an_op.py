"""Exercises for docs/writing_an_op.md. Run: python3 -m pytest -m exercise -k writing_an_op

Replace each `raise NotImplementedError(...)` with your code.
"""
import minigrad  # noqa: F401  (for your code)
from minigrad import Function, Tensor
from minigrad.ops.elementwise import Binary, Unary


class Softplus(Unary):
    """Exercise 1: softplus(x) = log(1 + e^x), d/dx = sigmoid(x) (section 1).

    `compute(xp, x)` on arrays (xp is numpy or cupy: use xp.logaddexp(0, x));
    `derivative(x, y, gy)` on Tensors, in minigrad ops, so it can be differentiated again.
    """

    def compute(self, xp, x):
        raise NotImplementedError("exercise 1: Softplus.compute")

    def derivative(self, x, y, gy):
        raise NotImplementedError("exercise 1: Softplus.derivative")


def softplus(x: Tensor) -> Tensor:
    return Softplus()(x)


class SoftplusGradOnce(Function):
    """Exercise 2: the gradient of softplus as a Function of its own, inputs (x, gy), that has
    no second derivative (section 4): a second derivative through it must raise."""

    def forward(self, x, gy):
        raise NotImplementedError("exercise 2: SoftplusGradOnce.forward")


class SoftplusFirstOrder(Softplus):
    """softplus whose gradient is one SoftplusGradOnce op."""

    def derivative(self, x, y, gy):
        raise NotImplementedError("exercise 2: SoftplusFirstOrder.derivative")


def softplus_first_order(x: Tensor) -> Tensor:
    return SoftplusFirstOrder()(x)


class Hypot(Binary):
    """Exercise 3: hypot(a, b) = sqrt(a² + b²), broadcasting like every binary op.

    `compute(a, b)` on arrays; `grad_a(gy, a, b)` and `grad_b(gy, a, b)` on Tensors at the
    broadcast shape (the `Binary` base sums them back to each input's shape with sum_to).
    d/da = a / hypot(a, b), d/db = b / hypot(a, b).
    """

    def compute(self, a, b):
        raise NotImplementedError("exercise 3: Hypot.compute")

    def grad_a(self, gy, a, b):
        raise NotImplementedError("exercise 3: Hypot.grad_a")

    def grad_b(self, gy, a, b):
        raise NotImplementedError("exercise 3: Hypot.grad_b")


def hypot(a: Tensor, b: Tensor) -> Tensor:
    return Hypot()(a, b)
