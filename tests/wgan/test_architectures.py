"""The WGAN-GP paper's architecture family: structure, sizes, and exact second derivatives through each."""
import numpy as np
import pytest

import minigrad
from minigrad import nn
from wgan import losses
from wgan.architectures import (IMAGE_SIZES, NONLINEARITIES, ResNetCritic, ResNetGenerator, ShiftedSoftplus,
                                nonlinearity, resnet_blocks)
from wgan.models import DCGANCritic, DCGANGenerator, MLPCritic, MLPGenerator

SHAPE = (1, 8, 8)


def f64(array, grad=False):
    return minigrad.tensor(np.asarray(array, dtype=np.float64), requires_grad=grad)


def convs(module):
    return [m for m in module.modules() if type(m).__name__ in ("Conv2d", "ConvTranspose2d")]


# ------------------------------------------------------------------------------------------------ structure
def test_shifted_softplus_and_gated_unit_values():
    x = np.linspace(-4, 4, 9)
    expected = np.log1p(np.exp(2 * x + 2)) / 2 - 1
    np.testing.assert_allclose(ShiftedSoftplus()(f64(x)).numpy(), expected, rtol=1e-12)
    a, b = np.random.default_rng(0).normal(size=(2, 3, 2, 2)), np.random.default_rng(1).normal(size=(2, 3, 2, 2))
    gated = nonlinearity("gated")(f64(np.concatenate([a, b], axis=1))).numpy()
    np.testing.assert_allclose(gated, np.tanh(a) / (1 + np.exp(-b)), rtol=1e-12)
    with pytest.raises(ValueError, match="unknown nonlinearity 'swish'"):
        nonlinearity("swish")


@pytest.mark.parametrize("depth, strided", [(1, 1), (2, 2), (3, 3), (5, 3), (8, 3)])
def test_depth_counts_conv_layers_and_at_most_three_halve_an_8x8_image(depth, strided):
    g = DCGANGenerator(4, SHAPE, 4, depth=depth)
    d = DCGANCritic(SHAPE, 4, depth=depth)
    for net in (g, d):
        layers = convs(net)
        assert len(layers) == depth
        assert sum(m.stride == (2, 2) or m.stride == 2 for m in layers) == strided
    x = minigrad.randn(3, *SHAPE)
    assert g(minigrad.randn(3, 4)).shape == (3, *SHAPE) and d(x).shape == (3,)


def test_default_depth_is_the_plain_dcgan_pyramid():
    assert len(convs(DCGANGenerator(4, SHAPE, 4))) == 1 and len(convs(DCGANCritic((1, 32, 32), 4))) == 3
    assert len(convs(DCGANGenerator(4, (1, 28, 28), 4, depth=5))) == 5


def test_constant_filters_and_no_batch_norm_generator():
    g = DCGANGenerator(4, SHAPE, 6, depth=4, norm="none", constant_filters=True)
    assert {m.out_channels for m in convs(g)[:-1]} == {6}
    assert not any("Norm" in type(m).__name__ for m in g.modules())
    growing = DCGANGenerator(4, SHAPE, 6, depth=3)
    assert [m.out_channels for m in convs(growing)] == [12, 6, 1]


def test_gated_layers_produce_twice_the_channels():
    d = DCGANCritic(SHAPE, 4, depth=2, nonlinearity="gated", norm="layernorm")
    assert [m.out_channels for m in convs(d)] == [8, 16]
    assert d(minigrad.randn(2, *SHAPE)).shape == (2,)


def test_image_mlp_generator_is_bounded():
    g = MLPGenerator(8, SHAPE, width=16, depth=4, output="tanh")
    out = g(minigrad.randn(5, 8) * 100).numpy()
    assert out.shape == (5, *SHAPE) and np.abs(out).max() <= 1
    assert sum(isinstance(m, nn.Linear) for m in g.modules()) == 5


@pytest.mark.parametrize("size", IMAGE_SIZES)
def test_101_layer_resnets_at_every_built_in_size(size):
    g = ResNetGenerator(4, (1, size, size), depth=101, base_filters=2)
    d = ResNetCritic((1, size, size), depth=101, base_filters=2)
    for net in (g, d):
        blocks = [m for m in net.modules() if type(m).__name__ == "BottleneckBlock"]
        layers = 2 + sum(len([c for name, c in b.named_modules() if name.startswith("conv")]) for b in blocks)
        assert len(blocks) == 33 and layers == 101
    x = g(minigrad.randn(2, 4))
    assert x.shape == (2, 1, size, size) and d(x).shape == (2,)


def test_resnet_depth_is_checked():
    assert resnet_blocks(101) == 33 and resnet_blocks(5) == 1
    for bad in (4, 6, 104):
        with pytest.raises(ValueError, match="2 \\+ 3·blocks"):
            resnet_blocks(bad)
    with pytest.raises(ValueError, match="use depth >= 8"):
        ResNetGenerator(4, (1, 16, 16), depth=5)


# ------------------------------------------------------------------------------------------------ second order
def _critics():
    cases = []
    for i, act in enumerate(NONLINEARITIES):
        norm = ("layernorm", "none")[i % 2]
        cases.append((f"dcgan-{act}-{norm}", lambda act=act, norm=norm: DCGANCritic(
            SHAPE, 2, depth=4, norm=norm, nonlinearity=act, init="torch")))
    cases.append(("dcgan-constant", lambda: DCGANCritic(SHAPE, 2, depth=3, constant_filters=True, init="torch")))
    cases.append(("mlp", lambda: MLPCritic(SHAPE, width=6, depth=2, activation="tanh", init="torch")))
    cases.append(("resnet-relu", lambda: ResNetCritic(SHAPE, depth=8, base_filters=2)))
    cases.append(("resnet-gated-ln", lambda: ResNetCritic(SHAPE, depth=8, base_filters=2, nonlinearity="gated",
                                                          norm="layernorm")))
    cases.append(("resnet-tanh", lambda: ResNetCritic(SHAPE, depth=5, base_filters=2, nonlinearity="tanh")))
    return cases


def _generators():
    cases = []
    for i, act in enumerate(NONLINEARITIES):
        norm = ("batchnorm", "layernorm", "none")[i % 3]
        cases.append((f"dcgan-{act}-{norm}", lambda act=act, norm=norm: DCGANGenerator(
            3, SHAPE, 2, depth=4, norm=norm, nonlinearity=act, init="torch")))
    cases.append(("dcgan-constant-nobn", lambda: DCGANGenerator(3, SHAPE, 2, depth=3, norm="none",
                                                                constant_filters=True, init="torch")))
    cases.append(("mlp-image", lambda: MLPGenerator(3, SHAPE, width=6, depth=4, init="torch", output="tanh")))
    cases.append(("resnet-relu-bn", lambda: ResNetGenerator(3, SHAPE, depth=8, base_filters=2, norm="batchnorm")))
    cases.append(("resnet-gated", lambda: ResNetGenerator(3, SHAPE, depth=5, base_filters=2, nonlinearity="gated")))
    return cases


def _first_weight(module):
    return next(m for m in module.modules() if type(m).__name__ in ("Conv2d", "Linear"))


@pytest.mark.parametrize("name, make", _critics(), ids=[c[0] for c in _critics()])
def test_penalty_through_every_critic_is_exact_to_second_order(name, make):
    minigrad.manual_seed(0)
    critic = make().double()
    rng = np.random.default_rng(0)
    real, fake = f64(rng.uniform(-1, 1, (2, *SHAPE))), f64(rng.uniform(-1, 1, (2, *SHAPE)))
    eps = f64(rng.random((2, 1, 1, 1)))
    # second derivatives of D in its input: what the penalty's gradient is made of
    assert minigrad.gradgradcheck(lambda x: critic(x), (f64(rng.uniform(-1, 1, (2, *SHAPE)), True),),
                                  atol=1e-6, rtol=1e-4)
    # the penalty's gradient in the first layer's weight (double backprop), against finite differences
    layer = _first_weight(critic)
    original = layer.weight

    def penalty(weight):
        layer._parameters["weight"] = weight
        try:
            return losses.gradient_penalty(critic, real, fake, eps)[0]
        finally:
            layer._parameters["weight"] = original

    assert minigrad.gradcheck(penalty, (f64(original.numpy(), True),), atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("name, make", _generators(), ids=[g[0] for g in _generators()])
def test_every_generator_is_twice_differentiable(name, make):
    minigrad.manual_seed(0)
    generator = make().double()
    z = f64(np.random.default_rng(1).normal(size=(3, 3)), True)
    assert minigrad.gradgradcheck(lambda z: generator(z), (z,), atol=1e-6, rtol=1e-4)
