"""batch_norm (train and eval, running statistics), layer_norm, dropout and the losses: values against
NumPy formulas and first and second derivatives."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad
import minigrad.functional as F
from tests.functional.helpers import PROPERTY, tensor, values

SEEDS = st.integers(0, 2 ** 16)
SHAPES = st.sampled_from([(3, 2), (2, 3, 2), (2, 2, 3, 2), (3, 1, 2, 1)])


@PROPERTY
@given(shape=SHAPES, seed=SEEDS, affine=st.booleans(), momentum=st.floats(0.0, 1.0))
def test_batch_norm_training(shape, seed, affine, momentum, device):
    x = values(seed, shape)
    c = shape[1]
    mean0, var0 = values(seed + 1, (c,)), np.abs(values(seed + 2, (c,))) + 0.5
    running_mean, running_var = tensor(mean0, device, False), tensor(var0, device, False)
    params = [tensor(values(seed + s, (c,)), device) if affine else None for s in (3, 4)]
    y = F.batch_norm(tensor(x, device), running_mean, running_var, *params, training=True, momentum=momentum)
    axes = (0,) + tuple(range(2, x.ndim))
    bshape = (1, c) + (1,) * (x.ndim - 2)
    expected = (x - x.mean(axes, keepdims=True)) / np.sqrt(x.var(axes, keepdims=True) + 1e-5)
    if affine:
        expected = expected * params[0].numpy().reshape(bshape) + params[1].numpy().reshape(bshape)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(running_mean.numpy(), (1 - momentum) * mean0 + momentum * x.mean(axes), rtol=1e-12)
    np.testing.assert_allclose(running_var.numpy(), (1 - momentum) * var0 + momentum * x.var(axes, ddof=1), rtol=1e-12)

    def fn(x, *p):
        return F.batch_norm(x, None, None, *p, training=True)

    inputs = [tensor(x, device)] + [p for p in params if p is not None]
    assert minigrad.gradcheck(fn, inputs)
    assert minigrad.gradgradcheck(fn, inputs)


@PROPERTY
@given(shape=SHAPES, seed=SEEDS)
def test_batch_norm_eval_uses_the_running_statistics(shape, seed, device):
    x = values(seed, shape)
    c = shape[1]
    mean, var = values(seed + 1, (c,)), np.abs(values(seed + 2, (c,))) + 0.5
    w, b = values(seed + 3, (c,)), values(seed + 4, (c,))
    running = [tensor(mean, device, False), tensor(var, device, False)]
    y = F.batch_norm(tensor(x, device), *running, tensor(w, device), tensor(b, device), training=False)
    bshape = (1, c) + (1,) * (x.ndim - 2)
    expected = (x - mean.reshape(bshape)) / np.sqrt(var.reshape(bshape) + 1e-5) * w.reshape(bshape) + b.reshape(bshape)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(running[0].numpy(), mean)  # eval leaves the statistics alone
    np.testing.assert_array_equal(running[1].numpy(), var)
    fn = lambda x, w, b: F.batch_norm(x, *running, w, b)  # noqa: E731
    inputs = [tensor(a, device) for a in (x, w, b)]
    assert minigrad.gradcheck(fn, inputs)
    assert minigrad.gradgradcheck(fn, inputs)


def test_batch_norm_float32_running_statistics_stay_float32(device):
    rm, rv = minigrad.zeros(3, device=device), minigrad.ones(3, device=device)
    x = minigrad.randn(4, 3, 2, 2, device=device)
    F.batch_norm(x, rm, rv, training=True)
    assert rm.dtype == rv.dtype == np.float32
    np.testing.assert_allclose(rm.numpy(), 0.1 * x.numpy().mean((0, 2, 3)), rtol=1e-5)


@PROPERTY
@given(shape=st.sampled_from([(2, 3), (2, 2, 3), (1, 2, 2, 2)]), k=st.integers(1, 2), seed=SEEDS,
       affine=st.booleans())
def test_layer_norm(shape, k, seed, affine, device):
    x = values(seed, shape)
    norm_shape = shape[-k:]
    params = [tensor(values(seed + 1, norm_shape), device), tensor(values(seed + 2, norm_shape), device)] \
        if affine else []
    y = F.layer_norm(tensor(x, device), norm_shape, *params)
    axes = tuple(range(x.ndim - k, x.ndim))
    expected = (x - x.mean(axes, keepdims=True)) / np.sqrt(x.var(axes, keepdims=True) + 1e-5)
    if affine:
        expected = expected * params[0].numpy() + params[1].numpy()
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-9, atol=1e-9)
    fn = lambda x, *p: F.layer_norm(x, norm_shape, *p)  # noqa: E731
    inputs = [tensor(x, device)] + params
    assert minigrad.gradcheck(fn, inputs)
    assert minigrad.gradgradcheck(fn, inputs)


@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_dropout_statistics(p, device):
    x = minigrad.ones(200, 500, device=device)
    y = F.dropout(x, p).numpy()
    kept = y != 0
    assert abs(kept.mean() - (1 - p)) < 4 * np.sqrt(p * (1 - p) / kept.size)
    np.testing.assert_allclose(y[kept], 1 / (1 - p), rtol=1e-6)  # kept values are rescaled: E[y] = x
    assert y.dtype == np.float32


def test_dropout_gradient_is_the_mask_and_reproducible(device):
    minigrad.manual_seed(5)
    x = tensor(values(0, (4, 6)), device)
    y = F.dropout(x, 0.5)
    (gx,) = minigrad.grad(y.sum(), [x])
    np.testing.assert_allclose(gx.numpy(), np.where(y.numpy() != 0, 2.0, 0.0))
    minigrad.manual_seed(5)
    np.testing.assert_array_equal(F.dropout(x, 0.5).numpy(), y.numpy())


def test_dropout_identity_and_extremes(device):
    x = tensor(values(0, (3, 4)), device)
    assert F.dropout(x, 0.0) is x
    assert F.dropout(x, 0.7, training=False) is x
    y = F.dropout(x, 1.0)
    np.testing.assert_array_equal(y.numpy(), np.zeros((3, 4)))
    assert minigrad.gradgradcheck(lambda t: F.dropout(t, 1.0), [x])


# ----------------------------------------------------------------------------- losses
@PROPERTY
@given(shape=st.sampled_from([(3,), (2, 3), (2, 1, 2)]), seed=SEEDS, reduction=st.sampled_from(["mean", "sum", "none"]))
def test_mse_loss(shape, seed, reduction, device):
    a, b = values(seed, shape), values(seed + 1, shape)
    out = F.mse_loss(tensor(a, device), tensor(b, device), reduction=reduction)
    full = (a - b) ** 2
    expected = {"mean": full.mean(), "sum": full.sum(), "none": full}[reduction]
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    fn = lambda a, b: F.mse_loss(a, b, reduction=reduction)  # noqa: E731
    assert minigrad.gradgradcheck(fn, [tensor(a, device), tensor(b, device)])


@PROPERTY
@given(shape=st.sampled_from([(4,), (2, 3)]), seed=SEEDS, weighted=st.booleans(), pos=st.booleans(),
       reduction=st.sampled_from(["mean", "sum", "none"]))
def test_binary_cross_entropy_with_logits(shape, seed, weighted, pos, reduction, device):
    x = values(seed, shape, 3.0)
    t = np.random.default_rng(seed).uniform(0, 1, shape)
    w = values(seed + 1, shape) if weighted else None
    pw = np.abs(values(seed + 2, shape[-1:])) + 0.1 if pos else None
    sig = 1 / (1 + np.exp(-x))
    full = -((1 if pw is None else pw) * t * np.log(sig) + (1 - t) * np.log(1 - sig)) * (1 if w is None else w)
    expected = {"mean": full.mean(), "sum": full.sum(), "none": full}[reduction]

    def fn(x, t, *extra):
        kw = {"weight": extra[0] if weighted else None, "pos_weight": extra[-1] if pos else None}
        return F.binary_cross_entropy_with_logits(x, t, reduction=reduction, **kw)

    inputs = [tensor(a, device) for a in [x, t] + [a for a in (w, pw) if a is not None]]
    np.testing.assert_allclose(fn(*inputs).numpy(), expected, rtol=1e-10)
    assert minigrad.gradcheck(fn, inputs)
    assert minigrad.gradgradcheck(fn, inputs)


def test_binary_cross_entropy_with_logits_is_stable_for_large_logits(device):
    x = minigrad.tensor([-1000.0, 1000.0, 60.0, -60.0], device=device, requires_grad=True)
    t = minigrad.tensor([1.0, 0.0, 1.0, 0.0], device=device)
    loss = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    np.testing.assert_allclose(loss.numpy(), [1000.0, 1000.0, 0.0, 0.0], atol=1e-6)
    (gx,) = minigrad.grad(loss.sum(), [x])
    np.testing.assert_allclose(gx.numpy(), [-1.0, 1.0, 0.0, 0.0], atol=1e-6)


@PROPERTY
@given(shape=st.sampled_from([(3, 4), (2, 3, 2), (1, 2)]), seed=SEEDS, soft=st.booleans(),
       reduction=st.sampled_from(["mean", "sum", "none"]))
def test_cross_entropy(shape, seed, soft, reduction, device):
    x = values(seed, shape, 2.0)
    rng = np.random.default_rng(seed)
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    if soft:
        target = rng.dirichlet(np.ones(shape[1]), size=(shape[0],) + shape[2:])
        target = np.moveaxis(target, -1, 1)
        full = -(logp * target).sum(1)
        target_t = tensor(target, device, False)
    else:
        target = rng.integers(0, shape[1], (shape[0],) + shape[2:])
        full = -np.take_along_axis(logp, target[:, None], axis=1)[:, 0]
        target_t = minigrad.tensor(target, device=device)
    expected = {"mean": full.mean(), "sum": full.sum(), "none": full}[reduction]
    fn = lambda x: F.cross_entropy(x, target_t, reduction=reduction)  # noqa: E731
    np.testing.assert_allclose(fn(tensor(x, device)).numpy(), expected, rtol=1e-10)
    assert minigrad.gradcheck(fn, [tensor(x, device)])
    assert minigrad.gradgradcheck(fn, [tensor(x, device)])


def test_softmax_and_log_softmax(device):
    x = values(0, (3, 5))
    e = np.exp(x - x.max(1, keepdims=True))
    np.testing.assert_allclose(F.softmax(tensor(x, device), 1).numpy(), e / e.sum(1, keepdims=True), rtol=1e-12)
    assert minigrad.gradgradcheck(lambda t: F.log_softmax(t, -1), [tensor(x, device)])


def test_activations_are_the_core_ops():
    for name in ("relu", "leaky_relu", "tanh", "sigmoid", "softplus", "elu", "linear"):
        assert getattr(F, name) is getattr(minigrad, name)
