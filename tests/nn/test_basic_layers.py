"""Linear, activations, Flatten/Unflatten, Identity: output shapes, values, first and second derivatives."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad
from minigrad import nn
from tests.nn.helpers import check_module_gradients

small = st.integers(1, 3)


@settings(max_examples=8)
@given(batch=small, n_in=small, n_out=small, bias=st.booleans(), seed=st.integers(0, 2**16))
def test_linear_gradients(batch, n_in, n_out, bias, seed):
    minigrad.manual_seed(seed)
    layer = nn.Linear(n_in, n_out, bias=bias)
    check_module_gradients(layer, minigrad.randn(batch, n_in))


def test_linear_gradients_on_device(device):
    check_module_gradients(nn.Linear(3, 2), minigrad.randn(2, 3), device)


def test_linear_shapes_and_values():
    layer = nn.Linear(4, 3)
    assert layer.weight.shape == (3, 4) and layer.bias.shape == (3,)
    x = minigrad.randn(2, 5, 4)
    y = layer(x)
    assert y.shape == (2, 5, 3) and y.dtype == np.float32
    expected = x.numpy() @ layer.weight.numpy().T + layer.bias.numpy()
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="linear"):
        layer(minigrad.randn(2, 5))
    assert nn.Linear(2, 2, dtype=minigrad.float64).weight.dtype == np.float64


ACTIVATIONS = [
    (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    (nn.LeakyReLU(), lambda x: np.where(x > 0, x, 0.01 * x)),
    (nn.Tanh(), np.tanh),
    (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    (nn.Softplus(), lambda x: np.log1p(np.exp(x))),
    (nn.Softplus(beta=2.0, threshold=3.0), lambda x: np.where(2 * x > 3, x, np.log1p(np.exp(2 * x)) / 2)),
    (nn.Identity(7, key="ignored"), lambda x: x),
]


@pytest.mark.parametrize("layer, reference", ACTIVATIONS, ids=lambda a: type(a).__name__)
def test_activation_values_and_gradients(layer, reference, device):
    x = minigrad.tensor(np.array([[-3.0, -0.7, -0.1], [0.2, 1.3, 2.5]]), dtype=minigrad.float64)
    np.testing.assert_allclose(layer(x).numpy(), reference(x.numpy()), rtol=1e-12)
    check_module_gradients(layer, x, device)


@settings(max_examples=8)
@given(shape=st.lists(st.integers(1, 3), min_size=2, max_size=4), data=st.data())
def test_flatten_unflatten_round_trip(shape, data):
    ndim = len(shape)
    start = data.draw(st.integers(1, ndim - 1))
    end = data.draw(st.integers(start, ndim - 1))
    x = minigrad.randn(*shape)
    flat = nn.Flatten(start, end)(x)
    expected = tuple(shape[:start]) + (int(np.prod(shape[start:end + 1])),) + tuple(shape[end + 1:])
    assert flat.shape == expected
    back = nn.Unflatten(start, tuple(shape[start:end + 1]))(flat)
    np.testing.assert_array_equal(back.numpy(), x.numpy())


def test_flatten_unflatten_gradients(device):
    check_module_gradients(nn.Sequential(nn.Flatten(), nn.Unflatten(1, (2, 3))), minigrad.randn(2, 3, 2), device)
    with pytest.raises(ValueError, match="Unflatten"):
        nn.Unflatten(1, (4, 4))(minigrad.randn(2, 6))
