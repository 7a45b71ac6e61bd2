"""state_dict / load_state_dict: PyTorch's layout, exact continuation, clear errors."""
import numpy as np
import pytest

import minigrad
from minigrad import optim
from tests.optim.problem import CONFIGS, config_id, gradients, initial_params


def make(name, kwargs, values=None):
    params = [minigrad.Tensor(p, requires_grad=True) for p in (values or initial_params())]
    return params, getattr(optim, name)(params, **kwargs)


def advance(params, opt, start, steps):
    for t in range(start, start + steps):
        for p, g in zip(params, gradients([p.numpy() for p in params], t)):
            p.grad = minigrad.Tensor(g)
        opt.step()


@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_round_trip_mid_run_continues_identically(config):
    name, kwargs = config
    params, opt = make(name, kwargs)
    advance(params, opt, 0, 40)
    saved = opt.state_dict()
    snapshot = [p.numpy().copy() for p in params]
    advance(params, opt, 40, 30)

    restored_params, restored = make(name, dict(kwargs, lr=123.0), values=snapshot)
    restored.load_state_dict(saved)
    assert restored.param_groups[0]["lr"] == kwargs["lr"]
    advance(restored_params, restored, 40, 30)
    for p, q in zip(params, restored_params):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_layout_is_pytorchs_and_a_snapshot():
    params, opt = make("Adam", dict(lr=0.01, amsgrad=True))
    advance(params, opt, 0, 3)
    saved = opt.state_dict()
    assert set(saved) == {"state", "param_groups"}
    assert saved["param_groups"] == [dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=True,
                                          maximize=False, params=[0, 1, 2, 3])]
    assert sorted(saved["state"]) == [0, 1, 2, 3]
    entry = saved["state"][2]
    assert set(entry) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"} and entry["step"] == 3
    assert entry["exp_avg"].shape == params[2].shape and isinstance(entry["exp_avg"], np.ndarray)
    before = entry["exp_avg"].copy()
    advance(params, opt, 3, 1)
    np.testing.assert_array_equal(entry["exp_avg"], before)  # later steps leave the saved copy alone
    assert opt.state_dict()["state"][2]["step"] == 4


def test_indices_run_across_groups_and_unstepped_params_have_no_state():
    a, b, c = (minigrad.zeros(2, requires_grad=True) for _ in range(3))
    opt = optim.SGD([{"params": [a, b]}, {"params": [c], "lr": 0.5}], lr=0.1, momentum=0.9)
    b.grad = minigrad.ones(2)
    opt.step()
    saved = opt.state_dict()
    assert [g["params"] for g in saved["param_groups"]] == [[0, 1], [2]]
    assert [g["lr"] for g in saved["param_groups"]] == [0.1, 0.5]
    assert list(saved["state"]) == [1]


def test_load_casts_to_the_parameter_dtype():
    params, opt = make("RMSprop", dict(lr=0.01, momentum=0.9, centered=True))
    advance(params, opt, 0, 2)
    saved = opt.state_dict()
    params32 = [minigrad.Tensor(p, dtype=np.float32, requires_grad=True) for p in initial_params()]
    opt32 = optim.RMSprop(params32, lr=0.01, momentum=0.9, centered=True)
    opt32.load_state_dict(saved)
    assert all(v.dtype == np.float32 for s in opt32.state.values() for k, v in s.items() if k != "step")
    assert opt32.state[params32[0]]["step"] == 2


@pytest.mark.parametrize("mutate, message", [
    (lambda sd: sd["param_groups"].append(dict(sd["param_groups"][0])), "2 parameter groups"),
    (lambda sd: sd["param_groups"][0]["params"].pop(), "has 3 parameters in the state dict but 4"),
    (lambda sd: sd["state"][1].update(exp_avg=np.zeros(5)), "'exp_avg' of parameter 1 has shape (5,)"),
    (lambda sd: sd["state"][0].pop("exp_avg_sq"), "call for ['exp_avg', 'exp_avg_sq', 'step']"),
    (lambda sd: sd["param_groups"][0].update(amsgrad=True), "call for ['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'"),
    (lambda sd: sd["param_groups"][0].pop("betas"), "lacks the hyperparameters ['betas']"),
    (lambda sd: sd["param_groups"][0].update(eps=-1.0), "Adam: invalid eps=-1.0"),
    (lambda sd: sd["state"].update({7: {}}), "state for parameter 7"),
    (lambda sd: sd.pop("state"), "expected a dict with 'state' and 'param_groups'"),
])
def test_load_rejects_mismatches_and_changes_nothing(mutate, message):
    params, opt = make("Adam", dict(lr=0.01))
    advance(params, opt, 0, 2)
    saved = opt.state_dict()
    mutate(saved)
    before = opt.state_dict()
    with pytest.raises(ValueError) as info:
        opt.load_state_dict(saved)
    assert message in str(info.value)
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    for i in before["state"]:
        np.testing.assert_array_equal(after["state"][i]["exp_avg"], before["state"][i]["exp_avg"])


def test_sgd_state_does_not_load_into_adam():
    params, sgd = make("SGD", dict(lr=0.1, momentum=0.9))
    advance(params, sgd, 0, 1)
    _, adam = make("Adam", {})
    with pytest.raises(ValueError, match="lacks the hyperparameters"):
        adam.load_state_dict(sgd.state_dict())
