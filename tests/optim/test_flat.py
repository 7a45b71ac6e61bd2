"""Flat parameter buffers: layout, the whole-buffer path against the per-parameter one and PyTorch,
gradients landing in the buffer, falling back, moving, clipping, zeroing, opting out."""
import copy

import numpy as np
import pytest

import minigrad
from minigrad import nn, optim
from minigrad.nn.flat import buffer_of
from minigrad.nn.utils import clamp_parameters_
from minigrad.optim.optimizer import Optimizer
from tests.optim.problem import CONFIGS, OPTIMIZER_NAMES, config_id, gradients, initial_params


def flat_params(dtype=np.float64):
    return [nn.Parameter(minigrad.Tensor(p, dtype=dtype)) for p in initial_params()]


def plain_params(dtype=np.float64):
    return [minigrad.Tensor(p, dtype=dtype, requires_grad=True) for p in initial_params()]


def trajectory(params, opt, steps, start=0, skip=None):
    """Steps with problem.gradients; ``skip(t)`` names a parameter index left without a gradient at step t."""
    out = []
    for t in range(start, start + steps):
        for i, (p, g) in enumerate(zip(params, gradients([p.numpy().astype(np.float64) for p in params], t))):
            p.grad = None if skip is not None and skip(t) == i else minigrad.Tensor(g, dtype=p.dtype)
        opt.step()
        out.append([p.numpy().copy() for p in params])
    return out


def count_per_parameter_updates(monkeypatch):
    calls = []
    original = Optimizer._step_param
    monkeypatch.setattr(Optimizer, "_step_param",
                        lambda self, p, *a, **k: (calls.append(p), original(self, p, *a, **k)))
    return calls


def test_an_optimizer_puts_a_group_into_one_buffer_per_dtype():
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    extra = nn.Parameter(minigrad.zeros(5, dtype=np.float64))
    mine = nn.Parameter(minigrad.zeros(2), flat=False)
    params = list(net.parameters())
    arrays = [p.numpy().copy() for p in params]
    optim.SGD(params + [extra, mine], lr=0.1)
    buffer = buffer_of(params[0])
    assert all(buffer_of(p) is buffer for p in params) and buffer.data.size == 3 * 4 + 4 + 4 * 2 + 2
    assert buffer_of(extra) is not buffer and buffer_of(extra).data.dtype == np.float64
    assert buffer_of(mine) is None
    for p, a, view in zip(params, arrays, buffer.views):
        assert p.data is view and p.data.base is buffer.data
        np.testing.assert_array_equal(p.numpy(), a)


@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_whole_buffer_path_equals_the_per_parameter_path_exactly(config, monkeypatch):
    name, kwargs = config
    ours = flat_params()
    opt = getattr(optim, name)(ours, **kwargs)
    calls = count_per_parameter_updates(monkeypatch)
    flat_run = trajectory(ours, opt, 60)
    assert calls == []  # every step took the whole-buffer path
    reference = trajectory(plain := plain_params(), getattr(optim, name)(plain, **kwargs), 60)
    for mine, ref in zip(flat_run, reference):
        for a, b in zip(mine, ref):
            np.testing.assert_array_equal(a, b)
    if name != "SGD" or kwargs.get("momentum"):
        p = ours[1]
        entries = [v for k, v in opt.state[p].items() if k != "step"]
        assert entries and all(v.base is not None for v in entries)  # views into flat state arrays
        assert len({id(opt.state[q]["step"]) for q in ours if "step" in opt.state[q]}) <= 1


@pytest.mark.parametrize("config", [c for c in CONFIGS if c[0] == "Adam" or c[1].get("momentum")][:8],
                         ids=config_id)
def test_whole_buffer_path_matches_torch(config):
    torch = pytest.importorskip("torch")
    name, kwargs = config
    ours = flat_params()
    mine = trajectory(ours, getattr(optim, name)(ours, **kwargs), 100)
    theirs = [torch.tensor(p, requires_grad=True) for p in initial_params()]
    topt = getattr(torch.optim, name)(theirs, foreach=False, **kwargs)
    for t in range(100):
        for p, g in zip(theirs, gradients([p.detach().numpy().copy() for p in theirs], t)):
            p.grad = torch.tensor(g)
        topt.step()
        for a, b in zip(mine[t], theirs):
            np.testing.assert_allclose(a, b.detach().numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_a_missing_gradient_falls_back_to_per_parameter_updates(name, monkeypatch):
    kwargs = {"lr": 0.01, **({"momentum": 0.9} if name == "SGD" else {})}
    skip = lambda t: 2 if t in (3, 4) else None  # noqa: E731
    ours = flat_params()
    calls = count_per_parameter_updates(monkeypatch)
    mine = trajectory(ours, getattr(optim, name)(ours, **kwargs), 20, skip=skip)
    assert calls  # fell back
    reference = trajectory(plain := plain_params(), getattr(optim, name)(plain, **kwargs), 20, skip=skip)
    for a, b in zip(mine[-1], reference[-1]):
        np.testing.assert_array_equal(a, b)


def test_backward_accumulates_into_the_flat_gradient_buffer(monkeypatch):
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    opt = optim.Adam(net.parameters(), lr=0.01)
    buffer = buffer_of(net[0].weight)
    x = minigrad.randn(6, 3)
    net(x).sum().backward()
    first = buffer.grad.copy()
    assert all(p.grad.data is v for p, v in zip(net.parameters(), buffer.grad_views))
    net(x).sum().backward()  # accumulates
    np.testing.assert_allclose(buffer.grad, 2 * first, rtol=1e-6)
    grads = minigrad.grad(net(x).sum(), list(net.parameters()))
    for p, g in zip(net.parameters(), grads):
        p.grad = g  # assigning copies into the buffer
        np.testing.assert_array_equal(p.grad.numpy(), g.numpy())
        assert p.grad.data is buffer.grad_views[p._flat_index]
    calls = count_per_parameter_updates(monkeypatch)
    opt.step()
    assert calls == []


def test_a_gradient_with_a_graph_is_kept_as_it_is():
    w = nn.Parameter(minigrad.tensor([1.0, 2.0]))
    optim.SGD([w], lr=0.1)
    (w ** 3).sum().backward(create_graph=True)
    assert w.grad.creator is not None  # still differentiable, so not copied into the buffer
    (hessian,) = minigrad.grad(w.grad.sum(), [w])
    np.testing.assert_allclose(hessian.numpy(), [6.0, 12.0])


def test_rebinding_data_before_capture_falls_back_and_stays_right(monkeypatch):
    ours, ref = flat_params(), plain_params()
    opt, ref_opt = optim.Adam(ours, lr=0.01), optim.Adam(ref, lr=0.01)
    trajectory(ours, opt, 3)
    trajectory(ref, ref_opt, 3)
    ours[0].data = ours[0].data.copy()
    calls = count_per_parameter_updates(monkeypatch)
    mine = trajectory(ours, opt, 5, start=3)
    theirs = trajectory(ref, ref_opt, 5, start=3)
    assert calls
    for a, b in zip(mine[-1], theirs[-1]):
        np.testing.assert_array_equal(a, b)


def test_module_to_moves_the_whole_buffer_and_the_state(monkeypatch):
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    twin = copy.deepcopy(net).flat_(False)
    assert all(buffer_of(p) is None for p in twin.parameters())
    opt, twin_opt = optim.Adam(net.parameters(), lr=0.01), optim.Adam(twin.parameters(), lr=0.01)
    x = minigrad.randn(8, 3)

    def step(model, o):
        o.zero_grad()
        model(x.to(dtype=model[0].weight.dtype)).pow(2).mean().backward()
        o.step()

    for _ in range(3):
        step(net, opt)
        step(twin, twin_opt)
    net.to(dtype=np.float64)
    twin.to(dtype=np.float64)
    twin_opt.load_state_dict(twin_opt.state_dict())  # the per-parameter state follows the dtype this way
    buffer = buffer_of(net[0].weight)
    assert buffer.data.dtype == np.float64 and all(p.data.base is buffer.data for p in net.parameters())
    calls = count_per_parameter_updates(monkeypatch)
    for _ in range(3):
        step(net, opt)
        step(twin, twin_opt)
    assert len(calls) == 4 * 3  # twin's parameters only
    assert all(v.dtype == np.float64 for s in opt.state.values() for k, v in s.items() if k != "step")
    for a, b in zip(net.parameters(), twin.parameters()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7)


def test_load_state_dict_of_a_module_writes_into_the_buffer():
    net = nn.Linear(3, 2)
    optim.SGD(net.parameters(), lr=0.1)
    views = [p.data for p in net.parameters()]
    net.load_state_dict({"weight": np.ones((2, 3)), "bias": np.full(2, 2.0)})
    assert all(p.data is v for p, v in zip(net.parameters(), views))
    np.testing.assert_array_equal(buffer_of(net.weight).data, [1, 1, 1, 1, 1, 1, 2, 2])


def test_zero_grad_in_place_zeroes_the_buffer_and_keeps_the_views():
    net = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 1))
    opt = optim.SGD(net.parameters(), lr=0.1)
    net(minigrad.randn(5, 3)).sum().backward()
    grads = [p.grad.data for p in net.parameters()]
    opt.zero_grad(set_to_none=False)
    assert all(p.grad.data is g for p, g in zip(net.parameters(), grads))
    assert not buffer_of(net[0].weight).grad.any()
    net(minigrad.randn(5, 3)).sum().backward()
    net.zero_grad(set_to_none=False)
    assert not buffer_of(net[0].weight).grad.any() and all(p.grad.data is g for p, g in zip(net.parameters(), grads))
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


@pytest.mark.parametrize("flat", [True, False])
def test_clamp_parameters_clamps_every_value(flat):
    net = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1)).flat_(flat)
    optim.RMSprop(net.parameters(), lr=0.1)
    expected = [np.clip(p.numpy(), -0.1, 0.1) for p in net.parameters()]
    clamp_parameters_(net, -0.1, 0.1)
    for p, e in zip(net.parameters(), expected):
        np.testing.assert_array_equal(p.numpy(), e)
    assert (buffer_of(net[0].weight) is not None) == flat


def test_clamp_parameters_rejects_bad_input():
    with pytest.raises(ValueError, match=r"clamp_parameters_: min=1 must not exceed max=-1"):
        clamp_parameters_([minigrad.zeros(2)], 1, -1)
    with pytest.raises(TypeError, match=r"clamp_parameters_: parameters\[0\] is a ndarray, not a Tensor"):
        clamp_parameters_([np.zeros(2)], -1, 1)


def test_opting_out_copies_a_parameter_out_of_its_buffer(monkeypatch):
    ours, ref = flat_params(), plain_params()
    opt, ref_opt = optim.SGD(ours, lr=0.05, momentum=0.9), optim.SGD(ref, lr=0.05, momentum=0.9)
    trajectory(ours, opt, 2)
    trajectory(ref, ref_opt, 2)
    ours[1].flat = False
    assert buffer_of(ours[1]) is None and ours[1].data.base is None
    for a, b in zip(trajectory(ours, opt, 3, start=2)[-1], trajectory(ref, ref_opt, 3, start=2)[-1]):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(TypeError, match="Parameter.flat must be a bool"):
        ours[0].flat = 1


def test_a_deep_copy_owns_its_arrays():
    net = nn.Linear(2, 2)
    optim.SGD(net.parameters(), lr=0.1)
    twin = copy.deepcopy(net)
    assert all(buffer_of(p) is None and p.data.base is None for p in twin.parameters())
    twin.weight.data[...] = 7.0
    assert not np.any(net.weight.numpy() == 7.0)


@pytest.mark.parametrize("config", [c for c in CONFIGS if c[0] != "SGD" or c[1].get("momentum")], ids=config_id)
def test_state_dict_round_trip_with_flat_buffers(config, monkeypatch):
    name, kwargs = config
    ours = flat_params()
    opt = getattr(optim, name)(ours, **kwargs)
    trajectory(ours, opt, 10)
    saved, values = opt.state_dict(), [p.numpy().copy() for p in ours]
    arrays = {k: v for k, v in opt.state[ours[0]].items()}
    expected = trajectory(ours, opt, 10, start=10)
    for p, v in zip(ours, values):
        p.data[...] = v
    opt.load_state_dict(saved)
    assert all(opt.state[ours[0]][k] is v for k, v in arrays.items())  # copied in place
    calls = count_per_parameter_updates(monkeypatch)
    again = trajectory(ours, opt, 10, start=10)
    assert calls == []
    fresh = flat_params()
    for p, v in zip(fresh, values):
        p.data[...] = v
    fresh_opt = getattr(optim, name)(fresh, **kwargs)
    fresh_opt.load_state_dict(saved)  # into a new optimizer: flat state arrays, one shared step
    resumed = trajectory(fresh, fresh_opt, 10, start=10)
    assert calls == []
    for a, b, c in zip(expected[-1], again[-1], resumed[-1]):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


@pytest.mark.cuda
@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_on_the_device_a_step_launches_a_few_kernels_per_buffer_and_never_syncs(name, standin):
    """Workload A's critic (2-512-512-512-1): the whole-buffer step's launches do not grow with the
    number of parameters; no sync and no host copy either way."""
    kwargs = {"SGD": dict(lr=1e-3, momentum=0.9), "RMSprop": dict(lr=5e-5), "Adam": dict(lr=1e-4, betas=(0.5, 0.9))}
    launches = {}
    for flat in (True, False):
        critic = nn.Sequential(nn.Linear(2, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 512),
                               nn.ReLU(), nn.Linear(512, 1)).to("cuda").flat_(flat)
        opt = getattr(optim, name)(critic.parameters(), **kwargs[name])
        for p in critic.parameters():
            p.grad = minigrad.randn(*p.shape, device="cuda")
        opt.step()
        with standin.record() as rec:
            opt.step()
            opt.zero_grad(set_to_none=False)
            clamp_parameters_(critic, -0.01, 0.01)
        assert not rec.syncs and not rec.copies, rec.summary()
        launches[flat] = rec.n_launches
    n_params = 8
    assert launches[True] <= 32  # one buffer: ~10-25 for the step, 1 zeroing, 1 clamp
    assert launches[False] >= n_params * (launches[True] - 2) / 2


@pytest.mark.cuda
def test_moving_a_trained_module_to_the_device_moves_its_buffer_and_optimizer_state(monkeypatch):
    nets = [nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)) for _ in range(2)]
    nets[1].load_state_dict(nets[0].state_dict())
    opts = [optim.Adam(n.parameters(), lr=0.01, amsgrad=True) for n in nets]
    x = minigrad.randn(8, 3)

    def step(net, opt):
        opt.zero_grad()
        net(x.to(net[0].weight.device)).pow(2).mean().backward()
        opt.step()

    for _ in range(2):
        for net, opt in zip(nets, opts):
            step(net, opt)
    nets[0].to("cuda")
    buffer = buffer_of(nets[0][0].weight)
    assert buffer.data.__class__ is not np.ndarray and all(p.device == "cuda" for p in nets[0].parameters())
    calls = count_per_parameter_updates(monkeypatch)
    for _ in range(3):
        for net, opt in zip(nets, opts):
            step(net, opt)
    assert calls == []
    assert all(v.__class__ is not np.ndarray for s in opts[0].state.values() for v in s.values())
    for a, b in zip(nets[0].parameters(), nets[1].parameters()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.cuda
def test_backward_sums_gradients_straight_into_the_flat_buffer(standin):
    """A parameter reached three times gets its summed gradient written by the last add into its buffer view
    (no copy after it); a second backward accumulates in place; the values are those of a parameter outside
    any buffer."""
    results = []
    for flat in (True, False):
        minigrad.manual_seed(0)
        net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1)).to("cuda").flat_(flat)
        optim.SGD(net.parameters(), lr=0.1)  # gathers the parameters into a buffer (when flat)
        assert all((buffer_of(p) is not None) == flat for p in net.parameters())
        x = minigrad.tensor(np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32), device="cuda")
        with standin.record() as rec:
            (net(x).sum() + net(2 * x).mean() - net(-x).sum()).backward()
        if flat:
            assert "copyto" not in rec.launches and "copy" not in rec.launches, rec.launches
            held = [p.grad for p in net.parameters()]
        first = [p.grad.numpy().copy() for p in net.parameters()]
        net(x).sum().backward()
        if flat:
            assert all(p.grad is g for p, g in zip(net.parameters(), held))  # accumulated in place
        results.append((first, [p.grad.numpy() for p in net.parameters()]))
    (flat_first, flat_second), (own_first, own_second) = results
    for a, b in zip(flat_first + flat_second, own_first + own_second):
        np.testing.assert_array_equal(a, b)
