"""The docs' exercises: each chapter's docs/exercises/<chapter>.py, checked by the tests below.

A student edits the file of a chapter and runs ``python3 -m pytest -m exercise -k <chapter>``.
``--exercises=solutions`` points the same tests at docs/exercises/solutions/, which is how the
README's test line (and so CI) checks that every exercise has a working solution.
"""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

import minigrad
from docs import tiny_engine

pytestmark = pytest.mark.exercise
EXERCISES = Path(__file__).resolve().parent.parent / "docs" / "exercises"


def load(request, chapter):
    """The exercise module of `chapter`: the student's file, or the reference solution with --exercises=solutions."""
    which = request.config.getoption("--exercises")
    path = (EXERCISES / "solutions" if which == "solutions" else EXERCISES) / f"{chapter}.py"
    spec = importlib.util.spec_from_file_location(f"exercises_{which}_{chapter}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def reverse_mode(request):
    return load(request, "reverse_mode")


@pytest.fixture
def internals(request):
    return load(request, "internals")


@pytest.fixture
def writing_an_op(request):
    return load(request, "writing_an_op")


def f64(values, requires_grad=True):
    return minigrad.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


# ----------------------------------------------------------------------------- Chapter 0: reverse_mode.md
def test_reverse_mode_1_softplus(reverse_mode):
    values = np.array([-30.0, -2.0, -0.5, 0.0, 1.0, 40.0])
    weights = np.arange(6.0)
    x = tiny_engine.Tensor(values)
    y = reverse_mode.Softplus()(x)
    np.testing.assert_allclose(y.data, np.logaddexp(0, values), rtol=1e-12)
    (y * weights).sum().backward()
    xm = f64(values)
    expected, = minigrad.grad((minigrad.softplus(xm) * f64(weights, False)).sum(), xm)
    np.testing.assert_allclose(x.grad, expected.numpy(), rtol=1e-12)


@pytest.mark.parametrize("bias_shape", [(3,), (1, 3)])
def test_reverse_mode_2_bias_add(reverse_mode, bias_shape):
    rng = np.random.default_rng(0)
    x, b = tiny_engine.Tensor(rng.standard_normal((4, 3))), tiny_engine.Tensor(rng.standard_normal(bias_shape))
    weights = rng.standard_normal((4, 3))
    (reverse_mode.BiasAdd()(x, b) * weights).sum().backward()
    assert b.grad.shape == bias_shape, f"the bias's gradient has shape {b.grad.shape}, the bias {bias_shape}"
    np.testing.assert_allclose(b.grad, weights.sum(axis=0).reshape(bias_shape), rtol=1e-12)
    np.testing.assert_allclose(x.grad, weights, rtol=1e-12)


@pytest.mark.parametrize("f, x0, minimum", [
    (lambda x: x ** 4 - 2 * x ** 2, 2.0, 1.0),                  # DeZero's step 33
    (lambda x: (x - 3) ** 2 + minigrad.exp(-x), 0.0, 3.024296),   # a minimum with no closed form
])
def test_reverse_mode_3_newton(reverse_mode, f, x0, minimum):
    x = reverse_mode.newton_minimize(f, x0, steps=10)
    assert isinstance(x, float), f"newton_minimize should return a float, got {type(x).__name__}"
    assert abs(x - minimum) < 1e-6
    at = f64(x)
    slope, = minigrad.grad(f(at), at)
    assert abs(slope.item()) < 1e-9, "after 10 Newton steps f'(x) should vanish"


# ----------------------------------------------------------------------------- internals.md
def example_graphs():
    """A few graphs with shared tensors and several paths: (output, its leaves that require grad)."""
    minigrad.manual_seed(0)
    a, b = f64([0.5, -1.0, 2.0]), f64([1.5, 0.5, -0.25])
    constant = f64([1.0, 2.0, 3.0], requires_grad=False)
    h = minigrad.tanh(a * b)
    deep = h
    for _ in range(5):
        deep = deep * a + h
    unused = f64([9.0])
    return [((h * h + minigrad.exp(h)).sum(), [a, b]),
            ((deep * constant).sum(), [a, b]),
            ((a * 2).sum() + (constant * unused).sum(), [a, unused]),
            ((constant * 3).sum() + (a * 0).sum(), [a])]


def test_internals_1_topological_order(internals):
    for output, _ in example_graphs():
        order = internals.topological_order(output)
        expected = minigrad.autograd.backward_order(output)
        assert sorted(map(id, order)) == sorted(map(id, expected)), "every Function behind the output, once"
        position = {id(fn): i for i, fn in enumerate(order)}
        for fn in order:
            for x in fn.inputs:
                if x.creator is not None:
                    assert position[id(fn)] < position[id(x.creator)], (
                        f"{fn.name} consumes an output of {x.creator.name}, so it must come first")


def test_internals_2_gradient_penalty(internals):
    critic = minigrad.nn.Sequential(minigrad.nn.Linear(2, 8), minigrad.nn.Tanh(), minigrad.nn.Linear(8, 1))
    critic.to(dtype=np.float64)
    points = minigrad.randn(6, 2, dtype=np.float64, requires_grad=True)
    weights = list(critic.parameters())

    def reference(pts):
        g, = minigrad.grad(critic(pts).sum(), pts, create_graph=True)
        return ((minigrad.sqrt((g * g).sum(axis=1)) - 1) ** 2).mean()

    penalty = internals.gradient_penalty(critic, points)
    assert penalty.shape == ()
    np.testing.assert_allclose(penalty.item(), reference(points).item(), rtol=1e-6)
    ours = minigrad.grad(penalty, weights, allow_unused=True)
    theirs = minigrad.grad(reference(points), weights, allow_unused=True)
    assert [a is None for a in ours] == [b is None for b in theirs]   # the last bias moves no gradient
    for a, b in zip(ours, theirs):
        if a is not None:
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-7)


def test_internals_3_leaves_reached(internals):
    for output, leaves in example_graphs():
        found = internals.leaves_reached(output)
        assert sorted(map(id, found)) == sorted(map(id, leaves)), (
            f"expected {len(leaves)} leaves, got {len(found)} (each leaf once, only those that require grad)")
        output.backward(retain_graph=True)   # the example graphs share tensors
        assert all(leaf.grad is not None for leaf in found)


# ----------------------------------------------------------------------------- writing_an_op.md
def test_writing_an_op_1_softplus(writing_an_op):
    x = f64([-3.0, -0.5, 0.0, 0.7, 4.0])
    np.testing.assert_allclose(writing_an_op.softplus(x).numpy(), np.logaddexp(0, x.numpy()), rtol=1e-12)
    assert minigrad.gradcheck(writing_an_op.softplus, [x])
    assert minigrad.gradgradcheck(writing_an_op.softplus, [x]), "the derivative must be written in minigrad ops"


def test_writing_an_op_2_refuses_a_second_derivative(writing_an_op):
    x = f64([-1.0, 0.0, 2.0])
    assert minigrad.gradcheck(writing_an_op.softplus_first_order, [x])
    g, = minigrad.grad(writing_an_op.softplus_first_order(x).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.numpy(), 1 / (1 + np.exp(-x.numpy())), rtol=1e-12)
    with pytest.raises(RuntimeError, match="SoftplusGradOnce has no derivative"):
        minigrad.grad((g * g).sum(), x)


@pytest.mark.parametrize("shape_a, shape_b", [((3, 4), (3, 4)), ((3, 1), (4,)), ((2, 3), ())])
def test_writing_an_op_3_hypot(writing_an_op, shape_a, shape_b):
    rng = np.random.default_rng(0)
    a, b = f64(rng.uniform(0.5, 2, shape_a)), f64(rng.uniform(-2, -0.5, shape_b))
    np.testing.assert_allclose(writing_an_op.hypot(a, b).numpy(), np.hypot(a.numpy(), b.numpy()), rtol=1e-12)
    assert minigrad.gradcheck(writing_an_op.hypot, [a, b])
    assert minigrad.gradgradcheck(writing_an_op.hypot, [a, b])
