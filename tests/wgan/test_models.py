"""Generators and critics: shapes, initialisations, normalisation options, spectral norm."""
import math

import numpy as np
import pytest

import minigrad
from minigrad import nn
from wgan.config import TrainConfig
from wgan.models import DCGANCritic, DCGANGenerator, MLPCritic, MLPGenerator, apply_spectral_norm, build_models


def test_mlp_shapes_and_gan_toy_shape_by_default():
    g, d = MLPGenerator(), MLPCritic()
    widths = [(m.in_features, m.out_features) for m in g.modules() if isinstance(m, nn.Linear)]
    assert widths == [(2, 512), (512, 512), (512, 512), (512, 2)]
    assert [type(m).__name__ for m in d.net][:2] == ["Linear", "ReLU"]
    z = minigrad.randn(5, 2)
    x = g(z)
    assert x.shape == (5, 2) and d(x).shape == (5,)


def test_toy_init_is_he_uniform_hidden_glorot_uniform_output_zero_bias():
    d = MLPCritic(width=300, depth=2, init="toy")
    linears = [m for m in d.modules() if isinstance(m, nn.Linear)]
    for i, layer in enumerate(linears):
        w = layer.weight.numpy()
        fan_out, fan_in = w.shape
        bound = math.sqrt(6 / fan_in) if i < len(linears) - 1 else math.sqrt(6 / (fan_in + fan_out))
        assert np.abs(w).max() <= bound
        if w.size > 1000:  # uniform on [-bound, bound]: std bound / sqrt(3)
            assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.05)
        assert not layer.bias.numpy().any()


def test_tflib_init_matches_the_official_layer_defaults():
    g = DCGANGenerator(z_dim=64, sample_shape=(1, 8, 8), base_filters=16, norm="batchnorm", init="tflib", depth=4)
    d = DCGANCritic((1, 8, 8), 16, init="tflib")
    for m in [*g.modules(), *d.modules()]:
        kind = type(m).__name__
        if kind not in ("Linear", "Conv2d", "ConvTranspose2d"):
            if kind.startswith("BatchNorm"):
                assert (m.weight.numpy() == 1).all() and not m.bias.numpy().any()
            continue
        w = m.weight.numpy()
        if kind == "Linear":
            std = math.sqrt(2 / sum(w.shape))
        else:
            receptive, strides = w.shape[2] * w.shape[3], m.stride[0] * m.stride[1]
            if kind == "Conv2d":   # (out, in, k, k); the output side is strided
                fan_in, fan_out = w.shape[1] * receptive, w.shape[0] * receptive / strides
            else:                  # (in, out, k, k); the input side is
                fan_in, fan_out = w.shape[0] * receptive / strides, w.shape[1] * receptive
            std = math.sqrt(4 / (fan_in + fan_out))
        assert np.abs(w).max() <= std * math.sqrt(3)
        if w.size > 2000:
            assert w.std() == pytest.approx(std, rel=0.06), (kind, w.shape)
        if m.bias is not None:
            assert not m.bias.numpy().any()


def test_without_batch_norm_dcgan_init_loses_z_and_tflib_init_keeps_it():
    """The no-normalisation rows of the architecture table: how much of a generator's output varies with z."""
    def z_share(init):
        minigrad.manual_seed(0)
        g = DCGANGenerator(z_dim=64, sample_shape=(1, 8, 8), base_filters=16, norm="none", init=init)
        with minigrad.no_grad():
            x = g(minigrad.randn(256, 64)).numpy()
        return x.std(axis=0).mean()
    assert z_share("dcgan") < 0.03 and z_share("tflib") > 0.2   # measured: 0.012 and 0.42


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "tanh", "softplus"])
def test_mlp_activation_and_depth_are_configurable(activation):
    g = MLPGenerator(z_dim=3, sample_shape=(2,), width=7, depth=1, activation=activation)
    assert len([m for m in g.modules() if isinstance(m, nn.Linear)]) == 2
    assert g(minigrad.randn(4, 3)).shape == (4, 2)


@pytest.mark.parametrize("size", [8, 16, 28, 32, 64])
def test_dcgan_models_for_every_supported_size(size):
    g = DCGANGenerator(z_dim=6, sample_shape=(1, size, size), base_filters=4)
    d = DCGANCritic(sample_shape=(1, size, size), base_filters=4)
    x = g(minigrad.randn(2, 6))
    assert x.shape == (2, 1, size, size)
    assert np.abs(x.numpy()).max() <= 1.0  # tanh output
    assert d(x).shape == (2,)


def test_dcgan_normalisation_options():
    g = DCGANGenerator(z_dim=4, sample_shape=(3, 16, 16), base_filters=4, batchnorm=False)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in g.modules())
    assert any(isinstance(m, nn.BatchNorm2d) for m in DCGANGenerator(4, (3, 16, 16), 4).modules())
    d_ln = DCGANCritic((3, 16, 16), 4, norm="layernorm")
    assert any(isinstance(m, nn.LayerNorm) for m in d_ln.modules())
    assert d_ln(minigrad.randn(2, 3, 16, 16)).shape == (2,)
    assert not any(isinstance(m, (nn.LayerNorm, nn.BatchNorm2d)) for m in DCGANCritic((3, 16, 16), 4).modules())


def test_unsupported_image_shapes_are_refused():
    with pytest.raises(ValueError, match="side .*got 20"):
        DCGANCritic((1, 20, 20))
    with pytest.raises(ValueError, match="square images"):
        DCGANGenerator(4, (1, 16, 8))


def test_build_models_follows_the_config():
    cfg = TrainConfig(algorithm="sngan", width=8, depth=2).resolve(sample_ndim=1)
    g, d = build_models(cfg, (2,))
    assert all(hasattr(m, "weight_orig") for m in d.modules() if isinstance(m, nn.Linear))
    assert not any(hasattr(m, "weight_orig") for m in g.modules())
    cfg = TrainConfig(dataset="digits", algorithm="wgan-clip", critic_norm="batchnorm", base_filters=4)
    cfg = cfg.resolve(sample_ndim=3)
    g, d = build_models(cfg, (1, 16, 16))
    assert isinstance(g, DCGANGenerator) and any(isinstance(m, nn.BatchNorm2d) for m in d.modules())


def test_spectral_normalised_layers_have_unit_spectral_norm():
    minigrad.manual_seed(3)
    d = apply_spectral_norm(MLPCritic(width=64, depth=2))
    conv = apply_spectral_norm(DCGANCritic((1, 16, 16), base_filters=4))
    x, img = minigrad.randn(8, 2), minigrad.randn(2, 1, 16, 16)
    for _ in range(30):  # power iteration: one step per forward in training mode
        d(x)
        conv(img)
    layers = [m for net in (d, conv) for m in net.modules() if hasattr(m, "weight_orig")]
    assert len(layers) == 3 + 3
    for m in layers:
        w = m.weight.numpy()
        sigma = np.linalg.svd(w.reshape(w.shape[0], -1), compute_uv=False)[0]
        assert sigma == pytest.approx(1.0, abs=0.02)
