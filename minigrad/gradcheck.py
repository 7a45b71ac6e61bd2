"""Numerical gradient checks (central differences in float64), as public tools.

`gradcheck` compares analytic first derivatives with finite differences; `gradgradcheck`
applies the same check to the map (inputs, upstream gradient) -> input gradients, which
verifies second derivatives.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from minigrad.backend import array_module
from minigrad.autograd import grad
from minigrad.tensor import Tensor, is_floating


class GradcheckError(AssertionError):
    """Analytic and numeric derivatives disagree."""


def _outputs(result) -> list[Tensor]:
    return [result] if isinstance(result, Tensor) else [r for r in result if r is not None]


def _prepare(inputs: Sequence) -> list:
    """float64 leaf copies of the floating inputs (requiring grad); others are passed as they are."""
    prepared = []
    for x in inputs:
        if isinstance(x, Tensor) and is_floating(x.dtype):
            copy = Tensor._make(x.data.astype(np.float64), False)
            prepared.append(copy.requires_grad_(x.requires_grad or x.is_leaf))
        else:
            prepared.append(x)
    return prepared


def _projection(fn: Callable, inputs: list, weights: list | None, rng):
    """L(inputs) = sum_k <w_k, fn(inputs)_k> with fixed random weights w_k."""
    outs = _outputs(fn(*inputs))
    if weights is None:
        weights = [Tensor._make(array_module(o.data).asarray(rng.standard_normal(o.shape)), False) for o in outs]
    total = None
    for o, w in zip(outs, weights):
        term = (o.astype(np.float64) * w).sum()
        total = term if total is None else total + term
    return total, weights


def gradcheck(fn: Callable, inputs: Sequence, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              seed: int = 0) -> bool:
    """Check fn's first derivatives against central differences, elementwise, in float64.

    `fn(*inputs)` returns a Tensor or a tuple of Tensors. Every floating input that requires
    grad (or is a leaf) is checked. Returns True, or raises GradcheckError naming the input,
    the element, and the analytic and numeric values.
    """
    inputs = _prepare(inputs)
    rng = np.random.default_rng(seed)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input is a floating-point tensor that requires grad")
    total, weights = _projection(fn, inputs, None, rng)
    analytic: Sequence[Tensor | None] = [None] * len(checked)
    if total is not None and total.requires_grad:
        analytic = grad(total, [inputs[i] for i in checked], allow_unused=True)
    for i, g in zip(checked, analytic):
        x = inputs[i]
        a = np.zeros(x.shape) if g is None else np.asarray(_cpu(g.data), dtype=np.float64)
        numeric = _numeric_gradient(fn, inputs, i, weights, eps)
        bad = np.abs(a - numeric) > atol + rtol * np.abs(numeric)
        if bad.any():
            idx = tuple(int(j) for j in np.argwhere(bad)[0])
            raise GradcheckError(
                f"gradcheck: input {i} (shape {x.shape}), element {idx}: "
                f"analytic {a[idx]:.8g} vs numeric {numeric[idx]:.8g} "
                f"({int(bad.sum())} of {bad.size} elements differ)"
            )
    return True


def _cpu(array):
    return array if isinstance(array, np.ndarray) else array.get()


def _numeric_gradient(fn, inputs, i, weights, eps):
    x = inputs[i]
    base = x.data
    numeric = np.zeros(x.shape)
    for idx in np.ndindex(*x.shape):
        values = []
        for step in (eps, -eps):
            perturbed = base.copy()
            perturbed[idx] += step
            trial = list(inputs)  # fn may itself differentiate (gradgradcheck), so inputs keep requires_grad
            trial[i] = Tensor._make(perturbed, False).requires_grad_(x.requires_grad)
            total, _ = _projection(fn, trial, weights, None)
            values.append(float(total.item()))
        numeric[idx] = (values[0] - values[1]) / (2 * eps)
    return numeric


def gradgradcheck(fn: Callable, inputs: Sequence, grad_outputs: Sequence | None = None, eps: float = 1e-6,
                  atol: float = 1e-5, rtol: float = 1e-3, seed: int = 0) -> bool:
    """Check second derivatives: gradcheck of (inputs, v) -> grad(<v, fn(inputs)>, inputs, create_graph=True).

    `grad_outputs` are the upstream gradients v (random float64 tensors by default); the
    check covers the derivatives with respect to both the inputs and v.
    """
    inputs = _prepare(inputs)
    rng = np.random.default_rng(seed + 1)
    outs = _outputs(fn(*inputs))
    if grad_outputs is None:
        grad_outputs = [Tensor._make(array_module(o.data).asarray(rng.standard_normal(o.shape)), False) for o in outs]
    vs = [Tensor._make(v.data.astype(np.float64), False).requires_grad_() for v in grad_outputs]
    n = len(inputs)

    def first_derivatives(*args):
        xs, v = list(args[:n]), list(args[n:])
        ys = _outputs(fn(*xs))
        wrt = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
        gs = grad(ys, wrt, grad_outputs=v, create_graph=True, allow_unused=True)
        return tuple(g if g is not None else Tensor._make(x.data * 0, False) for g, x in zip(gs, wrt))

    return gradcheck(first_derivatives, inputs + vs, eps=eps, atol=atol, rtol=rtol, seed=seed)
