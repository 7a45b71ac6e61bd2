"""The numerical checkers themselves: they pass correct derivatives and catch wrong ones."""
import numpy as np
import pytest

import minigrad
from minigrad import Function
from minigrad.gradcheck import GradcheckError, gradcheck, gradgradcheck


class WrongCube(Function):
    """x**3 with the derivative 2x**2 (wrong)."""

    def forward(self, x):
        return x ** 3

    def backward(self, gy):
        x = self.inputs[0]
        return gy * 2 * x * x


class CubeWithConstantDerivative(Function):
    """x**3 whose first derivative is right but is computed as a constant (so its own derivative is lost)."""

    def forward(self, x):
        return x ** 3

    def backward(self, gy):
        x = self.inputs[0].detach()
        return gy * (3 * x * x)


def x64(values):
    return minigrad.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def test_gradcheck_passes_correct_derivatives():
    x, y = x64([[0.5, -1.0], [2.0, 0.1]]), x64([1.5, -0.3])
    assert gradcheck(lambda a, b: minigrad.tanh(a * b) + a, [x, y])
    assert gradgradcheck(lambda a, b: minigrad.tanh(a * b) + a, [x, y])


def test_gradcheck_reports_the_input_and_element():
    with pytest.raises(GradcheckError, match=r"gradcheck: input 0 \(shape \(3,\)\), element \(0,\): analytic"):
        gradcheck(lambda x: WrongCube()(x), [x64([1.0, 2.0, 3.0])])


def test_gradgradcheck_catches_a_derivative_that_is_not_differentiable():
    x = x64([1.0, -2.0, 0.5])
    assert gradcheck(lambda t: CubeWithConstantDerivative()(t), [x])
    with pytest.raises(GradcheckError):
        gradgradcheck(lambda t: CubeWithConstantDerivative()(t), [x])


def test_tuple_outputs_and_non_tensor_inputs_and_grad_outputs():
    x = x64([0.5, 1.5])

    def fn(t, scale):
        return t * scale, minigrad.exp(t).sum()

    assert gradcheck(fn, [x, 3.0])
    assert gradgradcheck(fn, [x, 3.0], grad_outputs=[minigrad.tensor([1.0, -1.0]), minigrad.tensor(2.0)])


def test_float32_inputs_are_checked_in_float64():
    x = minigrad.tensor([0.3, 0.7], requires_grad=True)
    assert x.dtype == np.float32
    assert gradgradcheck(lambda t: minigrad.sin(t) * t, [x])
    assert x.dtype == np.float32  # the caller's tensor is untouched


def test_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError, match="gradcheck: no input is a floating-point tensor that requires grad"):
        gradcheck(lambda t: t * 2, [minigrad.arange(3)])
