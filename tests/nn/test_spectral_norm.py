"""Spectral normalisation: σ, power iteration in training mode only, buffers, gradients, removal."""
import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import minigrad
from minigrad import nn
from minigrad.nn.utils import remove_spectral_norm, spectral_norm
from tests.nn.helpers import check_module_gradients


def _normalize(x):
    return x / max(np.linalg.norm(x), 1e-12)


def test_registration_and_state_dict():
    layer = spectral_norm(nn.Linear(5, 3))
    assert [n for n, _ in layer.named_parameters()] == ["bias", "weight_orig"]
    assert list(layer.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    assert layer.weight_u.shape == (3,) and layer.weight_v.shape == (5,)
    assert np.linalg.norm(layer.weight_u.numpy()) == pytest.approx(1, rel=1e-6)
    assert np.linalg.norm(layer.weight_v.numpy()) == pytest.approx(1, rel=1e-6)
    with pytest.raises(RuntimeError, match="already"):
        spectral_norm(layer)
    with pytest.raises(ValueError, match="no parameter named 'kernel'"):
        spectral_norm(nn.Linear(2, 2), name="kernel")


def test_one_training_forward_does_one_power_iteration_in_pytorch_order():
    layer = spectral_norm(nn.Linear(4, 3))
    w = layer.weight_orig.numpy().astype(np.float64)
    u0 = layer.weight_u.numpy().astype(np.float64)
    y = layer(minigrad.randn(2, 4))
    v1 = _normalize(w.T @ u0)
    u1 = _normalize(w @ v1)
    np.testing.assert_allclose(layer.weight_v.numpy(), v1, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.weight_u.numpy(), u1, rtol=1e-5, atol=1e-6)
    sigma = u1 @ w @ v1
    np.testing.assert_allclose(layer.weight.numpy(), w / sigma, rtol=1e-5)
    assert y.shape == (2, 3)


@settings(max_examples=10)
@given(rows=st.integers(1, 6), cols=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_sigma_converges_to_largest_singular_value(rows, cols, seed):
    minigrad.manual_seed(seed)
    layer = spectral_norm(nn.Linear(cols, rows, dtype=minigrad.float64), n_power_iterations=200)
    layer(minigrad.zeros(1, cols, dtype=minigrad.float64))
    w = layer.weight_orig.numpy()
    singular = np.linalg.svd(w, compute_uv=False)
    u, v = layer.weight_u.numpy(), layer.weight_v.numpy()
    gap = singular[0] - (singular[1] if len(singular) > 1 else 0)
    assume(gap > 1e-2 * singular[0])  # power iteration converges geometrically at rate (s2/s1)^2
    assert u @ w @ v == pytest.approx(singular[0], rel=1e-6)
    assert np.linalg.norm(layer.weight.numpy(), 2) == pytest.approx(1.0, rel=1e-6)


def test_conv_weight_is_reshaped_along_its_output_dim():
    conv_like = nn.Module()
    conv_like.weight = nn.Parameter(minigrad.randn(4, 3, 2, 2, dtype=minigrad.float64))
    spectral_norm(conv_like, n_power_iterations=100)
    assert conv_like.weight_u.shape == (4,) and conv_like.weight_v.shape == (12,)
    conv_like.forward = lambda: None
    conv_like()
    matrix = conv_like.weight.numpy().reshape(4, -1)
    assert np.linalg.norm(matrix, 2) == pytest.approx(1.0, rel=1e-5)
    other = nn.Module()
    other.weight = nn.Parameter(minigrad.randn(4, 3, 2, 2, dtype=minigrad.float64))
    spectral_norm(other, n_power_iterations=100, dim=1)
    assert other.weight_u.shape == (3,) and other.weight_v.shape == (16,)
    other.forward = lambda: None
    other()
    matrix = np.moveaxis(other.weight.numpy(), 1, 0).reshape(3, -1)
    assert np.linalg.norm(matrix, 2) == pytest.approx(1.0, rel=1e-5)


def test_eval_mode_keeps_u_and_v():
    layer = spectral_norm(nn.Linear(4, 3))
    x = minigrad.randn(2, 4)
    u0 = layer.weight_u.numpy().copy()
    layer.eval()
    y1 = layer(x)
    y2 = layer(x)
    np.testing.assert_array_equal(layer.weight_u.numpy(), u0)
    np.testing.assert_array_equal(y1.numpy(), y2.numpy())
    layer.train()
    layer(x)
    assert not np.array_equal(layer.weight_u.numpy(), u0)


def test_gradients_through_spectral_norm(device):
    layer = spectral_norm(nn.Linear(3, 4)).eval()  # eval: u and v stay fixed while differentiating numerically
    check_module_gradients(layer, minigrad.randn(2, 3), device)


def test_sigma_is_differentiable_in_the_weight():
    layer = spectral_norm(nn.Linear(3, 4, dtype=minigrad.float64), n_power_iterations=300)
    layer(minigrad.zeros(1, 3, dtype=minigrad.float64))
    layer.eval()
    w = layer.weight_orig
    u, v = layer.weight_u.numpy(), layer.weight_v.numpy()
    # d/dW of sum(W / σ) with σ = uᵀWv and u, v constants: 1/σ − sum(W) u vᵀ / σ²
    layer(minigrad.zeros(1, 3, dtype=minigrad.float64))
    layer.weight.sum().backward()
    sigma = u @ w.numpy() @ v
    expected = 1 / sigma - w.numpy().sum() * np.outer(u, v) / sigma ** 2
    np.testing.assert_allclose(w.grad.numpy(), expected, rtol=1e-10)


def test_state_dict_round_trip_restores_u_and_v(tmp_path):
    src = spectral_norm(nn.Linear(4, 3))
    x = minigrad.randn(2, 4)
    for _ in range(3):
        src(x)
    minigrad.save(src.state_dict(), tmp_path / "sn.npz")
    dst = spectral_norm(nn.Linear(4, 3))
    dst.load_state_dict(minigrad.load(tmp_path / "sn.npz"))
    np.testing.assert_array_equal(dst.weight_u.numpy(), src.weight_u.numpy())
    np.testing.assert_array_equal(dst.weight_v.numpy(), src.weight_v.numpy())
    src.eval(), dst.eval()
    np.testing.assert_array_equal(src(x).numpy(), dst(x).numpy())


def test_remove_spectral_norm():
    layer = spectral_norm(nn.Linear(4, 3))
    layer(minigrad.randn(2, 4))
    layer.eval()
    normalized = layer.weight.numpy().copy()
    x = minigrad.randn(2, 4)
    before = layer(x).numpy()
    assert remove_spectral_norm(layer) is layer
    assert isinstance(layer.weight, nn.Parameter)
    assert list(layer.state_dict()) == ["bias", "weight"]
    np.testing.assert_allclose(layer.weight.numpy(), normalized, rtol=1e-6)
    np.testing.assert_allclose(layer(x).numpy(), before, rtol=1e-6)
    with pytest.raises(ValueError, match="not found"):
        remove_spectral_norm(layer)
