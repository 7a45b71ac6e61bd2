"""A captured optimizer step replays as eager steps do, and refuses to replay onto stale arrays.

Steps are captured with `minigrad.cuda.graphed`: on a GPU a real CUDA graph, in CI the strict
CuPy stand-in's capture emulation (minigrad/testing/cupy_standin.py: nothing executes during capture, the
replay repeats the recorded kernels with their Python arguments frozen, any sync or host copy
inside raises). Both on flat buffers (nn.Parameter) and on plain tensors (per parameter).
"""
import numpy as np
import pytest

import minigrad
from minigrad import nn, optim
from minigrad.optim.lr_scheduler import LinearLR
from tests.optim.problem import CONFIGS, OPTIMIZER_NAMES, config_id, gradients, initial_params

pytestmark = pytest.mark.cuda

WARMUP, STEPS = 2, 30


def make_params(flat: bool):
    if flat:
        return [nn.Parameter(minigrad.Tensor(p, dtype=np.float32, device="cuda")) for p in initial_params()]
    return [minigrad.Tensor(p, dtype=np.float32, device="cuda", requires_grad=True) for p in initial_params()]


def graphed(step_fn):
    return minigrad.cuda.graphed(step_fn, warmup=WARMUP)


def set_grads(params, t):
    """Step t's gradients, written in place once each parameter has one (as a captured step reads them)."""
    for p, g in zip(params, gradients([p.numpy().astype(np.float64) for p in params], t)):
        if p.grad is None:
            p.grad = minigrad.Tensor(g, dtype=np.float32, device="cuda")
        else:
            p.grad.data[...] = g


def run(name, kwargs, flat, captured, cls=None, steps=STEPS):
    params = make_params(flat)
    opt = (cls or getattr(optim, name))(params, **kwargs)
    step = graphed(opt.step) if captured else opt.step
    for t in range(steps):
        set_grads(params, t)
        step()
    return [p.numpy().copy() for p in params]


@pytest.mark.parametrize("flat", [True, False], ids=["flat", "per-parameter"])
@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_replay_equals_eager(config, flat):
    name, kwargs = config
    eager = run(name, kwargs, flat, False)
    replayed = run(name, kwargs, flat, True)
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


def test_a_python_step_count_would_freeze_at_capture():
    """What the device step count fixes: eager Adam with a host count is right, its replay is not."""
    eager = run("Adam", dict(lr=0.01), False, False, cls=HostCountAdam)
    reference = run("Adam", dict(lr=0.01), False, False)
    replayed = run("Adam", dict(lr=0.01), False, True, cls=HostCountAdam)
    for a, r in zip(eager, reference):
        np.testing.assert_allclose(a, r, rtol=1e-4, atol=1e-5)
    assert max(np.abs(a - b).max() for a, b in zip(eager, replayed)) > 1e-2


def captured_adam(flat=True, **kwargs):
    """Parameters, their Adam, and its step graphed and called until captured."""
    params = make_params(flat)
    opt = optim.Adam(params, lr=0.01, **kwargs)
    step = graphed(opt.step)
    for t in range(WARMUP + 1):
        set_grads(params, t)
        step()
    assert step.graph is not None
    return params, opt, step


@pytest.mark.parametrize("flat", [True, False], ids=["flat", "per-parameter"])
def test_rebinding_a_parameter_after_capture_raises(flat):
    params, _, graph = captured_adam(flat)
    graph()
    params[2].data = params[2].data.copy()
    with pytest.raises(RuntimeError, match=r"Adam: parameter 2 \(shape \(4, 2\)\) was rebound to another array "
                                           r"after the step was captured"):
        graph()


@pytest.mark.parametrize("flat", [True, False], ids=["flat", "per-parameter"])
def test_rebinding_a_state_array_after_capture_raises(flat):
    params, opt, graph = captured_adam(flat)
    opt.state[params[1]]["exp_avg_sq"] = opt.state[params[1]]["exp_avg_sq"].copy()
    with pytest.raises(RuntimeError, match=r"state entry 'exp_avg_sq' of a parameter of shape \(4,\) was rebound"):
        graph()


def test_moving_the_module_after_capture_raises():
    """The whole training step captured: forward, backward into the flat gradients, the update."""
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).to("cuda")
    opt = optim.Adam(net.parameters(), lr=0.01)
    x = minigrad.randn(8, 3, device="cuda")

    def step():
        opt.zero_grad(set_to_none=False)
        loss = net(x).pow(2).mean()
        loss.backward()
        opt.step()
        return loss

    graph = graphed(step)
    losses = [graph().item() for _ in range(WARMUP + 4)]
    assert losses[-1] < losses[WARMUP] < losses[0]  # replays keep training
    net.to(dtype=np.float64)
    with pytest.raises(RuntimeError, match="Module.to to another device or dtype"):
        graph()


def test_changing_a_fixed_hyperparameter_after_capture_raises():
    _, opt, graph = captured_adam()
    opt.param_groups[0]["betas"] = (0.5, 0.9)
    with pytest.raises(RuntimeError, match=r"param_groups\[0\] \['betas'\] changed after the step was captured"):
        graph()


def test_state_created_during_capture_raises():
    params = make_params(True)
    opt = optim.Adam(params, lr=0.01)
    set_grads(params, 0)
    step = minigrad.cuda.graphed(lambda: opt.step() if params[0].grad is not None else None, warmup=1)
    params[0].grad = None
    step()  # warm-up without a gradient for parameter 0: no state yet for the buffer
    set_grads(params, 0)
    with pytest.raises(RuntimeError, match="while it is being captured; a replay would redo that"):
        step()


def test_a_python_lr_set_inside_the_captured_step_raises():
    params = make_params(True)
    opt = optim.Adam(params, lr=0.01)
    calls = []

    def step():
        calls.append(1)
        opt.param_groups[0]["lr"] = 0.01 * 0.9 ** len(calls)  # a host-side decay: frozen in a graph
        opt.step()

    graph = graphed(step)
    set_grads(params, 0)
    for _ in range(WARMUP):
        graph()
    with pytest.raises(RuntimeError, match=r"param_groups\[0\]\['lr'\] was set to 0.00729\d* inside a step being "
                                           r"captured"):
        graph()


@pytest.mark.parametrize("flat", [True, False], ids=["flat", "per-parameter"])
def test_an_lr_set_between_replays_reaches_the_device(flat):
    def go(captured):
        params = make_params(flat)
        opt = optim.Adam(params, lr=0.01)
        step = graphed(opt.step) if captured else opt.step
        for t in range(12):
            set_grads(params, t)
            if t == 7:
                opt.param_groups[0]["lr"] = 0.002
            step()
        return [p.numpy().copy() for p in params]

    for a, b in zip(go(False), go(True)):
        np.testing.assert_array_equal(a, b)


def test_load_state_dict_after_capture_copies_in_place():
    params, opt, graph = captured_adam()
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


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_a_captured_linear_lr_schedule_advances_on_replay(name):
    def go(captured):
        params = make_params(True)
        opt = getattr(optim, name)(params, lr=0.02)
        schedule = LinearLR(opt, start_factor=1.0, end_factor=0.1, total_iters=10)
        lrs = []

        def step():
            opt.step()
            schedule.step()

        step_fn = graphed(step) if captured else step
        for t in range(15):
            set_grads(params, t)
            step_fn()
            lrs.append((opt.param_groups[0]["lr"], float(opt._lrs[0].array), schedule.last_epoch))
        return [p.numpy().copy() for p in params], lrs

    (eager, eager_lrs), (replayed, replayed_lrs) = go(False), go(True)
    assert eager_lrs == replayed_lrs  # host values, device values and epochs alike
    assert [lr for lr, _, _ in eager_lrs] == pytest.approx([0.02 * (1 - 0.9 * min(e, 10) / 10)
                                                            for e in range(1, 16)])
    for a, b in zip(eager, replayed):
        np.testing.assert_array_equal(a, b)
