"""Losses, gradient penalties and clipping against closed forms and finite differences."""
import numpy as np
import pytest

import minigrad
from minigrad import nn
from wgan import losses


def _t(a, requires_grad=False):
    return minigrad.tensor(np.asarray(a), requires_grad=requires_grad)


@pytest.mark.parametrize("kind", ["wgan", "hinge", "gan"])
def test_losses_match_closed_forms(kind):
    rng = np.random.default_rng(0)
    dr, df = rng.normal(size=7).astype(np.float32), rng.normal(size=7).astype(np.float32)
    softplus = lambda x: np.log1p(np.exp(x))  # noqa: E731
    expected_d = {"wgan": df.mean() - dr.mean(),
                  "hinge": np.maximum(0, 1 - dr).mean() + np.maximum(0, 1 + df).mean(),
                  "gan": softplus(-dr).mean() + softplus(df).mean()}[kind]
    expected_g = {"wgan": -df.mean(), "hinge": -df.mean(), "gan": softplus(-df).mean()}[kind]
    assert losses.critic_loss(kind, _t(dr), _t(df)).item() == pytest.approx(expected_d, rel=1e-5)
    assert losses.generator_loss(kind, _t(df)).item() == pytest.approx(expected_g, rel=1e-5)


def test_unknown_loss_is_refused():
    with pytest.raises(ValueError, match="unknown loss 'bce'"):
        losses.critic_loss("bce", _t([1.0]), _t([1.0]))


def test_interpolation_uses_one_epsilon_per_sample():
    real, fake = _t(np.ones((3, 2, 2, 2), np.float32)), _t(np.zeros((3, 2, 2, 2), np.float32))
    eps = _t(np.array([0.0, 0.5, 1.0], np.float32).reshape(3, 1, 1, 1))
    x_hat = losses.interpolate(real, fake, eps)
    assert x_hat.requires_grad and x_hat.shape == (3, 2, 2, 2)
    np.testing.assert_array_equal(x_hat.numpy().reshape(3, -1), np.repeat([[0.0], [0.5], [1.0]], 8, axis=1))
    with pytest.raises(ValueError, match="one value per sample"):
        losses.interpolate(real, fake, _t(np.zeros((3, 2, 2, 2), np.float32)))


@pytest.mark.parametrize("one_sided", [False, True])
@pytest.mark.parametrize("scale", [0.3, 2.0])
def test_penalty_of_a_linear_critic_over_images_uses_the_norm_over_all_non_batch_axes(one_sided, scale):
    # D(x) = <W, x> over (C, H, W): grad_x D = W for every sample, so the per-sample norm is ||W||_F
    # (a per-pixel norm, the common bug, would give a different value).
    rng = np.random.default_rng(1)
    w = rng.normal(size=(2, 3, 3)).astype(np.float32)
    w *= scale / np.linalg.norm(w)
    critic = lambda x: minigrad.sum(x * _t(w), axis=(1, 2, 3))  # noqa: E731
    real, fake = (_t(rng.normal(size=(4, 2, 3, 3)).astype(np.float32)) for _ in range(2))
    eps = _t(rng.random((4, 1, 1, 1)).astype(np.float32))
    penalty, norms = losses.gradient_penalty(critic, real, fake, eps, one_sided=one_sided)
    np.testing.assert_allclose(norms.numpy(), np.full(4, scale), rtol=1e-5)
    excess = max(scale - 1, 0) if one_sided else scale - 1
    assert penalty.item() == pytest.approx(excess ** 2, rel=1e-5)


def test_penalty_is_finite_at_zero_gradient():
    w = _t(np.zeros(2, np.float32), requires_grad=True)
    critic = lambda x: minigrad.sum(x * w, axis=1)  # noqa: E731
    x = _t(np.ones((3, 2), np.float32))
    penalty, _ = losses.gradient_penalty(critic, x, x, _t(np.full((3, 1), 0.5, np.float32)))
    (g,) = minigrad.grad(penalty, w)
    assert penalty.item() == pytest.approx(1.0, abs=1e-5)
    assert np.isfinite(g.numpy()).all()


@pytest.mark.parametrize("one_sided", [False, True])
def test_penalty_value_and_weight_gradient_match_finite_differences(one_sided):
    rng = np.random.default_rng(2)
    real, fake = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    eps = rng.random((5, 1))
    w1, b1, w2 = rng.normal(size=(4, 3)), rng.normal(size=4), rng.normal(size=(1, 4)) * 2.0

    def penalty(w1, b1, w2):
        def critic(x):
            return minigrad.reshape(minigrad.linear(minigrad.tanh(minigrad.linear(x, w1, b1)), w2), (-1,))

        return losses.gradient_penalty(critic, _t(real), _t(fake), _t(eps), one_sided=one_sided)[0]

    # the value, by central differences of D along each coordinate
    x_hat = eps * real + (1 - eps) * fake
    d = lambda x: np.tanh(x @ w1.T + b1) @ w2.T  # noqa: E731
    h = 1e-6
    g = np.stack([(d(x_hat + h * e) - d(x_hat - h * e))[:, 0] / (2 * h) for e in np.eye(3)], axis=1)
    excess = np.linalg.norm(g, axis=1) - 1
    excess = np.maximum(excess, 0) if one_sided else excess
    assert penalty(_t(w1), _t(b1), _t(w2)).item() == pytest.approx((excess ** 2).mean(), rel=1e-6)
    # the gradient with respect to the critic's weights (double backprop), by finite differences
    assert minigrad.gradcheck(penalty, (_t(w1, True), _t(b1, True), _t(w2, True)))


def test_batch_norm_critic_is_refused_and_layer_norm_allowed():
    with pytest.raises(ValueError, match="BatchNorm2d.*per sample"):
        losses.check_penalizable(nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2)))
    losses.check_penalizable(nn.Sequential(nn.Conv2d(1, 2, 3), nn.LayerNorm([2, 2, 2])))


def test_clipping_puts_every_parameter_in_range():
    net = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 1))
    for p in net.parameters():
        p.data[...] = np.linspace(-3, 3, p.size).reshape(p.shape)
    losses.clip_parameters_(net, 0.01)
    for p in net.parameters():
        assert np.abs(p.numpy()).max() <= 0.01
        assert np.abs(p.numpy()).max() == pytest.approx(0.01)
