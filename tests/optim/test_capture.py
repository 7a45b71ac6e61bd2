"""A captured optimizer step replays as eager steps do, and refuses to replay onto stale arrays.

Uses the CPU capture emulation of `tests.optim.capture_emulation` (Python numbers frozen at
capture, arrays live), on flat buffers (nn.Parameter) and on plain tensors (per parameter).
"""
import numpy as np
import pytest

import minigrad
from minigrad import nn, optim
from minigrad.optim.lr_scheduler import LinearLR
from tests.optim.capture_emulation import EmulatedGraph
from tests.optim.problem import CONFIGS, config_id, gradients, initial_params

WARMUP, STEPS = 2, 30


def make_params(flat: bool):
    if flat:
        return [nn.Parameter(minigrad.Tensor(p, dtype=np.float32)) for p in initial_params()]
    return [minigrad.Tensor(p, dtype=np.float32, requires_grad=True) for p in initial_params()]


def set_grads(params, t):
    """Step t's gradients, written in place once each parameter has one (as a captured step reads them)."""
    for p, g in zip(params, gradients([p.numpy().astype(np.float64) for p in params], t)):
        if p.grad is None:
            p.grad = minigrad.Tensor(g, dtype=np.float32)
        else:
            p.grad.data[...] = g


def run(name, kwargs, flat, captured, monkeypatch, cls=None, steps=STEPS):
    params = make_params(flat)
    opt = (cls or getattr(optim, name))(params, **kwargs)
    graph = None
    for t in range(steps):
        set_grads(params, t)
        if not captured or t < WARMUP:
            opt.step()
        elif graph is None:
            graph = EmulatedGraph(monkeypatch, opt.step)  # capturing runs the step once
        else:
            graph()
    return [p.numpy().copy() for p in params]


@pytest.mark.parametrize("flat", [True, False], ids=["flat", "per-parameter"])
@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_replay_equals_eager(config, flat, monkeypatch):
    name, kwargs = config
    eager = run(name, kwargs, flat, False, monkeypatch)
    replayed = run(name, kwargs, flat, True, monkeypatch)
    moved = max(np.abs(a - b).max() for a, b in zip(eager, initial_params()))
    assert moved > 0.01
    for a, b in zip(eager, replayed):
        np.testing.assert_array_equal(a, b)


class HostCountAdam(optim.Adam):
    """Adam as it was before: the step count a Python int, the bias corrections Python floats."""

    def _update(self, xp, x, g, state, group, lr, first, scratch):
        t = state["host_t"] = state.get("host_t", 0) + 1 if isinstance(state, dict) else 1
        lr_host, (beta1, beta2), eps = float(group["lr"]), group["betas"], group["eps"]
        xp.add(state["step"], 1, out=state["step"])
        m, v, tmp = state["exp_avg"], state["exp_avg_sq"], scratch[0]
        xp.add(m, xp.multiply(xp.subtract(g, m, out=tmp), 1 - beta1, out=tmp), out=m)
        xp.add(xp.multiply(v, beta2, out=v), xp.multiply(xp.multiply(g, g, out=tmp), 1 - beta2, out=tmp), out=v)
        neg_step_size = -lr_host / (1 - beta1 ** t)
        denom = xp.divide(xp.sqrt(v, out=tmp), (1 - beta2 ** t) ** 0.5 * neg_step_size, out=tmp)
        xp.add(denom, eps / neg_step_size, out=denom)
        xp.add(x, xp.divide(m, denom, out=denom), out=x)

    def _state_keys(self, group):
        return super()._state_keys(group) | {"host_t"}


def test_a_python_step_count_would_freeze_at_capture(monkeypatch):
    """The emulation catches what the device step count fixes: eager Adam with a host count is right,
    its replay is not."""
    eager = run("Adam", dict(lr=0.01), False, False, monkeypatch, cls=HostCountAdam)
    reference = run("Adam", dict(lr=0.01), False, False, monkeypatch)
    replayed = run("Adam", dict(lr=0.01), False, True, monkeypatch, cls=HostCountAdam)
    for a, r in zip(eager, reference):
        np.testing.assert_allclose(a, r, rtol=1e-4, atol=1e-5)
    assert max(np.abs(a - b).max() for a, b in zip(eager, replayed)) > 1e-2


def captured_adam(monkeypatch, flat=True, **kwargs):
    params = make_params(flat)
    opt = optim.Adam(params, lr=0.01, **kwargs)
    for t in range(WARMUP):
        set_grads(params, t)
        opt.step()
    set_grads(params, WARMUP)
    return params, opt, EmulatedGraph(monkeypatch, opt.step)


@pytest.mark.parametrize("flat", [True, False], ids=["flat", "per-parameter"])
def test_rebinding_a_parameter_after_capture_raises(flat, monkeypatch):
    params, _, graph = captured_adam(monkeypatch, flat)
    graph()
    params[2].data = params[2].data.copy()
    with pytest.raises(RuntimeError, match=r"Adam: parameter 2 \(shape \(4, 2\)\) was rebound to another array "
                                           r"after the step was captured"):
        graph()


@pytest.mark.parametrize("flat", [True, False], ids=["flat", "per-parameter"])
def test_rebinding_a_state_array_after_capture_raises(flat, monkeypatch):
    params, opt, graph = captured_adam(monkeypatch, flat)
    opt.state[params[1]]["exp_avg_sq"] = opt.state[params[1]]["exp_avg_sq"].copy()
    with pytest.raises(RuntimeError, match=r"state entry 'exp_avg_sq' of a parameter of shape \(4,\) was rebound"):
        graph()


def test_moving_the_module_after_capture_raises(monkeypatch):
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    opt = optim.Adam(net.parameters(), lr=0.01)
    x = minigrad.randn(8, 3)

    def step():
        opt.zero_grad()
        net(x).pow(2).mean().backward()
        opt.step()

    step()
    loss = net(x).pow(2).mean()
    opt.zero_grad(set_to_none=False)
    loss.backward()
    graph = EmulatedGraph(monkeypatch, opt.step)
    net.to(dtype=np.float64)
    with pytest.raises(RuntimeError, match="Module.to to another device or dtype"):
        graph()


def test_changing_a_fixed_hyperparameter_after_capture_raises(monkeypatch):
    _, opt, graph = captured_adam(monkeypatch)
    opt.param_groups[0]["betas"] = (0.5, 0.9)
    with pytest.raises(RuntimeError, match=r"param_groups\[0\] \['betas'\] changed after the step was captured"):
        graph()


def test_state_created_during_capture_raises(monkeypatch):
    params = make_params(True)
    opt = optim.Adam(params, lr=0.01)
    set_grads(params, 0)
    with pytest.raises(RuntimeError, match="while it is being captured; a replay would redo that"):
        EmulatedGraph(monkeypatch, opt.step)


def test_a_python_lr_set_inside_the_captured_step_raises(monkeypatch):
    params, opt, _ = captured_adam(monkeypatch)

    def step():
        opt.param_groups[0]["lr"] = 0.5
        opt.step()

    with pytest.raises(RuntimeError, match=r"param_groups\[0\]\['lr'\] was set to 0.5 inside a step being captured"):
        EmulatedGraph(monkeypatch, step)


@pytest.mark.parametrize("flat", [True, False], ids=["flat", "per-parameter"])
def test_an_lr_set_between_replays_reaches_the_device(flat, monkeypatch):
    def go(captured):
        params = make_params(flat)
        opt = optim.Adam(params, lr=0.01)
        graph = None
        for t in range(12):
            set_grads(params, t)
            if t == 7:
                opt.param_groups[0]["lr"] = 0.002
            if not captured or t < WARMUP:
                opt.step()
            elif graph is None:
                graph = EmulatedGraph(monkeypatch, opt.step)
            else:
                graph()
        return [p.numpy().copy() for p in params]

    for a, b in zip(go(False), go(True)):
        np.testing.assert_array_equal(a, b)


def test_load_state_dict_after_capture_copies_in_place(monkeypatch):
    params, opt, graph = captured_adam(monkeypatch)
    for t in range(WARMUP + 1, WARMUP + 4):
        set_grads(params, t)
        graph()
    saved, values = opt.state_dict(), [p.numpy().copy() for p in params]
    for t in range(WARMUP + 4, WARMUP + 8):
        set_grads(params, t)
        graph()
    for p, v in zip(params, values):
        p.data[...] = v  # in place, as Module.load_state_dict does
    opt.load_state_dict(saved)
    twin = make_params(False)
    twin_opt = optim.Adam(twin, lr=0.01)
    for p, v in zip(twin, values):
        p.data[...] = v
    twin_opt.load_state_dict(saved)
    for t in range(WARMUP + 4, WARMUP + 8):
        set_grads(params, t)
        graph()
        set_grads(twin, t)
        twin_opt.step()
    for a, b in zip(params, twin):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("name", ["SGD", "RMSprop", "Adam"])
def test_a_captured_linear_lr_schedule_advances_on_replay(name, monkeypatch):
    def go(captured):
        params = make_params(True)
        opt = getattr(optim, name)(params, lr=0.02)
        schedule = LinearLR(opt, start_factor=1.0, end_factor=0.1, total_iters=10)
        graph, lrs = None, []

        def step():
            opt.step()
            schedule.step()

        for t in range(15):
            set_grads(params, t)
            if not captured or t < WARMUP:
                step()
            elif graph is None:
                graph = EmulatedGraph(monkeypatch, step)
            else:
                graph()
            lrs.append((opt.param_groups[0]["lr"], float(opt._lrs[0].array), schedule.last_epoch))
        return [p.numpy().copy() for p in params], lrs

    (eager, eager_lrs), (replayed, replayed_lrs) = go(False), go(True)
    assert eager_lrs == replayed_lrs  # host values, device values and epochs alike
    assert [lr for lr, _, _ in eager_lrs] == pytest.approx([0.02 * (1 - 0.9 * min(e, 10) / 10)
                                                            for e in range(1, 16)])
    for a, b in zip(eager, replayed):
        np.testing.assert_array_equal(a, b)
