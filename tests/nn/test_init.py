"""minigrad.nn.init: PyTorch's formulas for bounds and standard deviations, in place, reproducible."""
import math

import numpy as np
import pytest

import minigrad
from minigrad import nn
from minigrad.nn import init


def test_fans_and_gains():
    assert init._calculate_fan_in_and_fan_out(minigrad.zeros(5, 3)) == (3, 5)
    assert init._calculate_fan_in_and_fan_out(minigrad.zeros(8, 4, 3, 2)) == (24, 48)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(minigrad.zeros(4))
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01 ** 2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("leaky_relu", 0) == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("selu") == pytest.approx(0.75)
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        init.calculate_gain("swish")


def _uniform_ok(values, bound):
    """Inside [-bound, bound], filling it (max near the bound), with the variance bound²/3."""
    assert np.abs(values).max() <= bound
    assert np.abs(values).max() > 0.95 * bound
    assert np.var(values) == pytest.approx(bound ** 2 / 3, rel=0.05)


def test_uniform_family(device):
    w = minigrad.zeros(200, 100, device=device)
    assert init.uniform_(w, -2.0, 3.0) is w
    v = w.numpy()
    assert v.min() >= -2 and v.max() < 3 and v.mean() == pytest.approx(0.5, abs=0.05) and w.dtype == np.float32
    init.xavier_uniform_(w, gain=2.0)
    _uniform_ok(w.numpy(), 2.0 * math.sqrt(6 / 300))
    init.kaiming_uniform_(w)
    _uniform_ok(w.numpy(), math.sqrt(3) * init.calculate_gain("leaky_relu", 0) / math.sqrt(100))
    init.kaiming_uniform_(w, a=0.2, mode="fan_out", nonlinearity="leaky_relu")
    _uniform_ok(w.numpy(), math.sqrt(3) * math.sqrt(2 / 1.04) / math.sqrt(200))
    with pytest.raises(ValueError, match="mode"):
        init.kaiming_uniform_(w, mode="fan_avg")


def test_normal_family(device):
    w = minigrad.zeros(300, 200, 2, device=device, dtype=minigrad.float64)
    assert init.normal_(w, 1.0, 2.0) is w
    assert w.numpy().mean() == pytest.approx(1.0, abs=0.03) and w.numpy().std() == pytest.approx(2.0, rel=0.02)
    init.xavier_normal_(w, gain=3.0)
    assert w.numpy().std() == pytest.approx(3.0 * math.sqrt(2 / (400 + 600)), rel=0.02)
    init.kaiming_normal_(w, nonlinearity="relu")
    assert w.numpy().std() == pytest.approx(math.sqrt(2) / math.sqrt(400), rel=0.02)
    assert w.dtype == np.float64


def test_constants_and_in_place_identity():
    p = nn.Parameter(minigrad.randn(3, 4))
    array = p.data
    assert init.zeros_(p) is p and not p.data.any() and p.data is array
    init.ones_(p)
    assert (p.numpy() == 1).all()
    init.constant_(p, 0.25)
    assert (p.numpy() == 0.25).all() and p.data is array and p.requires_grad and p.is_leaf
    with pytest.raises(TypeError, match="floating"):
        init.normal_(minigrad.zeros(3, dtype=minigrad.int64))


def test_reproducible_with_manual_seed():
    minigrad.manual_seed(123)
    a = nn.Linear(5, 4).weight.numpy()
    minigrad.manual_seed(123)
    b = nn.Linear(5, 4).weight.numpy()
    c = nn.Linear(5, 4).weight.numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(b, c)


def test_linear_default_init_matches_pytorch_formula():
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)  # kaiming_uniform_(a=sqrt(5)) gives sqrt(3)*sqrt(2/6)/sqrt(fan_in) = 1/sqrt(fan_in)
    _uniform_ok(layer.weight.numpy(), bound)
    b = layer.bias.numpy()
    assert np.abs(b).max() <= bound and b.std() > 0.4 * bound
