"""Exercises for Chapter 0 (docs/reverse_mode.md). Run: python3 -m pytest -m exercise -k reverse_mode

Replace each `raise NotImplementedError(...)` with your code; exercise 2 is a bug to find instead.
"""
import numpy as np  # noqa: F401  (for your code)

import minigrad  # noqa: F401  (for your code)
from docs.tiny_engine import Function, sum_to  # noqa: F401  (sum_to: you may need it)


class Softplus(Function):
    """Exercise 1: softplus(x) = log(1 + e^x) for the tiny engine, elementwise.

    Its derivative is the sigmoid 1 / (1 + e^-x). `forward` gets an array and returns one;
    `backward` gets the output's gradient (an array) and returns a tuple with x's gradient.
    Hint: np.logaddexp(0, x) computes log(1 + e^x) without overflow.
    """

    def forward(self, x):
        raise NotImplementedError("exercise 1: Softplus.forward")

    def backward(self, gy):
        raise NotImplementedError("exercise 1: Softplus.backward")


class BiasAdd(Function):
    """Exercise 2: find the bug. x (n, d) plus a bias b that broadcasts to it: (d,) or (1, d).

    The forward is right. The backward is wrong whenever b was broadcast (section 3): the
    tests say how. Fix it.
    """

    def forward(self, x, b):
        return x + b

    def backward(self, gy):
        return gy, gy


def newton_minimize(f, x0, steps):
    """Exercise 3: minimize f by Newton's method, x <- x - f'(x) / f''(x), from x0 (a float).

    `f` takes and returns minigrad Tensors (a one-element float64 tensor in, one out). Take
    f' and f'' with `minigrad.grad` only (section 5), run `steps` steps and return x as a float.
    """
    raise NotImplementedError("exercise 3: newton_minimize")
