"""The public boundary between minigrad and its users: `as_tensor` (zero copy) and the in-place ops."""
import numpy as np
import pytest

import minigrad


def test_as_tensor_shares_memory_and_keeps_dtype(device):
    for dtype in (np.float64, np.float32, np.int32, np.bool_):
        xp = minigrad.backend.xp_for(device)
        array = xp.ones((2, 3), dtype)
        t = minigrad.as_tensor(array)
        assert t.data is array and t.dtype == dtype and t.device == device
        assert not t.requires_grad and t.creator is None
    a = np.zeros(3, np.float32)
    minigrad.as_tensor(a).data[1] = 7.0
    assert a[1] == 7.0


def test_as_tensor_converts_only_when_it_must():
    a = np.arange(3.0)
    t = minigrad.as_tensor(a, dtype=np.float32)
    assert t.dtype == np.float32 and not np.shares_memory(t.data, a)
    assert minigrad.as_tensor([1.0, 2.0]).dtype == np.float32  # Python floats: the default float32
    assert minigrad.as_tensor(np.float64(2.0)).shape == ()
    x = minigrad.tensor([1.0], requires_grad=True)
    assert minigrad.as_tensor(x) is x and minigrad.as_tensor(x, device="cpu") is x
    view = a[::2]
    assert minigrad.as_tensor(view).data is view  # a strided view is not copied either
    with pytest.raises(TypeError, match="unsupported dtype complex128"):
        minigrad.as_tensor(np.array([1j]))


def test_in_place_ops_match_numpy(device):
    start = np.array([[-2.0, -0.5, 0.25], [0.5, 1.5, 3.0]], np.float32)
    other = np.array([1.0, -2.0, 4.0], np.float32)
    other_array = minigrad.tensor(other, device=device).data  # a raw array on the tensor's device
    cases = [
        (lambda t: t.add_(minigrad.tensor(other, device=device)), start + other),
        (lambda t: t.add_(other_array, alpha=0.5), start + 0.5 * other),
        (lambda t: t.sub_(2.0), start - 2.0),
        (lambda t: t.mul_(minigrad.tensor(other, device=device)), start * other),
        (lambda t: t.div_(4), start / 4),
        (lambda t: t.lerp_(minigrad.ones(2, 3, device=device), 0.25), start + 0.25 * (1 - start)),
        (lambda t: t.clamp_(-1.0, 1.0), np.clip(start, -1, 1)),
        (lambda t: t.clamp_(max=0.0), np.minimum(start, 0)),
        (lambda t: t.copy_(minigrad.tensor(other, dtype=np.float64, device=device)), np.broadcast_to(other, start.shape)),
        (lambda t: t.fill_(3.0), np.full_like(start, 3.0)),
        (lambda t: t.zero_(), np.zeros_like(start)),
    ]
    for apply, expected in cases:
        t = minigrad.tensor(start, device=device)
        array = t.data
        assert apply(t) is t
        assert t.data is array and t.dtype == np.float32  # written in place, dtype kept
        np.testing.assert_allclose(t.numpy(), expected, rtol=1e-6)


def test_in_place_on_a_parameter_needs_no_grad():
    p = minigrad.nn.Parameter(minigrad.tensor([-3.0, 0.5, 3.0]))
    with pytest.raises(RuntimeError, match=r"clamp_: in-place update of a tensor that requires grad.*no_grad"):
        p.clamp_(-1, 1)
    with minigrad.no_grad():
        p.clamp_(-1, 1)
        ema = minigrad.zeros(3)
        ema.lerp_(p, 0.5)
    np.testing.assert_allclose(p.numpy(), [-1.0, 0.5, 1.0])
    np.testing.assert_allclose(ema.numpy(), [-0.5, 0.25, 0.5])
    assert p.requires_grad and p.is_leaf


def test_in_place_rejects_bad_operands():
    t = minigrad.zeros(2, 3)
    with pytest.raises(ValueError, match=r"add_: an operand of shape \(4,\) cannot update a tensor of shape \(2, 3\)"):
        t.add_(minigrad.zeros(4))
    with pytest.raises(ValueError, match=r"mul_: an operand of shape \(3, 3\) cannot update"):
        t.mul_(np.ones((3, 3), np.float32))
    with pytest.raises(ValueError, match="clamp_: at least one of min and max"):
        t.clamp_()
    with pytest.raises(TypeError, match="fill_: value must be a number"):
        t.fill_([1.0, 2.0])
    with pytest.raises(ValueError, match=r"add_: the tensor \(shape \(2, 3\)\) is a read-only view"):
        minigrad.zeros(3).expand(2, 3).add_(1.0)


@pytest.mark.cuda
def test_in_place_rejects_an_operand_on_another_device():
    with pytest.raises(RuntimeError, match="add_: the operand is on cpu but the tensor is on cuda"):
        minigrad.zeros(3, device="cuda").add_(np.ones(3, np.float32))
