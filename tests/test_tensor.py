"""Tensor construction, conversion, comparisons and the creation functions."""
import numpy as np
import pytest

import minigrad
from minigrad import Tensor


@pytest.mark.parametrize("data, dtype", [
    (1.5, np.float32), ([1.0, 2.0], np.float32), ([1, 2], np.int64), ([True, False], np.bool_),
    (np.array([1.0, 2.0]), np.float64), (np.array([1, 2], dtype=np.int32), np.int32),
    (np.float32(2.0), np.float32),
])
def test_dtype_inference(data, dtype, device):
    t = minigrad.tensor(data, device=device)
    assert t.dtype == dtype and t.device == device


def test_explicit_dtype_and_unsupported_dtype():
    assert minigrad.tensor([1, 2], dtype=np.float64).dtype == np.float64
    with pytest.raises(TypeError, match="tensor: unsupported dtype complex128"):
        minigrad.tensor(np.array([1j]))


def test_tensor_copies_make_and_detach_do_not():
    a = np.array([1.0, 2.0])
    t = minigrad.tensor(a)
    a[0] = 9.0
    assert t.numpy()[0] == 1.0
    made = Tensor._make(a, False)
    assert made.data is a
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2).detach()
    assert d.creator is None and not d.requires_grad
    assert np.shares_memory(x.detach().data, x.data)


def test_properties_and_conversions():
    t = minigrad.tensor(np.arange(6.0).reshape(2, 3))
    assert (t.shape, t.ndim, t.size, len(t)) == ((2, 3), 2, 6, 2)
    assert t.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert minigrad.tensor([4.0]).item() == 4.0
    with pytest.raises(ValueError, match=r"item\(\): only a tensor with one element.*\(2, 3\)"):
        t.item()
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(minigrad.tensor(1.0))
    np.testing.assert_array_equal(np.asarray(t), t.numpy())
    assert t.is_leaf and t.T.shape == (3, 2)


def test_repr():
    assert repr(minigrad.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert "dtype=int64" in repr(minigrad.tensor([1, 2]))
    assert "requires_grad=True" in repr(minigrad.tensor([1.0], requires_grad=True))
    y = minigrad.tensor([1.0], requires_grad=True) * 2
    assert f"grad_fn=<{y.creator.name}>" in repr(y)


@pytest.mark.parametrize("op", ["<", "<=", ">", ">=", "==", "!="])
def test_comparisons_give_bool_tensors_without_grad(op, device):
    x = minigrad.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    y = minigrad.tensor([2.0, 2.0, 2.0], device=device, requires_grad=True)
    ops = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
           ">=": lambda a, b: a >= b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b}
    for other, ref_other in [(y, y.numpy()), (2.0, 2.0)]:
        c = ops[op](x, other)
        assert c.dtype == np.bool_ and not c.requires_grad and c.creator is None
        np.testing.assert_array_equal(c.numpy(), ops[op](x.numpy(), ref_other))


def test_tensor_hashable_and_truth_value():
    x = minigrad.tensor([1.0, 2.0])
    assert {x: 1}[x] == 1
    with pytest.raises(RuntimeError, match=r"truth value of a tensor with shape \(2,\) is ambiguous"):
        bool(x)
    assert bool(minigrad.tensor([1.0]) > 0)


def test_requires_grad_rules():
    x = minigrad.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="non-leaf tensor: use .detach"):
        (x * 2).requires_grad_(False)
    assert not x.requires_grad_(False).requires_grad


def test_to_and_astype_are_differentiable(device):
    x = minigrad.tensor([1.0, 2.0], device=device, requires_grad=True)
    y = x.to(dtype=np.float64)
    assert y.dtype == np.float64 and y.creator.name == "AsType"
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])
    assert x.to(device) is x and x.float() is x and x.double().dtype == np.float64
    i = x.astype(np.int64)
    assert i.dtype == np.int64 and not i.requires_grad


def test_creation_functions(device):
    assert minigrad.zeros(2, 3, device=device).shape == (2, 3)
    assert minigrad.zeros((2, 3)).dtype == np.float32
    np.testing.assert_array_equal(minigrad.ones(2, dtype=np.int64).numpy(), [1, 1])
    assert minigrad.full((2,), 1.5).dtype == np.float32 and minigrad.full((2,), 3).dtype == np.int64
    assert minigrad.arange(3).tolist() == [0, 1, 2] and minigrad.arange(0.0, 1.0, 0.5).dtype == np.float32
    x = minigrad.randn(3, 2, dtype=np.float64, device=device)
    for like in (minigrad.zeros_like, minigrad.ones_like, minigrad.randn_like, minigrad.rand_like):
        t = like(x)
        assert (t.shape, t.dtype, t.device) == ((3, 2), np.float64, device)
    assert minigrad.full_like(x, 2.0).numpy().sum() == 12.0
    assert minigrad.zeros(2, requires_grad=True).requires_grad
    r = minigrad.rand(1000).numpy()
    assert r.min() >= 0 and r.max() < 1
    with pytest.raises(ValueError, match=r"invalid shape \(2, -1\)"):
        minigrad.zeros(2, -1)


def test_manual_seed_makes_runs_reproducible():
    minigrad.manual_seed(7)
    a = minigrad.randn(4).numpy()
    minigrad.manual_seed(7)
    np.testing.assert_array_equal(minigrad.randn(4).numpy(), a)
    assert not np.array_equal(minigrad.randn(4).numpy(), a)
    with pytest.raises(ValueError, match="manual_seed: seed must be a non-negative int"):
        minigrad.manual_seed(-1)


def test_methods_mirror_the_functions():
    x = minigrad.tensor(np.array([[1.0, -2.0], [3.0, 0.5]]))
    for name in ("exp", "tanh", "sigmoid", "relu", "abs", "sum", "mean", "max", "min", "logsumexp", "flatten"):
        np.testing.assert_allclose(getattr(x, name)().numpy(), getattr(minigrad, name)(x).numpy())
    np.testing.assert_allclose(x.clip(0, 1).numpy(), np.clip(x.numpy(), 0, 1))
    np.testing.assert_allclose(x.view(4).numpy(), x.numpy().reshape(4))
    np.testing.assert_allclose((+x).numpy(), x.numpy())
    np.testing.assert_allclose(abs(x).numpy(), np.abs(x.numpy()))
    np.testing.assert_allclose((np.ones(2) + x).numpy(), 1 + x.numpy())
