"""The fused CUDA kernels (minigrad.kernels) against the unfused code they replace, on the CuPy stand-in
(whose ElementwiseKernel evaluates the kernels' own C bodies) or a GPU."""
import numpy as np
import pytest

import minigrad
import minigrad.nn as nn
from minigrad import optim

pytestmark = pytest.mark.cuda


def _trajectory(device, make_optimizer, steps=6):
    """Parameters after `steps` updates with fixed gradients: the CPU runs the unfused code, CUDA the kernel."""
    rng = np.random.default_rng(0)
    params = [minigrad.Tensor(rng.standard_normal(s).astype(np.float32), device=device, requires_grad=True)
              for s in ((5, 3), (3,))]
    opt = make_optimizer(params)
    for _ in range(steps):
        for p in params:
            p.grad = minigrad.Tensor(rng.standard_normal(p.shape).astype(np.float32), device=device)
        opt.step()
    return [p.numpy() for p in params]


@pytest.mark.parametrize("make_optimizer", [
    lambda ps: optim.Adam(ps, lr=1e-2, betas=(0.5, 0.9)),
    lambda ps: optim.Adam(ps, lr=1e-2, betas=(0.0, 0.9), weight_decay=1e-2),
    lambda ps: optim.RMSprop(ps, lr=1e-2, alpha=0.9, eps=1e-10),
], ids=["adam", "adam-beta1-0-decay", "rmsprop"])
def test_fused_optimizer_kernels_match_the_unfused_updates(make_optimizer):
    for fused, unfused in zip(_trajectory("cuda", make_optimizer), _trajectory("cpu", make_optimizer)):
        np.testing.assert_allclose(fused, unfused, rtol=2e-6, atol=1e-7)


def test_an_adam_step_is_one_kernel_per_buffer_after_its_scalars(standin):
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1)).to("cuda")
    opt = optim.Adam(net.parameters(), lr=1e-3)
    net(minigrad.randn(3, 4, device="cuda")).sum().backward()
    opt.step()
    with standin.record() as rec:
        opt.step()
    assert rec.launches["kernel:minigrad_adam"] == 1 and "sqrt" not in rec.launches, rec.launches


def test_relu_with_mask_matches_the_unfused_layer_and_its_derivatives(standin):
    minigrad.manual_seed(1)
    cpu = nn.Sequential(nn.Linear(3, 6), nn.ReLU(), nn.Linear(6, 1))
    gpu = nn.Sequential(nn.Linear(3, 6), nn.ReLU(), nn.Linear(6, 1)).to("cuda")
    gpu.load_state_dict(cpu.state_dict())
    x = np.random.default_rng(2).standard_normal((7, 3)).astype(np.float32)
    results = []
    for net, device in ((cpu, "cpu"), (gpu, "cuda")):
        xt = minigrad.tensor(x, device=device, requires_grad=True)
        g, = minigrad.grad(net(xt).sum(), xt, create_graph=True)
        penalty = (g * g).sum() + net(xt).sum()
        penalty.backward()
        results.append([g.numpy()] + [p.grad.numpy() for p in net.parameters()])
    for a, b in zip(*results):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
    with standin.record() as rec:
        gpu(minigrad.tensor(x, device="cuda"))
    assert rec.launches["kernel:minigrad_relu_mask"] == 1 and "maximum" not in rec.launches


@pytest.mark.parametrize("lr", [1e-4, 0.0, 0.3])
@pytest.mark.parametrize("betas", [(0.5, 0.9), (0.0, 0.9), (0.9, 0.999)])
def test_adam_scalars_kernel_matches_the_array_calls(standin, lr, betas):
    """The step count and the step's scalars from one kernel launch, against Adam's array calls on the
    CPU in float64 cast to float32: bit for bit (lr = 0 included: a finite first scale, -inf second)."""
    from minigrad import kernels

    xp = minigrad.backend.xp_for("cuda")
    step, lr_device = xp.zeros((), np.float64), xp.full((), lr, np.float64)
    step_ref = np.zeros((), np.float64)
    for _ in range(40):
        with standin.record() as rec:
            got = kernels.adam_scalars(step, lr_device, betas[0], betas[1], 1e-8, np.dtype(np.float32))
        assert rec.launches == {"kernel:minigrad_adam_scalars": 1} and not rec.syncs and not rec.copies
        want = optim.Adam._scalars(np, step_ref, np.float64(lr), betas[0], betas[1], 1e-8)
        np.testing.assert_array_equal(step.get(), step_ref)
        for g, w in zip(got, want):
            assert g.dtype == np.float32
            np.testing.assert_array_equal(g.get(), w.astype(np.float32))
    assert (lr == 0) == np.isneginf(got[1].get())


#: issue 10's target: device operations (kernel launches, views excluded) per iteration of workload A
WORKLOAD_A_LAUNCH_CEILING = 600


def _workload_a_launches(monkeypatch, standin, width):
    """Launches of one eager iteration of workload A (5 critic steps with the penalty, 1 generator step)
    on the stand-in, its MLPs `width` wide (the count does not depend on the width: checked below)."""
    import os

    monkeypatch.syspath_prepend(os.path.join(os.path.dirname(os.path.dirname(__file__)), "benchmarks"))
    import bench_workloads

    monkeypatch.setattr(bench_workloads, "TOY_DIMS", (width,) * 3)
    workload = bench_workloads.Workload("A", "minigrad", "cuda")
    workload.iteration()  # the optimizers' state
    with standin.record() as rec:
        workload.iteration()
    assert not rec.syncs, rec.summary()
    assert len(rec.copies) == 16  # the workload's own host data: real, z (and eps) per step, as PyTorch's
    return rec


def test_workload_a_launches_at_most_600_per_iteration(monkeypatch, standin):
    rec = _workload_a_launches(monkeypatch, standin, 16)
    assert rec.n_launches == _workload_a_launches(monkeypatch, standin, 24).n_launches
    assert rec.n_launches <= WORKLOAD_A_LAUNCH_CEILING, sorted(rec.launches.items(), key=lambda kv: -kv[1])
    assert rec.launches["matmul"] == 228  # every GEMM is still there: the count fell by fusing, not by skipping work


@pytest.mark.parametrize("axis,keepdims", [(None, False), (0, True), ((1, 2), False)])
def test_mean_is_one_reduction_kernel_with_the_unfused_gradients(standin, axis, keepdims):
    x = np.random.default_rng(5).standard_normal((4, 3, 5)).astype(np.float32)
    results = []
    for device in ("cpu", "cuda"):
        xt = minigrad.tensor(x, device=device, requires_grad=True)
        with standin.record() as rec:
            y = minigrad.mean(xt, axis=axis, keepdims=keepdims)
        assert rec.n_launches == (1 if device == "cuda" else 0), rec.launches
        g, = minigrad.grad((y * y).sum(), xt, create_graph=True)
        g.sum().backward()
        results.append((y.numpy(), g.numpy(), xt.grad.numpy()))
    for a, b in zip(*results):
        np.testing.assert_array_equal(b, a)  # the stand-in sums as NumPy does: bit for bit


@pytest.mark.parametrize("one_sided", [False, True])
def test_norm_penalty_slope_kernel_matches_the_unfused_derivative(standin, one_sided):
    """2 (n - 1), or 2 max(n - 1, 0): the penalty's derivative, one kernel (a third derivative reaches it)."""
    from minigrad.ops.penalty import NormPenaltySlope

    n = np.array([0.25, 1.0, 1.5, 3.0], np.float32)
    want = NormPenaltySlope(one_sided)(minigrad.tensor(n)).numpy()
    with standin.record() as rec:
        got = NormPenaltySlope(one_sided)(minigrad.tensor(n, device="cuda"))
    name = "kernel:minigrad_norm_penalty_slope" + ("_one_sided" if one_sided else "")
    assert rec.launches[name] == 1
    np.testing.assert_array_equal(got.numpy(), want)
