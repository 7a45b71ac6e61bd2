"""The checks every OpSpec goes through (shared by the test modules in this folder)."""
from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, settings

import minigrad
from minigrad.gradcheck import gradcheck, gradgradcheck
from tests.ops.specs import OpSpec

#: the active profile's settings, plus permission to use the (stateless) `device` fixture
PROPERTY = settings(
    settings.default,
    suppress_health_check=list(settings.default.suppress_health_check) + [HealthCheck.function_scoped_fixture],
)


def tensors_of(arrays, device: str, dtype=None, requires_grad: bool = True) -> list:
    return [minigrad.tensor(a if dtype is None else a.astype(dtype), device=device, requires_grad=requires_grad)
            for a in arrays]


def on_device(kwargs: dict, device: str) -> dict:
    """The case's non-Tensor arguments, with NumPy arrays (e.g. `where`'s condition) moved to `device`."""
    if device == "cpu":
        return kwargs
    return {k: minigrad.tensor(v, device=device) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}


def check_forward(spec: OpSpec, arrays, kwargs, device: str) -> minigrad.Tensor:
    """The forward value matches the NumPy reference."""
    out = spec.fn(*tensors_of(arrays, device), **on_device(kwargs, device))
    expected = np.asarray(spec.ref(*arrays, **kwargs))
    assert out.shape == expected.shape, f"{spec.name}: shape {out.shape} != {expected.shape}"
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12, err_msg=spec.name)
    return out


def check_no_mutation_no_aliasing(spec: OpSpec, arrays, kwargs, device: str) -> None:
    """Forward and backward leave the inputs untouched; gradients alias neither inputs nor each other."""
    xs = tensors_of(arrays, device)
    before = [x.numpy().copy() for x in xs]
    out = spec.fn(*xs, **on_device(kwargs, device))
    gy = minigrad.tensor(np.random.default_rng(1).standard_normal(out.shape), device=device)
    gy_before = gy.numpy().copy()
    grads = minigrad.grad(out, xs, grad_outputs=gy, retain_graph=True)
    out.backward(gy)
    for x, b in zip(xs, before):
        np.testing.assert_array_equal(x.numpy(), b, err_msg=f"{spec.name} mutated an input")
    np.testing.assert_array_equal(gy.numpy(), gy_before, err_msg=f"{spec.name} mutated the upstream gradient")
    for g, x in zip(grads, xs):
        assert g.shape == x.shape and g.dtype == x.dtype, f"{spec.name}: gradient {g.shape} {g.dtype}"
        np.testing.assert_allclose(x.grad.numpy(), g.numpy(), rtol=1e-12, atol=1e-12, err_msg=spec.name)
    if device != "cpu":
        return
    owned = [x.data for x in xs] + [gy.data]
    for i, g in enumerate(list(grads) + [x.grad for x in xs]):
        for other in owned:
            assert not np.shares_memory(g.data, other), f"{spec.name}: gradient {i} aliases an array"
        owned.append(g.data)


def check_op(spec: OpSpec, case, device: str) -> None:
    arrays, kwargs = case
    check_forward(spec, arrays, kwargs, device)
    check_no_mutation_no_aliasing(spec, arrays, kwargs, device)
    xs = tensors_of(arrays, device)
    kwargs = on_device(kwargs, device)

    def fn(*ts):
        return spec.fn(*ts, **kwargs)

    assert gradcheck(fn, xs)
    if spec.second_order:
        assert gradgradcheck(fn, xs)
