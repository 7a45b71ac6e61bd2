"""LinearLR: PyTorch's values, device and host agreeing, checkpoints, clear errors."""
import numpy as np
import pytest

import minigrad
from minigrad import optim
from minigrad.optim.lr_scheduler import LinearLR


def make(lrs=(0.1, 0.02)):
    return optim.SGD([{"params": [minigrad.zeros(2, requires_grad=True)], "lr": lr} for lr in lrs], lr=1.0)


def device_lrs(opt):
    return [float(entry.array) for entry in opt._lrs]


@pytest.mark.parametrize("kwargs", [dict(start_factor=1.0, end_factor=0.0, total_iters=8), {},
                                    dict(start_factor=0.25, end_factor=0.75, total_iters=3)])
def test_values_match_torch_closed_form_on_host_and_device(kwargs):
    opt = make()
    schedule = LinearLR(opt, **kwargs)
    start, end, total = kwargs.get("start_factor", 1 / 3), kwargs.get("end_factor", 1.0), kwargs.get("total_iters", 5)
    for epoch in range(12):
        expected = [base * (start + (end - start) * min(epoch, total) / total) for base in (0.1, 0.02)]
        assert schedule.last_epoch == epoch
        assert schedule.get_last_lr() == expected
        assert device_lrs(opt) == expected
        schedule.step()
    torch = pytest.importorskip("torch")
    theirs = torch.optim.SGD([{"params": [torch.zeros(2)], "lr": lr} for lr in (0.1, 0.02)], lr=1.0)
    torch_schedule = torch.optim.lr_scheduler.LinearLR(theirs, **kwargs)
    ours = LinearLR(make(), **kwargs)
    for _ in range(12):
        np.testing.assert_allclose(ours.get_last_lr(), torch_schedule.get_last_lr(), rtol=1e-12, atol=1e-15)
        ours.step()
        theirs.step()
        torch_schedule.step()


def test_the_optimizer_steps_with_the_scheduled_lr():
    x = minigrad.zeros(1, requires_grad=True)
    opt = optim.SGD([x], lr=1.0)
    schedule = LinearLR(opt, start_factor=1.0, end_factor=0.0, total_iters=4)
    for _ in range(6):
        x.grad = minigrad.ones(1)
        opt.step()
        schedule.step()
    np.testing.assert_allclose(x.numpy(), [-(1 + 0.75 + 0.5 + 0.25)])


def test_state_dict_resumes_the_schedule():
    opt = make()
    schedule = LinearLR(opt, start_factor=1.0, end_factor=0.0, total_iters=10)
    for _ in range(4):
        schedule.step()
    saved = schedule.state_dict()
    resumed_opt = make()
    resumed = LinearLR(resumed_opt, start_factor=1.0, end_factor=0.0, total_iters=10)
    resumed.load_state_dict(saved)
    assert resumed.last_epoch == 4 and resumed.get_last_lr() == schedule.get_last_lr()
    assert device_lrs(resumed_opt) == device_lrs(opt)
    with pytest.raises(ValueError, match="LinearLR.load_state_dict: expected a dict with the keys"):
        resumed.load_state_dict({"last_epoch": 3})


@pytest.mark.parametrize("kwargs, message", [
    (dict(start_factor=0.0), "start_factor must be in (0, 1]"),
    (dict(end_factor=1.5), "end_factor must be in [0, 1]"),
    (dict(total_iters=0), "total_iters must be an int >= 1"),
    (dict(last_epoch=-2), "last_epoch must be an int >= -1"),
])
def test_bad_arguments_raise(kwargs, message):
    with pytest.raises(ValueError) as info:
        LinearLR(make(), **kwargs)
    assert message in str(info.value)
    with pytest.raises(TypeError, match="optimizer must be a minigrad.optim.Optimizer"):
        LinearLR(object())


def test_adam_decayed_to_zero_lr_stays_put_without_nan():
    """lr reaches exactly 0 on the device; elements whose gradient was always 0 (v = 0) must not turn NaN."""
    x = minigrad.ones(3, requires_grad=True)
    opt = optim.Adam([x], lr=0.1)
    schedule = LinearLR(opt, start_factor=1.0, end_factor=0.0, total_iters=2)
    for t in range(5):
        x.grad = minigrad.tensor([0.0, 1.0, -1.0])
        opt.step()
        schedule.step()
        if t == 1:
            at_zero = x.numpy().copy()
    assert np.isfinite(x.numpy()).all() and x.numpy()[0] == 1.0
    np.testing.assert_array_equal(x.numpy(), at_zero)
