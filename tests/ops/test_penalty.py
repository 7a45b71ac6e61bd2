"""The gradient penalty's fused ops (minigrad.ops.penalty) against the unfused ops they replace."""
import numpy as np
import pytest

import minigrad
from minigrad.ops.penalty import NormPenalty, SampleNorms, norm_penalty, sample_norms


def _unfused(g, eps, one_sided):
    """The reference: the penalty's tail as separate ops (wgan.losses before the fused ops)."""
    norms = minigrad.sqrt(minigrad.sum(g * g, axis=tuple(range(1, g.ndim))) + eps)
    excess = norms - 1.0
    if one_sided:
        excess = minigrad.relu(excess)
    return norms, excess * excess


def _fused_functions(g, eps, one_sided, scale=None):
    """The Functions themselves (the wrappers run the unfused ops on the CPU)."""
    norms = SampleNorms(eps)(g)
    return norms, NormPenalty(one_sided, scale)(norms)


def _unfused_mean(g, eps, one_sided):
    norms, penalty = _unfused(g, eps, one_sided)
    return norms, minigrad.mean(penalty)


def _gradient(shape, seed=0, dtype=np.float32):
    g = np.random.default_rng(seed).standard_normal(shape) * 0.7
    g[0] = 0.0  # a zero gradient: eps keeps the norm's derivative finite
    return g.astype(dtype)


@pytest.mark.parametrize("one_sided", [False, True], ids=["two-sided", "one-sided"])
@pytest.mark.parametrize("shape", [(6, 3), (5, 2, 3, 2)])
def test_functions_gradcheck_and_gradgradcheck(shape, one_sided):
    g = minigrad.tensor(_gradient(shape, dtype=np.float64))
    g.data[0] = 0.1  # finite differences need the norm away from its eps-sized kink at 0

    for scale in (None, 1 / shape[0], 1.0):  # per sample, mean, sum
        def fn(x, scale=scale):
            return _fused_functions(x, 1e-12, one_sided, scale)

        assert minigrad.gradcheck(fn, [g])
        assert minigrad.gradgradcheck(fn, [g])


@pytest.mark.parametrize("one_sided", [False, True], ids=["two-sided", "one-sided"])
def test_the_gradients_third_derivatives(one_sided):
    """The gradient Functions' own backwards (third order of the penalty) against finite differences."""
    g = minigrad.tensor(_gradient((5, 3), seed=4, dtype=np.float64))
    g.data[0] = 0.2

    def penalty_gradient(x):
        norms, penalty = _fused_functions(x, 1e-12, one_sided, 1 / 5)
        d, = minigrad.grad(penalty, x, create_graph=True)
        return d

    assert minigrad.gradgradcheck(penalty_gradient, [g])


def _derivatives(penalty_fn, device, shape, eps, one_sided):
    """Value, gradient in g and the gradient of that gradient's square (the critic update's second order)."""
    g = minigrad.tensor(_gradient(shape), device=device, requires_grad=True)
    w = minigrad.tensor(np.linspace(0.5, 2.0, shape[0]).astype(np.float32), device=device)
    norms, penalty = penalty_fn(g * 1.5, eps, one_sided)
    loss = (penalty * w).sum() + norms.sum()
    d, = minigrad.grad(loss, g, create_graph=True)
    (d * d).sum().backward()
    return [x.numpy() for x in (norms, penalty, d, g.grad)]


@pytest.mark.parametrize("one_sided", [False, True], ids=["two-sided", "one-sided"])
@pytest.mark.parametrize("shape", [(8, 2), (4, 3, 5, 5)])
def test_functions_match_the_unfused_ops_on_cpu(shape, one_sided):
    fused = _derivatives(_fused_functions, "cpu", shape, 1e-12, one_sided)
    for a, b in zip(fused, _derivatives(_unfused, "cpu", shape, 1e-12, one_sided)):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-5)
    fused = _derivatives(lambda g, e, o: _fused_functions(g, e, o, 1 / shape[0]), "cpu", shape, 1e-12, one_sided)
    for a, b in zip(fused, _derivatives(_unfused_mean, "cpu", shape, 1e-12, one_sided)):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-5)


def _wrapped(reduction):
    def penalty_fn(g, eps, one_sided):
        norms = sample_norms(g, eps)
        return norms, norm_penalty(norms, one_sided, reduction)

    return penalty_fn


def test_on_the_cpu_the_wrappers_are_the_unfused_ops():
    """Seeded CPU results do not change: on NumPy `sample_norms`/`norm_penalty` run the unfused ops."""
    for one_sided in (False, True):
        for reduction, reference in (("none", _unfused), ("mean", _unfused_mean)):
            for a, b in zip(_derivatives(_wrapped(reduction), "cpu", (8, 3), 1e-12, one_sided),
                            _derivatives(reference, "cpu", (8, 3), 1e-12, one_sided)):
                np.testing.assert_array_equal(a, b)
    g = minigrad.tensor(_gradient((8, 3)))
    np.testing.assert_array_equal(norm_penalty(sample_norms(g), reduction="sum").numpy(),
                                  minigrad.sum(_unfused(g, 0.0, False)[1]).numpy())


@pytest.mark.cuda
@pytest.mark.parametrize("one_sided", [False, True], ids=["two-sided", "one-sided"])
@pytest.mark.parametrize("shape", [(8, 2), (4, 3, 5, 5)])
def test_kernels_match_the_unfused_ops_on_the_device(shape, one_sided):
    for eps in (1e-12, 0.25):
        for reduction, reference in (("none", _unfused), ("mean", _unfused_mean)):
            fused = _derivatives(_wrapped(reduction), "cuda", shape, eps, one_sided)
            for a, b in zip(fused, _derivatives(reference, "cpu", shape, eps, one_sided)):
                np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-5)


@pytest.mark.cuda
@pytest.mark.parametrize("reduction", ["none", "mean"])
def test_one_kernel_each_forward_and_backward(standin, reduction):
    g = minigrad.tensor(_gradient((16, 4, 3)), device="cuda", requires_grad=True)
    with standin.record() as rec:
        norms = sample_norms(g, 1e-12)
        penalty = norm_penalty(norms, reduction=reduction)
    penalty_kernel = "kernel:minigrad_norm_penalty" + ("_sum" if reduction == "mean" else "")
    assert rec.launches == {"kernel:minigrad_sample_norms": 1, penalty_kernel: 1}, rec.launches
    gy = minigrad.ones_like(penalty)
    with standin.record() as rec:
        minigrad.grad(penalty, g, gy)
    assert rec.launches == {"kernel:minigrad_norm_penalty_gradient": 1, "kernel:minigrad_norm_gradient": 1}
    assert not rec.syncs and not rec.copies


def test_bad_input():
    g = minigrad.tensor(np.ones((4, 2), np.float32))
    with pytest.raises(TypeError, match="sample_norms: g must be a Tensor, got ndarray"):
        sample_norms(np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"sample_norms: expected a floating gradient .* got float32 \(\)"):
        sample_norms(minigrad.tensor(np.float32(1)))
    with pytest.raises(ValueError, match=r"sample_norms: expected a floating gradient .* got int64 \(4, 2\)"):
        sample_norms(minigrad.tensor(np.ones((4, 2), np.int64)))
    with pytest.raises(ValueError, match="sample_norms: eps must be a finite number >= 0, got -1.0"):
        sample_norms(g, -1.0)
    with pytest.raises(TypeError, match="norm_penalty: norms must be a Tensor, got list"):
        norm_penalty([1.0])
    with pytest.raises(ValueError, match=r"norm_penalty: expected floating per-sample norms of shape \(B,\), B > 0, "
                                         r"got float32 \(4, 2\)"):
        norm_penalty(g)
    with pytest.raises(ValueError, match="norm_penalty: reduction must be 'none', 'mean' or 'sum', got 'max'"):
        norm_penalty(g[:, 0], reduction="max")
