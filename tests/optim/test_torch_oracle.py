"""100-step float64 trajectories against torch.optim (skipped without torch)."""
import numpy as np
import pytest

from tests.optim.problem import CONFIGS, OPTIMIZER_NAMES, config_id, gradients, initial_params
from tests.optim.test_trajectories import run_minigrad

torch = pytest.importorskip("torch")

STEPS = 100


def run_torch(name, kwargs, steps):
    params = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in initial_params()]
    opt = getattr(torch.optim, name)(params, foreach=False, **kwargs)
    trajectory = []
    for t in range(steps):
        values = [p.detach().numpy().copy() for p in params]
        for p, g in zip(params, gradients(values, t)):
            p.grad = torch.tensor(g)
        opt.step()
        trajectory.append([p.detach().numpy().copy() for p in params])
    return trajectory, opt


TORCH_CONFIGS = CONFIGS + [("SGD", {}), ("RMSprop", {}), ("Adam", {})]  # the defaults too


@pytest.mark.parametrize("config", TORCH_CONFIGS, ids=config_id)
def test_trajectory_matches_torch(config):
    name, kwargs = config
    ours = run_minigrad(name, kwargs, STEPS)
    theirs, _ = run_torch(name, kwargs, STEPS)
    for t, (mine, ref) in enumerate(zip(ours, theirs)):
        for p, r in zip(mine, ref):
            np.testing.assert_allclose(p, r, rtol=1e-6, atol=1e-6, err_msg=f"{config_id(config)} step {t}")


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_defaults_match_torch(name):
    from minigrad import optim, tensor
    ours = getattr(optim, name)([tensor([1.0], requires_grad=True)]).defaults
    theirs = getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)]).defaults
    assert ours == {k: theirs[k] for k in ours}


@pytest.mark.parametrize("config", [c for c in CONFIGS if c[1].get("momentum") or c[0] != "SGD"], ids=config_id)
def test_state_matches_torch_state_dict(config):
    """Same state entries, same values (torch's step is a float tensor, ours an int)."""
    name, kwargs = config
    from minigrad import optim, Tensor
    params = [Tensor(p, requires_grad=True) for p in initial_params()]
    opt = getattr(optim, name)(params, **kwargs)
    for t in range(5):
        for p, g in zip(params, gradients([p.numpy() for p in params], t)):
            p.grad = Tensor(g)
        opt.step()
    ours = opt.state_dict()["state"]
    _, torch_opt = run_torch(name, kwargs, 5)
    theirs = torch_opt.state_dict()["state"]
    assert ours.keys() == theirs.keys()
    for i in ours:
        assert ours[i].keys() == theirs[i].keys()
        for key, value in ours[i].items():
            np.testing.assert_allclose(value, theirs[i][key].numpy(), rtol=1e-9, atol=1e-12)
