"""100-step trajectories of SGD, RMSprop and Adam against float64 NumPy references of their formulas."""
import numpy as np
import pytest

import minigrad
from minigrad import optim
from tests.optim.problem import CONFIGS, OPTIMIZER_NAMES, REFERENCES, config_id, gradients, initial_params

STEPS = 100


def run_minigrad(name, kwargs, steps, dtype=np.float64, device="cpu"):
    params = [minigrad.Tensor(p, dtype=dtype, device=device, requires_grad=True) for p in initial_params()]
    opt = getattr(optim, name)(params, **kwargs)
    trajectory = []
    for t in range(steps):
        values = [p.numpy().astype(np.float64) for p in params]
        for p, g in zip(params, gradients(values, t)):
            p.grad = minigrad.Tensor(g, dtype=dtype, device=device)
        opt.step()
        trajectory.append([p.numpy().copy() for p in params])
    return trajectory


@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_float64_trajectory_matches_reference(config):
    name, kwargs = config
    ours = run_minigrad(name, kwargs, STEPS)
    reference = REFERENCES[name](initial_params(), STEPS, **kwargs)
    moved = max(np.abs(a - b).max() for a, b in zip(reference[-1], initial_params()))
    assert moved > 0.05  # the trajectory goes somewhere, so matching it means something
    for t, (mine, ref) in enumerate(zip(ours, reference)):
        for p, r in zip(mine, ref):
            np.testing.assert_allclose(p, r, rtol=1e-10, atol=1e-10, err_msg=f"{config_id(config)} step {t}")


@pytest.mark.parametrize("config", [c for c in CONFIGS if c[1].get("momentum") or c[0] == "Adam"], ids=config_id)
def test_float32_stays_float32_and_tracks_reference(config, device):
    name, kwargs = config
    ours = run_minigrad(name, kwargs, 30, dtype=np.float32, device=device)
    reference = REFERENCES[name](initial_params(), 30, **kwargs)
    for p, r in zip(ours[-1], reference[-1]):
        assert p.dtype == np.float32
        np.testing.assert_allclose(p, r, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_trains_a_small_mlp_through_autograd(name):
    """End to end: minigrad backward fills .grad, the optimizer lowers a regression loss."""
    minigrad.manual_seed(0)
    rng = np.random.default_rng(0)
    x = minigrad.Tensor(rng.standard_normal((64, 2)), dtype=np.float32)
    y = minigrad.Tensor(np.sin(x.numpy()[:, :1]) + x.numpy()[:, 1:] ** 2)  # float32, like x
    w1 = minigrad.Tensor(rng.standard_normal((2, 16)) * 0.5, dtype=np.float32, requires_grad=True)
    b1 = minigrad.zeros(16, requires_grad=True)
    w2 = minigrad.Tensor(rng.standard_normal((16, 1)) * 0.25, dtype=np.float32, requires_grad=True)
    lr = {"SGD": 0.05, "RMSprop": 0.01, "Adam": 0.02}[name]
    kwargs = {"momentum": 0.9} if name == "SGD" else {}
    opt = getattr(optim, name)([w1, b1, w2], lr=lr, **kwargs)

    def loss_fn():
        return ((minigrad.relu(x @ w1 + b1) @ w2 - y) ** 2).mean()

    first = loss_fn().item()
    for _ in range(150):
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        opt.step()
    assert loss_fn().item() < 0.3 * first
    assert w1.dtype == np.float32 and w1.grad.dtype == np.float32
