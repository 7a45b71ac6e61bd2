"""Optimizer API: param groups, zero_grad, skipping missing gradients, hyperparameter checks."""
import numpy as np
import pytest

import minigrad
from minigrad import optim


def param(*shape, value=1.0, dtype=np.float64, device="cpu"):
    return minigrad.full(shape, value, dtype=dtype, device=device, requires_grad=True)


INVALID = [
    (optim.SGD, dict(lr=-0.1), "SGD: invalid lr=-0.1"),
    (optim.SGD, dict(lr=float("nan")), "SGD: invalid lr=nan"),
    (optim.SGD, dict(momentum=-0.5), "SGD: invalid momentum=-0.5"),
    (optim.SGD, dict(weight_decay=-1), "SGD: invalid weight_decay=-1"),
    (optim.SGD, dict(nesterov=True), "SGD: nesterov=True requires momentum > 0 and dampening = 0"),
    (optim.SGD, dict(nesterov=True, momentum=0.9, dampening=0.1), "dampening=0.1"),
    (optim.RMSprop, dict(lr=-1e-3), "RMSprop: invalid lr"),
    (optim.RMSprop, dict(alpha=-0.1), "RMSprop: invalid alpha"),
    (optim.RMSprop, dict(eps=-1e-8), "RMSprop: invalid eps"),
    (optim.RMSprop, dict(momentum=-0.9), "RMSprop: invalid momentum"),
    (optim.RMSprop, dict(weight_decay=-0.1), "RMSprop: invalid weight_decay"),
    (optim.Adam, dict(lr=-1e-3), "Adam: invalid lr"),
    (optim.Adam, dict(eps=-1e-8), "Adam: invalid eps"),
    (optim.Adam, dict(betas=(1.0, 0.999)), "Adam: invalid betas[0]=1.0 (must be in [0, 1))"),
    (optim.Adam, dict(betas=(0.9, -0.1)), "Adam: invalid betas[1]=-0.1"),
    (optim.Adam, dict(betas=0.9), "Adam: betas must be a pair"),
    (optim.Adam, dict(weight_decay=-1e-2), "Adam: invalid weight_decay"),
]


@pytest.mark.parametrize("cls, kwargs, message", INVALID, ids=[f"{c.__name__}-{k}" for c, k, _ in INVALID])
def test_invalid_hyperparameters_raise(cls, kwargs, message):
    with pytest.raises(ValueError) as info:
        cls([param(2)], **kwargs)
    assert message in str(info.value)
    with pytest.raises(ValueError) as info:  # in a param group's overrides too
        cls([{"params": [param(2)]}, {"params": [param(2)], **kwargs}])
    assert message in str(info.value)


def test_bad_params_raise():
    with pytest.raises(ValueError, match="SGD: got an empty parameter list"):
        optim.SGD([])
    with pytest.raises(TypeError, match="a single Tensor of shape"):
        optim.SGD(param(2))
    with pytest.raises(TypeError, match="params\\[1\\] is a ndarray"):
        optim.SGD([param(2), np.zeros(2)])
    with pytest.raises(TypeError, match="dtype int64"):
        optim.SGD([minigrad.tensor([1, 2])])
    with pytest.raises(ValueError, match="not a leaf"):
        optim.SGD([param(2) * 2])
    p = param(2)
    with pytest.raises(ValueError, match="same parameter more than once"):
        optim.SGD([p, p])
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [p]}, {"params": [p]}])
    with pytest.raises(TypeError, match="ordered collection"):
        optim.SGD({p})


def test_param_groups_take_their_own_lr():
    a, b, c = param(3), param(3), param(3)
    opt = optim.SGD([{"params": [a, b]}, {"params": c, "lr": 0.5}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[1]["params"] == [c] and opt.param_groups[1]["momentum"] == 0
    for p in (a, b, c):
        p.grad = minigrad.ones(3, dtype=np.float64)
    opt.step()
    np.testing.assert_allclose(a.numpy(), 0.9)
    np.testing.assert_allclose(b.numpy(), 0.9)
    np.testing.assert_allclose(c.numpy(), 0.5)
    d = param(1)
    opt.add_param_group({"params": [d], "lr": 2.0})
    d.grad = minigrad.ones(1, dtype=np.float64)
    opt.param_groups[0]["lr"] = 0.0  # groups are live: changing lr changes the next step
    opt.step()
    np.testing.assert_allclose(a.numpy(), 0.9)
    np.testing.assert_allclose(d.numpy(), -1.0)


@pytest.mark.parametrize("cls", optim.OPTIMIZERS)
def test_parameters_without_gradient_are_skipped(cls):
    a, b = param(2), param(2)
    kwargs = {"momentum": 0.9} if cls is optim.SGD else {}
    opt = cls([a, b], lr=0.1, **kwargs)
    a.grad = minigrad.ones(2, dtype=np.float64)
    opt.step()
    np.testing.assert_array_equal(b.numpy(), [1.0, 1.0])
    assert b not in opt.state or not opt.state[b]
    assert np.all(a.numpy() < 1.0)


def test_zero_grad():
    a, b = param(2), param(2)
    opt = optim.SGD([a, b], lr=0.1)
    a.grad = minigrad.ones(2, dtype=np.float64)
    grad_array = a.grad.data
    opt.zero_grad(set_to_none=False)
    assert a.grad.data is grad_array and np.all(grad_array == 0)  # zeroed in place
    assert b.grad is None
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_zero_grad_leaves_a_graph_gradient_intact():
    x = param(2, value=3.0)
    (x ** 3).sum().backward(create_graph=True)  # x.grad = 3 x^2 is part of a graph
    g = x.grad
    optim.SGD([x]).zero_grad(set_to_none=False)
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])
    np.testing.assert_array_equal(g.numpy(), [27.0, 27.0])
    (hessian,) = minigrad.grad(g.sum(), [x])
    np.testing.assert_array_equal(hessian.numpy(), [18.0, 18.0])


def test_step_runs_the_closure_with_grad_enabled_and_returns_its_loss():
    x = param(2, value=2.0)
    opt = optim.SGD([x], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (x * x).sum()
        loss.backward()
        return loss

    with minigrad.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 8.0
    np.testing.assert_allclose(x.numpy(), [1.0, 1.0])


def test_gradient_of_the_wrong_shape_raises():
    x = param(2, 3)
    x.grad = minigrad.ones(3, dtype=np.float64)
    with pytest.raises(RuntimeError, match=r"Adam: a parameter of shape \(2, 3\) has a gradient of shape \(3,\)"):
        optim.Adam([x]).step()


@pytest.mark.parametrize("cls", optim.OPTIMIZERS)
def test_updates_in_place_and_keep_float32(cls, device):
    x = param(4, 3, dtype=np.float32, device=device)
    data = x.data
    opt = cls([x], lr=0.1)
    x.grad = minigrad.full((4, 3), 0.5, device=device)
    opt.step()
    assert x.data is data and x.dtype == np.float32 and x.device == device
    assert all(v.dtype == np.float32 for k, v in opt.state[x].items() if k != "step")
    assert float(x.numpy().max()) < 1.0


def test_adam_with_zero_lr_advances_moments_but_not_the_parameter():
    x = param(3)
    opt = optim.Adam([x], lr=0.0)
    x.grad = minigrad.ones(3, dtype=np.float64)
    opt.step()
    np.testing.assert_array_equal(x.numpy(), [1.0, 1.0, 1.0])
    np.testing.assert_allclose(opt.state[x]["exp_avg"], 0.1)
    assert opt.state[x]["step"] == 1


def test_repr_lists_the_groups():
    text = repr(optim.Adam([param(1)], lr=0.5))
    assert text.startswith("Adam (") and "Parameter Group 0" in text and "lr: 0.5" in text


def test_adam_with_beta1_zero_keeps_exactly_the_last_gradient():
    x = param(5, dtype=np.float32)
    opt = optim.Adam([x], lr=1e-4, betas=(0.0, 0.9))
    for _ in range(3):
        x.grad = minigrad.randn(5)
        opt.step()
        np.testing.assert_array_equal(opt.state[x]["exp_avg"], x.grad.numpy())
