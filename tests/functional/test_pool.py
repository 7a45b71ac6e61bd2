"""avg_pool2d, max_pool2d and nearest interpolate: values against direct loops, PyTorch's output
shapes, and first and second derivatives over random geometries."""
import math

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

import minigrad
import minigrad.functional as F
from tests.functional.helpers import PROPERTY, distinct_values, pairs, pool_cases, reference_pool, tensor, values


@PROPERTY
@given(case=pool_cases(dilated=False))
def test_avg_pool2d(case, device):
    x = values(case["seed"], case["shape"])
    y = F.avg_pool2d(tensor(x, device), **case["kwargs"])
    assert y.shape == case["out"]
    np.testing.assert_allclose(y.numpy(), reference_pool(x, case["geometry"], np.mean, 0.0), rtol=1e-12, atol=1e-12)
    fn = lambda t: F.avg_pool2d(t, **case["kwargs"])  # noqa: E731
    assert minigrad.gradcheck(fn, [tensor(x, device)])
    assert minigrad.gradgradcheck(fn, [tensor(x, device)])


@PROPERTY
@given(case=pool_cases(dilated=True))
def test_max_pool2d(case, device):
    x = distinct_values(case["seed"], case["shape"])
    y = F.max_pool2d(tensor(x, device), **case["kwargs"])
    assert y.shape == case["out"]
    expected = reference_pool(x, case["geometry"], np.max, -np.inf)
    np.testing.assert_array_equal(y.numpy(), expected)
    assume(np.isfinite(expected).all())  # a dilated window may see only padding (-inf, as in PyTorch)
    fn = lambda t: F.max_pool2d(t, **case["kwargs"])  # noqa: E731
    assert minigrad.gradcheck(fn, [tensor(x, device)])
    assert minigrad.gradgradcheck(fn, [tensor(x, device)])


def test_max_pool2d_ties_send_the_gradient_to_the_first_maximum(device):
    x = tensor(np.ones((1, 1, 2, 2)), device)
    (gx,) = minigrad.grad(F.max_pool2d(x, 2).sum(), [x])
    np.testing.assert_array_equal(gx.numpy(), [[[[1.0, 0.0], [0.0, 0.0]]]])


@PROPERTY
@given(shape=st.tuples(st.integers(1, 2), st.integers(1, 2), st.integers(1, 4), st.integers(1, 4)),
       size=st.one_of(st.none(), pairs(1, 7)), factor=st.sampled_from([1, 2, 3, 1.5, (2, 3), 0.5]),
       seed=st.integers(0, 2 ** 16))
def test_interpolate_nearest(shape, size, factor, seed, device):
    x = values(seed, shape)
    kwargs = {"size": size} if size is not None else {"scale_factor": factor}
    factors = factor if isinstance(factor, tuple) else (factor, factor)
    out = size if size is not None else tuple(math.floor(s * f) for s, f in zip(shape[2:], factors))
    assume(min(out) >= 1)
    y = F.interpolate(tensor(x, device), **kwargs)
    assert y.shape == shape[:2] + tuple(out)
    # nearest: output pixel p copies input pixel floor(p * in / out) (floor(p / factor) with a factor)
    scale = [shape[2 + a] / out[a] if size is not None else 1 / factors[a] for a in (0, 1)]
    rows = [min(math.floor(p * scale[0]), shape[2] - 1) for p in range(out[0])]
    cols = [min(math.floor(q * scale[1]), shape[3] - 1) for q in range(out[1])]
    np.testing.assert_array_equal(y.numpy(), x[:, :, rows][:, :, :, cols])
    fn = lambda t: F.interpolate(t, **kwargs)  # noqa: E731
    assert minigrad.gradcheck(fn, [tensor(x, device)])
    assert minigrad.gradgradcheck(fn, [tensor(x, device)])


def test_upsample_is_interpolate(device):
    x = tensor(values(0, (1, 2, 3, 2)), device)
    np.testing.assert_array_equal(F.upsample(x, scale_factor=2).numpy(), F.interpolate(x, scale_factor=2).numpy())


def test_float32_stays_float32(device):
    x = minigrad.randn(2, 3, 6, 5, device=device, requires_grad=True)
    for y in (F.avg_pool2d(x, 2), F.max_pool2d(x, 3, 1, 1), F.interpolate(x, scale_factor=2),
              F.interpolate(x, size=(7, 4))):
        (gx,) = minigrad.grad(y.sum(), [x])
        assert y.dtype == gx.dtype == np.float32
