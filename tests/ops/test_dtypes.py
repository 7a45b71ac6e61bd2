"""float32 stays float32 through every op, Python scalars included (NEP 50 weak scalars)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad
from tests.ops.harness import PROPERTY, on_device, tensors_of
from tests.ops.specs import ALL_SPECS


@pytest.mark.parametrize("spec", ALL_SPECS, ids=repr)
@settings(PROPERTY, max_examples=5)
@given(data=st.data())
def test_float32_in_float32_out(spec, data, device):
    arrays, kwargs = data.draw(spec.cases, label="case")
    xs = tensors_of(arrays, device, dtype=np.float32)
    out = spec.fn(*xs, **on_device(kwargs, device))
    assert out.dtype == (np.float32 if spec.keeps_dtype else np.float64), f"{spec.name} gave {out.dtype}"
    gy = minigrad.ones(*out.shape, dtype=out.dtype, device=device)
    for x, g in zip(xs, minigrad.grad(out, xs, grad_outputs=gy)):
        assert g.dtype == np.float32, f"{spec.name}: gradient of a float32 input is {g.dtype}"


@pytest.mark.parametrize("scalar", [2, 2.5, True])
@pytest.mark.parametrize("op", ["+", "-", "*", "/", "**", "r+", "r-", "r*", "r/", "r**"])
def test_python_and_numpy_scalars_are_weak(op, scalar, device):
    x = minigrad.tensor([0.5, 1.5], device=device, requires_grad=True)
    a, b = (scalar, x) if op.startswith("r") else (x, scalar)
    y = {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "/": lambda: a / b,
         "**": lambda: a ** b}[op.lstrip("r")]()
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_float64_is_kept(device):
    x = minigrad.tensor(np.array([0.5, 1.5]), device=device, requires_grad=True)
    assert x.dtype == np.float64
    y = minigrad.tanh(x * 2.0 + 1) @ minigrad.ones(2, dtype=np.float64, device=device)
    assert y.dtype == np.float64
    y.backward()
    assert x.grad.dtype == np.float64
