"""Reference solutions for docs/exercises/reverse_mode.py (Chapter 0)."""
import numpy as np

import minigrad
from docs.tiny_engine import Function, sum_to


class Softplus(Function):
    """softplus(x) = log(1 + e^x); d/dx = sigmoid(x) = 1 / (1 + e^-x)."""

    def forward(self, x):
        return np.logaddexp(0, x)

    def backward(self, gy):
        x = self.inputs[0].data
        return (gy / (1 + np.exp(-x)),)


class BiasAdd(Function):
    """x (n, d) plus a bias b that broadcasts to it."""

    def forward(self, x, b):
        return x + b

    def backward(self, gy):
        x, b = self.inputs
        return gy, sum_to(gy, b.shape)   # the bias was copied to every row: its gradient sums them


def newton_minimize(f, x0, steps):
    x = minigrad.tensor(x0, dtype=minigrad.float64, requires_grad=True)
    for _ in range(steps):
        dfdx, = minigrad.grad(f(x), x, create_graph=True)
        d2fdx2, = minigrad.grad(dfdx, x)
        x = (x - dfdx / d2fdx2).detach().requires_grad_()
    return x.item()
