"""The graph walk: grad/backward semantics, grad mode, graph freeing, higher derivatives, errors."""
import gc
import math
import weakref

import numpy as np
import pytest

import minigrad
from minigrad import Function, Tensor


class Boom(Function):
    """Identity whose backward must never run."""

    def forward(self, x):
        return x.copy()

    def backward(self, gy):
        raise AssertionError("Boom.backward was called although no requested input is behind it")


class Counted(Function):
    """Identity that counts how often its backward runs."""

    calls = 0

    def forward(self, x):
        return x.copy()

    def backward(self, gy):
        Counted.calls += 1
        return gy


class NoSecond(Function):
    """gy * 2x with no derivative of its own (the default Function.backward)."""

    def forward(self, x, gy):
        return 2 * x * gy


class Square(Function):
    """x**2 whose gradient Function (NoSecond) cannot be differentiated again."""

    def forward(self, x):
        return x * x

    def backward(self, gy):
        return NoSecond()(self.inputs[0], gy)


def leaf(values, **kw):
    return minigrad.tensor(np.asarray(values, dtype=np.float64), requires_grad=True, **kw)


# ----------------------------------------------------------------------------- backward / grad semantics
def test_backward_accumulates_into_leaves(device):
    x = minigrad.tensor([1.0, 2.0], device=device, requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])
    (3 * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 7.0])
    x.zero_grad_()
    assert x.grad is None


def test_backward_fills_only_leaves():
    x = leaf([1.0, 2.0])
    h = x * 3
    (h * h).sum().backward()
    assert h.grad is None
    np.testing.assert_allclose(x.grad.numpy(), 18 * x.numpy())


def test_diamond_graph_is_walked_in_generation_order():
    """x feeds y both directly and through a longer path: every consumer runs before its producer."""
    x = leaf([0.5, -1.0])
    y = x * x
    z = minigrad.exp(y) * y + y
    Counted.calls = 0
    w = Counted()(z)
    (w * x).sum().backward()
    xv = x.numpy()
    yv = xv ** 2
    dz_dy = np.exp(yv) * yv + np.exp(yv) + 1
    expected = (np.exp(yv) * yv + yv) + xv * dz_dy * 2 * xv
    np.testing.assert_allclose(x.grad.numpy(), expected)
    assert Counted.calls == 1  # each Function runs once, with its gradient fully accumulated


def test_grad_writes_no_grad_and_matches_backward():
    x, w = leaf([1.0, -2.0]), leaf([0.5, 0.25])
    y = (minigrad.tanh(x * w) * x).sum()
    gx, gw = minigrad.grad(y, [x, w], retain_graph=True)
    assert x.grad is None and w.grad is None
    y.backward()
    np.testing.assert_allclose(gx.numpy(), x.grad.numpy())
    np.testing.assert_allclose(gw.numpy(), w.grad.numpy())


def test_grad_single_input_returns_a_tuple():
    x = leaf([3.0])
    (g,) = minigrad.grad((x * x).sum(), x)
    np.testing.assert_allclose(g.numpy(), [6.0])


def test_grad_only_walks_paths_that_reach_the_inputs():
    x, w = leaf([1.0, 2.0]), leaf([3.0])
    y = (x * 2).sum() + Boom()(w * w).sum()
    (gx,) = minigrad.grad(y, [x])
    np.testing.assert_allclose(gx.numpy(), [2.0, 2.0])


def test_grad_does_not_differentiate_towards_inputs_not_asked_for():
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    y = (x * Boom()(w)).sum()  # the path to w is behind Boom; only x is asked for
    (gx,) = minigrad.grad(y, x)
    np.testing.assert_allclose(gx.numpy(), [3.0, 4.0])


def test_grad_outputs_weights_each_output():
    x = leaf([1.0, 2.0, 3.0])
    y = x * x
    (g,) = minigrad.grad(y, x, grad_outputs=minigrad.tensor(np.array([1.0, 0.0, -2.0])))
    np.testing.assert_allclose(g.numpy(), [2.0, 0.0, -12.0])
    a, b = x * 2, x.sum()
    ga, = minigrad.grad([a, b], x, grad_outputs=[minigrad.ones(3, dtype=np.float64), None])
    np.testing.assert_allclose(ga.numpy(), [3.0, 3.0, 3.0])


def test_allow_unused():
    x, unused = leaf([1.0]), leaf([2.0])
    y = (x * 3).sum()
    with pytest.raises(RuntimeError, match=r"inputs\[1\].*not used.*allow_unused=True"):
        minigrad.grad(y, [x, unused], retain_graph=True)
    gx, gu = minigrad.grad(y, [x, unused], allow_unused=True)
    np.testing.assert_allclose(gx.numpy(), [3.0])
    assert gu is None


def test_retain_graph_allows_a_second_pass_and_otherwise_the_graph_is_freed():
    x = leaf([1.0, 2.0])
    y = (minigrad.sin(x) * x).sum()
    g1, = minigrad.grad(y, x, retain_graph=True)
    g2, = minigrad.grad(y, x)
    np.testing.assert_allclose(g1.numpy(), g2.numpy())
    with pytest.raises(RuntimeError, match="already freed.*retain_graph=True"):
        minigrad.grad(y, x)
    with pytest.raises(RuntimeError, match="already freed"):
        y.backward()


def test_second_backward_raises_already_freed():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"^\w+: trying to backward through a graph that was already freed"):
        y.backward()


def test_graph_is_freed_after_backward():
    x = leaf([0.5, 1.5])
    h = minigrad.tanh(x)
    fn_ref, h_ref = weakref.ref(h.creator), weakref.ref(h)
    y = (h * 2).sum()
    del h
    gc.collect()
    assert fn_ref() is not None and h_ref() is not None  # held by the graph until backward
    y.backward()
    assert fn_ref() is None and h_ref() is None  # freed by reference counting alone
    assert x.grad is not None


def test_graph_is_freed_when_the_output_is_dropped():
    x = leaf([0.5, 1.5])
    y = minigrad.exp(minigrad.tanh(x) * 3)
    fn_ref = weakref.ref(y.creator.inputs[0].creator)
    del y
    assert fn_ref() is None


def test_create_graph_keeps_the_graph():
    x = leaf([0.5, 1.5])
    y = (x ** 3).sum()
    g, = minigrad.grad(y, x, create_graph=True)
    g2, = minigrad.grad(g.sum(), x)
    np.testing.assert_allclose(g2.numpy(), 6 * x.numpy())
    g3, = minigrad.grad(y, x)  # the first graph was retained by create_graph
    np.testing.assert_allclose(g3.numpy(), 3 * x.numpy() ** 2)


def test_backward_with_create_graph_builds_a_differentiable_grad():
    x = leaf([0.5, 1.5])
    (x ** 3).sum().backward(create_graph=True)
    assert x.grad.requires_grad and x.grad.creator is not None
    g2, = minigrad.grad(x.grad.sum(), x)
    np.testing.assert_allclose(g2.numpy(), 6 * x.numpy())


# ----------------------------------------------------------------------------- grad mode
def test_no_grad_records_nothing():
    x = leaf([1.0, 2.0])
    with minigrad.no_grad():
        y = minigrad.exp(x) * x + 1
        assert not minigrad.is_grad_enabled()
    assert minigrad.is_grad_enabled()
    assert y.creator is None and not y.requires_grad


def test_no_grad_and_enable_grad_as_decorators_and_nested():
    x = leaf([1.0])

    @minigrad.no_grad()
    def frozen(t):
        """doc kept"""
        return t * 2

    @minigrad.enable_grad()
    def tracked(t):
        return t * 2

    assert frozen(x).creator is None and frozen.__doc__ == "doc kept" and frozen.__name__ == "frozen"
    with minigrad.no_grad():
        assert tracked(x).creator is not None
        with minigrad.enable_grad():
            assert (x * 3).requires_grad
        assert not (x * 3).requires_grad
    assert (x * 3).requires_grad


def test_grad_mode_restored_after_an_exception():
    with pytest.raises(ValueError):
        with minigrad.no_grad():
            raise ValueError
    assert minigrad.is_grad_enabled()


def test_ops_on_constants_record_nothing():
    a = minigrad.tensor([1.0, 2.0])
    y = minigrad.exp(a) * 2
    assert y.creator is None and not y.requires_grad


# ----------------------------------------------------------------------------- higher derivatives
def nth_derivative(f, x, n):
    """d^n f / dx^n at x, by repeated grad(..., create_graph=True)."""
    y = f(x)
    for _ in range(n):
        y, = minigrad.grad(y.sum(), x, create_graph=True)
    return y.numpy()


X_POS = np.array([0.3, 0.9, 1.7, 2.5])


@pytest.mark.parametrize("f, third", [
    (lambda x: minigrad.sin(x) * minigrad.exp(x), lambda x: 2 * np.exp(x) * (np.cos(x) - np.sin(x))),
    (minigrad.tanh, lambda x: (6 * np.tanh(x) ** 2 - 2) * (1 - np.tanh(x) ** 2)),
    (lambda x: x ** 3 * minigrad.log(x), lambda x: 6 * np.log(x) + 11),
    (lambda x: minigrad.sigmoid(x),
     lambda x: (s := 1 / (1 + np.exp(-x))) * (1 - s) * (1 - 6 * s + 6 * s * s)),
], ids=["sin_exp", "tanh", "x3_log", "sigmoid"])
def test_third_derivative_matches_closed_form(f, third, device):
    x = minigrad.tensor(X_POS, device=device, requires_grad=True)
    np.testing.assert_allclose(nth_derivative(f, x, 3), third(X_POS), rtol=1e-10, atol=1e-12)


def test_relu_second_derivative_is_exactly_zero():
    x = leaf([-1.0, 0.5, 2.0])
    v = minigrad.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)  # an upstream gradient in the graph
    g, = minigrad.grad(minigrad.relu(x), x, grad_outputs=v, create_graph=True)
    assert g.creator.name == "ScaleBy"
    np.testing.assert_allclose(g.numpy(), [0.0, 2.0, 3.0])
    gg, = minigrad.grad((g * g).sum(), x, allow_unused=True)
    assert gg is None  # nothing flows back to x through ScaleBy
    gv, = minigrad.grad((g * g).sum(), v)  # but it does flow to the upstream gradient
    np.testing.assert_allclose(gv.numpy(), [0.0, 4.0, 6.0])
    c, = minigrad.grad(minigrad.relu(x).sum(), x, create_graph=True)
    assert not c.requires_grad  # a constant upstream gradient gives a constant: nothing is recorded


def test_gradient_penalty_on_a_tiny_mlp_matches_finite_differences():
    """The WGAN-GP shape: d/dW of ||d D(x) / dx||^2 through a relu MLP."""
    minigrad.manual_seed(3)
    w1 = minigrad.randn(5, 3, dtype=np.float64, requires_grad=True)
    w2 = minigrad.randn(1, 5, dtype=np.float64, requires_grad=True)
    x = minigrad.randn(4, 3, dtype=np.float64, requires_grad=True)

    def penalty(w1, w2, x):
        d = minigrad.linear(minigrad.tanh(minigrad.linear(x, w1)), w2)
        g, = minigrad.grad(d.sum(), x, create_graph=True)
        return ((minigrad.sqrt((g * g).sum(axis=1)) - 1) ** 2).mean()

    assert minigrad.gradcheck(penalty, [w1, w2, x])


def test_op_without_second_derivative_raises_when_differentiated_twice():
    x = leaf([1.0, 2.0])
    y = Square()(x).sum()
    g, = minigrad.grad(y, x, create_graph=True)
    np.testing.assert_allclose(g.numpy(), [2.0, 4.0])
    with pytest.raises(RuntimeError, match="NoSecond has no derivative"):
        minigrad.grad(g.sum(), x)


def test_function_without_backward_raises():
    class Frozen(Function):
        def forward(self, x):
            return x + 1

    x = leaf([1.0])
    with pytest.raises(RuntimeError, match="Frozen has no derivative"):
        Frozen()(x).sum().backward()


# ----------------------------------------------------------------------------- bad input
def test_backward_of_a_non_scalar_needs_a_gradient():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"one element, got shape \(2,\)"):
        (x * 2).backward()


def test_gradient_of_wrong_shape():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\) but the output has shape \(2,\)"):
        (x * 2).backward(minigrad.ones(3))
    with pytest.raises(RuntimeError, match=r"gradient has shape \(1,\) but the output has shape \(2,\)"):
        minigrad.grad(x * 2, x, grad_outputs=minigrad.ones(1))


def test_wrong_number_of_grad_outputs():
    x = leaf([1.0])
    with pytest.raises(ValueError, match="2 grad_outputs for 1 outputs"):
        minigrad.grad([x * 2], x, grad_outputs=[None, None])


def test_backward_on_something_that_does_not_require_grad():
    with pytest.raises(RuntimeError, match=r"does not require grad"):
        minigrad.tensor([1.0]).backward()


def test_grad_wrt_a_tensor_not_requiring_grad():
    x, c = leaf([1.0]), minigrad.tensor([2.0])
    with pytest.raises(RuntimeError, match=r"grad: inputs\[1\] \(shape \(1,\)\) does not require grad"):
        minigrad.grad((x * c).sum(), [x, c])


def test_requires_grad_on_int_and_bool_tensors():
    for values in ([1, 2], [True, False]):
        with pytest.raises(TypeError, match=r"only floating-point tensors can require gradients, got dtype"):
            minigrad.tensor(values, requires_grad=True)
    with pytest.raises(TypeError, match=r"only floating-point.*int64"):
        minigrad.arange(3).requires_grad_()


def test_grad_asked_of_an_int_tensor():
    x, i = leaf([1.0]), minigrad.arange(1)
    with pytest.raises(TypeError, match=r"grad: inputs\[1\] has dtype int64; only floating-point"):
        minigrad.grad((x * 2).sum(), [x, i])


def test_grad_inputs_must_be_tensors():
    x = leaf([1.0])
    with pytest.raises(TypeError, match=r"inputs\[0\] is a ndarray, not a Tensor"):
        minigrad.grad((x * 2).sum(), [np.ones(1)])


@pytest.mark.parametrize("a, b, message", [
    ((2, 3), (2, 3), r"matmul: shapes \(2, 3\) and \(2, 3\) are not aligned \(3 != 2\)"),
    ((3,), (4,), r"matmul: shapes \(3,\) and \(4,\) are not aligned"),
    ((2, 2, 3), (4, 5), r"matmul: shapes \(2, 2, 3\) and \(4, 5\)"),
    ((), (3,), r"matmul: 0-d operands are not allowed"),
])
def test_matmul_shape_errors(a, b, message):
    with pytest.raises(ValueError, match=message):
        minigrad.zeros(*a) @ minigrad.zeros(*b)


def test_matmul_batch_shapes_that_do_not_broadcast():
    with pytest.raises(ValueError, match=r"(?i)matmul.*\(2, 1, 3\).*\(3, 3, 1\)"):
        minigrad.zeros(2, 1, 3) @ minigrad.zeros(3, 3, 1)


@pytest.mark.parametrize("op, name", [(lambda a, b: a + b, "Add"), (lambda a, b: a * b, "Mul"),
                                      (lambda a, b: a - b, "Sub"), (lambda a, b: a / b, "Div"),
                                      (minigrad.maximum, "Maximum"),
                                      (lambda a, b: minigrad.where(a > 0, a, b), "Where")])
def test_unbroadcastable_shapes(op, name):
    with pytest.raises(ValueError, match=rf"{name}: shapes .*\(2, 3\).*\(4,\).* cannot be broadcast together"):
        op(minigrad.ones(2, 3), minigrad.ones(4))


@pytest.mark.parametrize("call, message", [
    (lambda x: x.reshape(4, 2), r"reshape: cannot reshape a tensor of shape \(2, 3\) \(6 elements\) into \(4, 2\)"),
    (lambda x: x.sum(axis=2), r"sum: axis 2 is out of range for a tensor with 2 dimensions"),
    (lambda x: x.broadcast_to((4, 3)), r"broadcast_to: .*\(2, 3\).*\(4, 3\)"),
    (lambda x: x.permute(0, 0), r"permute: \(0, 0\) is not a permutation"),
    (lambda x: x[5], r"getitem: index 5 is invalid for shape \(2, 3\)"),
    (lambda x: minigrad.concatenate([x, minigrad.ones(3, 3)], axis=1), r"concatenate: shapes .* differ outside axis 1"),
    (lambda x: minigrad.stack([x, minigrad.ones(3, 2)]), r"stack: all tensors must have the same shape"),
    (lambda x: minigrad.linear(x, minigrad.ones(4, 2)),
     r"linear: input of shape \(2, 3\) does not match weight of shape \(4, 2\)"),
    (lambda x: x.var(axis=0, correction=2), r"var: 2 elements with correction 2"),
    (lambda x: x[:, :0].max(axis=1), r"max: cannot reduce over an empty axis"),
])
def test_bad_arguments_name_the_op_and_shapes(call, message):
    with pytest.raises((ValueError, IndexError), match=message):
        call(minigrad.ones(2, 3))


def test_cuda_without_a_gpu_says_how_to_install_cupy(no_cuda):
    with pytest.raises(RuntimeError, match=r"device 'cuda' is not available.*pip install.*cupy"):
        minigrad.tensor([1.0], device="cuda")
    with pytest.raises(RuntimeError, match="CuPy"):
        minigrad.zeros(2, device="cuda")
    with pytest.raises(RuntimeError, match="CuPy"):
        minigrad.tensor([1.0]).to("cuda")


def test_unknown_device():
    with pytest.raises(ValueError, match=r"unknown device 'tpu'"):
        minigrad.tensor([1.0], device="tpu")


def test_device_mismatch_is_detected():
    """Two different array types in one op: the check that fires for CPU + CUDA operands."""
    class FakeArray(np.ndarray):
        pass

    a = minigrad.tensor([1.0, 2.0])
    b = Tensor._make(np.array([1.0, 2.0], dtype=np.float32).view(FakeArray), False)
    with pytest.raises(RuntimeError, match=r"Add: inputs are on different devices.*\.to\(device\)"):
        a + b


def test_third_derivative_through_a_mlp_is_finite():
    """Repeated create_graph through linear/tanh: each order is a fresh graph of minigrad ops."""
    x = leaf([0.2, -0.4, 0.6])
    w = minigrad.tensor(np.array([[0.5, -1.0, 0.3]]), requires_grad=True)
    y = minigrad.linear(minigrad.tanh(x * 2).reshape(1, 3), w).sum()
    d = nth_derivative(lambda t: minigrad.linear(minigrad.tanh(t * 2).reshape(1, 3), w), x, 3)
    t = np.tanh(2 * x.numpy())
    expected = w.numpy()[0] * 8 * (6 * t ** 2 - 2) * (1 - t ** 2)
    np.testing.assert_allclose(d, expected, rtol=1e-10)
    assert math.isfinite(y.item())


def test_same_tensor_twice_in_one_op_and_in_inputs():
    x = leaf([1.0, -2.0])
    y = x * x + x
    g1, g2 = minigrad.grad(y.sum(), [x, x])
    np.testing.assert_allclose(g1.numpy(), 2 * x.numpy() + 1)
    np.testing.assert_allclose(g2.numpy(), g1.numpy())
    assert not np.shares_memory(g1.data, g2.data)


def test_backward_gradients_do_not_alias_the_upstream_gradient():
    x = leaf([1.0, -2.0])
    gy = minigrad.tensor(np.array([0.5, 2.0]))
    x.reshape(2).backward(gy)  # an identity-like op hands the upstream gradient straight back
    (x + 0).backward(gy)
    assert not np.shares_memory(x.grad.data, gy.data)
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 4.0])
