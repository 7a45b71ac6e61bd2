"""Every op of the table (tests/ops/specs.py) against PyTorch in float64.

For each case: the forward values, the first derivatives under a random upstream
gradient v, and the second derivatives of the gradient-norm penalty
P(x) = sum_i ||d<v, f(x)>/dx_i||^2 (the quantity WGAN-GP differentiates).
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

import minigrad  # noqa: E402
from tests.ops.harness import PROPERTY  # noqa: E402
from tests.ops.specs import ALL_SPECS  # noqa: E402

TORCH_SPECS = [s for s in ALL_SPECS if s.torch is not None]


def _zeros_for_none(grads, like):
    return [np.zeros(x.shape) if g is None else g for g, x in zip(grads, like)]


def minigrad_derivatives(spec, arrays, kwargs, v):
    xs = [minigrad.tensor(a, requires_grad=True) for a in arrays]
    y = spec.fn(*xs, **kwargs)
    gs = minigrad.grad(y, xs, grad_outputs=minigrad.tensor(v), create_graph=True, allow_unused=True)
    first = [None if g is None else g.numpy().copy() for g in gs]
    terms = [(g * g).sum() for g in gs if g is not None]
    penalty = sum(terms[1:], terms[0]) if terms else None
    if penalty is None or not penalty.requires_grad:
        second = [None] * len(xs)
    else:
        second = [None if h is None else h.numpy() for h in minigrad.grad(penalty, xs, allow_unused=True)]
    return y.numpy(), _zeros_for_none(first, arrays), _zeros_for_none(second, arrays)


def torch_derivatives(spec, arrays, kwargs, v):
    xs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    y = spec.torch(*xs, **kwargs)
    gs = torch.autograd.grad(y, xs, grad_outputs=torch.as_tensor(v), create_graph=True, allow_unused=True)
    first = [None if g is None else g.detach().numpy().copy() for g in gs]
    terms = [(g * g).sum() for g in gs if g is not None]
    penalty = sum(terms[1:], terms[0]) if terms else None
    if penalty is None or not penalty.requires_grad:
        second = [None] * len(xs)
    else:
        second = [None if h is None else h.detach().numpy(force=True)
                  for h in torch.autograd.grad(penalty, xs, allow_unused=True)]
    return y.detach().numpy(), _zeros_for_none(first, arrays), _zeros_for_none(second, arrays)


@pytest.mark.parametrize("spec", TORCH_SPECS, ids=repr)
@settings(PROPERTY, max_examples=min(PROPERTY.max_examples, 20))
@given(data=st.data())
def test_matches_pytorch(spec, data):
    arrays, kwargs = data.draw(spec.cases, label="case")
    y_mg = spec.fn(*[minigrad.tensor(a) for a in arrays], **kwargs)
    v = data.draw(st.just(np.random.default_rng(0).standard_normal(y_mg.shape)), label="v")
    ours = minigrad_derivatives(spec, arrays, kwargs, v)
    theirs = torch_derivatives(spec, arrays, kwargs, v)
    for what, a, b in zip(("value", "first derivative", "penalty second derivative"), ours, theirs):
        for i, (x, y) in enumerate(zip(a if isinstance(a, list) else [a], b if isinstance(b, list) else [b])):
            assert np.shape(x) == np.shape(y), f"{spec.name} {what} [{i}]: shape {np.shape(x)} vs {np.shape(y)}"
            np.testing.assert_allclose(x, y, rtol=1e-9, atol=1e-10, err_msg=f"{spec.name} {what} [{i}]")


def test_every_op_with_a_torch_counterpart_is_cross_checked():
    assert len(TORCH_SPECS) >= len(ALL_SPECS) - 1  # only getitem with negative steps lacks one


# ----------------------------------------------------------------------------- at the kinks and ties
KINK_CASES = {
    "relu": (lambda m: minigrad.relu(m), torch.relu, [[-1.0, 0.0, 2.0]]),
    "leaky_relu": (lambda m: minigrad.leaky_relu(m, 0.1), lambda t: torch.nn.functional.leaky_relu(t, 0.1),
                   [[-1.0, 0.0, 2.0]]),
    "elu": (minigrad.elu, torch.nn.functional.elu, [[-1.0, 0.0, 2.0]]),
    "abs": (minigrad.abs, torch.abs, [[-1.0, 0.0, 2.0]]),
    "clamp": (lambda m: minigrad.clamp(m, -0.5, 0.5), lambda t: torch.clamp(t, -0.5, 0.5),
              [[-1.0, -0.5, 0.0, 0.5, 1.0]]),
    "max_all": (lambda m: minigrad.max(m), torch.amax, [[1.0, 3.0, 3.0, -2.0]]),
    "max_axis": (lambda m: minigrad.max(m, axis=1), lambda t: torch.amax(t, dim=1),
                 [[[1.0, 1.0, 0.0], [2.0, 2.0, 2.0]]]),
    "min_axis": (lambda m: minigrad.min(m, axis=0, keepdims=True), lambda t: torch.amin(t, dim=0, keepdim=True),
                 [[[1.0, 1.0], [1.0, 0.0]]]),
    "maximum": (minigrad.maximum, torch.maximum, [[1.0, 2.0, 3.0], [1.0, 0.0, 3.0]]),
    "minimum": (minigrad.minimum, torch.minimum, [[1.0, 2.0, 3.0], [1.0, 0.0, 3.0]]),
}


@pytest.mark.parametrize("name", sorted(KINK_CASES))
def test_subgradients_at_kinks_and_ties_match_pytorch(name):
    """At a kink or a tie PyTorch picks a particular subgradient (ties split evenly); so does minigrad."""
    fn, tfn, values = KINK_CASES[name]
    xs = [minigrad.tensor(np.array(v), requires_grad=True) for v in values]
    ts = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values]
    y, ty = fn(*xs), tfn(*ts)
    v = np.random.default_rng(0).standard_normal(y.shape)
    ours = minigrad.grad(y, xs, grad_outputs=minigrad.tensor(v))
    theirs = torch.autograd.grad(ty, ts, grad_outputs=torch.as_tensor(v))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, err_msg=name)
