"""Conv2d, ConvTranspose2d, BatchNorm1d/2d, LayerNorm, Dropout: shapes, train/eval behaviour, derivatives."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad
from minigrad import nn
from tests.nn.helpers import check_module_gradients


def _conv_out(size, k, s, p, d):
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


@settings(max_examples=6)
@given(k=st.integers(1, 3), s=st.integers(1, 2), p=st.integers(0, 1), d=st.integers(1, 2),
       groups=st.sampled_from([1, 2]), bias=st.booleans(), hw=st.integers(3, 5), seed=st.integers(0, 2**16))
def test_conv2d_gradients_and_shape(k, s, p, d, groups, bias, hw, seed):
    minigrad.manual_seed(seed)
    if d * (k - 1) + 1 > hw + 2 * p:
        k = 1
    layer = nn.Conv2d(2, 2, k, stride=s, padding=p, dilation=d, groups=groups, bias=bias)
    assert layer.weight.shape == (2, 2 // groups, k, k)
    x = minigrad.randn(1, 2, hw, hw)
    out = _conv_out(hw, k, s, p, d)
    assert layer(x).shape == (1, 2, out, out)
    check_module_gradients(layer, x)


@settings(max_examples=6)
@given(k=st.integers(1, 3), s=st.integers(1, 2), p=st.integers(0, 1), groups=st.sampled_from([1, 2]),
       bias=st.booleans(), hw=st.integers(2, 3), data=st.data())
def test_conv_transpose2d_gradients_and_shape(k, s, p, groups, bias, hw, data):
    op = data.draw(st.integers(0, s - 1))
    p = min(p, k - 1)
    layer = nn.ConvTranspose2d(2, 2, k, stride=s, padding=p, output_padding=op, groups=groups, bias=bias)
    assert layer.weight.shape == (2, 2 // groups, k, k)
    x = minigrad.randn(1, 2, hw, hw)
    out = (hw - 1) * s - 2 * p + (k - 1) + op + 1
    assert layer(x).shape == (1, 2, out, out)
    check_module_gradients(layer, x)


def test_conv_layers_on_device(device):
    check_module_gradients(nn.Conv2d(1, 2, 2, stride=2, padding=1), minigrad.randn(1, 1, 3, 3), device)
    check_module_gradients(nn.ConvTranspose2d(2, 1, 3, stride=2, padding=1), minigrad.randn(1, 2, 2, 2), device)


def test_conv_padding_same_valid_and_output_size():
    x = minigrad.randn(2, 3, 6, 5)
    for k, d in ((3, 1), (4, 1), (2, 3), (4, 2)):
        assert nn.Conv2d(3, 4, k, padding="same", dilation=d)(x).shape == (2, 4, 6, 5)
    assert nn.Conv2d(3, 4, 3, padding="valid")(x).shape == (2, 4, 4, 3)
    with pytest.raises(ValueError, match="stride 1"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv2d(3, 4, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    up = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1)
    y = minigrad.randn(1, 4, 5, 5)
    assert up(y).shape == (1, 2, 9, 9)
    assert up(y, output_size=(10, 10)).shape == (1, 2, 10, 10)
    with pytest.raises(ValueError, match="output size"):
        up(y, output_size=(12, 12))


def test_conv_default_init_bounds():
    conv = nn.Conv2d(16, 32, 3)
    bound = 1 / math.sqrt(16 * 9)
    w = conv.weight.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert np.var(w) == pytest.approx(bound ** 2 / 3, rel=0.1)
    assert np.abs(conv.bias.numpy()).max() <= bound
    up = nn.ConvTranspose2d(16, 8, 4)  # PyTorch takes fan_in from weight.shape[1] = out_channels
    bound = 1 / math.sqrt(8 * 16)
    assert np.abs(up.weight.numpy()).max() <= bound and np.abs(up.weight.numpy()).max() > 0.95 * bound


# ----------------------------------------------------------------------------- normalisation
@pytest.mark.parametrize("make, shape", [
    (lambda: nn.BatchNorm1d(3), (4, 3)),
    (lambda: nn.BatchNorm1d(2, affine=False), (3, 2, 2)),
    (lambda: nn.BatchNorm2d(2), (2, 2, 2, 2)),
    (lambda: nn.BatchNorm2d(2, track_running_stats=False), (2, 2, 1, 2)),
    (lambda: nn.LayerNorm(3), (2, 3)),
    (lambda: nn.LayerNorm((2, 2), bias=False), (2, 2, 2)),
    (lambda: nn.LayerNorm(3, elementwise_affine=False), (2, 3)),
], ids=["bn1d", "bn1d-3d-noaffine", "bn2d", "bn2d-untracked", "ln", "ln-nobias", "ln-noaffine"])
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_norm_gradients(make, shape, training, device):
    layer = make().train(training)
    if isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d)):
        if layer.track_running_stats:  # non-trivial running statistics for eval mode
            layer.running_mean.data[...] = np.linspace(-0.5, 0.5, layer.num_features)
            layer.running_var.data[...] = np.linspace(0.5, 2.0, layer.num_features)
    if layer.weight is not None:
        layer.weight.data[...] = np.random.default_rng(0).uniform(0.5, 1.5, layer.weight.shape)
    check_module_gradients(layer, minigrad.randn(*shape), device)


def test_batchnorm_running_statistics_and_modes():
    bn = nn.BatchNorm2d(3, momentum=0.2)
    x = minigrad.randn(4, 3, 2, 2) * 2 + 1
    y = bn(x)
    xs = x.numpy().astype(np.float64)
    mean, var = xs.mean((0, 2, 3)), xs.var((0, 2, 3))
    np.testing.assert_allclose(y.numpy().mean((0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.2 * mean, rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.numpy(), 0.8 + 0.2 * var * 16 / 15, rtol=1e-5)
    assert bn.num_batches_tracked.item() == 1
    bn.eval()
    before = bn.running_mean.numpy().copy()
    y = bn(x)
    np.testing.assert_array_equal(bn.running_mean.numpy(), before)
    assert bn.num_batches_tracked.item() == 1
    expected = (xs - before[None, :, None, None]) / np.sqrt(bn.running_var.numpy()[None, :, None, None] + 1e-5)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="BatchNorm2d"):
        bn(minigrad.randn(4, 3))
    with pytest.raises(ValueError, match="3 channels"):
        bn(minigrad.randn(4, 2, 2, 2))


def test_batchnorm_cumulative_average_and_untracked():
    bn = nn.BatchNorm1d(2, momentum=None)
    batches = [minigrad.randn(5, 2) + i for i in range(3)]
    for b in batches:
        bn(b)
    expected = np.mean([b.numpy().mean(0) for b in batches], axis=0)
    np.testing.assert_allclose(bn.running_mean.numpy(), expected, rtol=1e-5)
    assert bn.num_batches_tracked.item() == 3
    bn.reset_running_stats()
    assert not bn.running_mean.data.any() and (bn.running_var.numpy() == 1).all() and bn.num_batches_tracked.item() == 0
    free = nn.BatchNorm1d(2, track_running_stats=False).eval()
    assert list(free.state_dict()) == ["weight", "bias"]
    np.testing.assert_allclose(free(batches[2]).numpy().mean(0), 0, atol=1e-5)  # batch statistics in eval too


def test_layer_norm_values():
    ln = nn.LayerNorm((2, 3))
    x = minigrad.randn(4, 2, 3) * 3 + 2
    y = ln(x).numpy()
    np.testing.assert_allclose(y.reshape(4, -1).mean(1), 0, atol=1e-5)
    np.testing.assert_allclose(y.reshape(4, -1).std(1), 1, rtol=1e-3)
    assert ln.weight.shape == (2, 3) and (ln.weight.numpy() == 1).all() and not ln.bias.data.any()


# ----------------------------------------------------------------------------- dropout
def test_dropout_train_and_eval():
    drop = nn.Dropout(0.25)
    x = minigrad.ones(200, 100)
    y = drop(x).numpy()
    kept = y != 0
    assert kept.mean() == pytest.approx(0.75, abs=0.01)
    np.testing.assert_allclose(y[kept], 1 / 0.75, rtol=1e-6)
    drop.eval()
    np.testing.assert_array_equal(drop(x).numpy(), x.numpy())
    with pytest.raises(ValueError, match="probability"):
        nn.Dropout(1.5)


def test_dropout_gradients(device):
    check_module_gradients(nn.Dropout(0.4), minigrad.randn(3, 4), device, before=lambda: minigrad.manual_seed(3))


def test_dropout_is_reproducible_with_manual_seed():
    drop, x = nn.Dropout(), minigrad.ones(5, 5)
    minigrad.manual_seed(7)
    a = drop(x).numpy()
    minigrad.manual_seed(7)
    np.testing.assert_array_equal(drop(x).numpy(), a)
