"""PyTorch as an oracle: values and first derivatives of every functional op, and the second
derivative of a WGAN-GP gradient penalty through a conv critic built from raw weights."""
import numpy as np
import pytest

import minigrad
import minigrad.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _pair(a, device, requires_grad=True):
    return (minigrad.tensor(a, device=device, requires_grad=requires_grad),
            torch.tensor(a, requires_grad=requires_grad))


def _check(fn_mg, fn_torch, arrays, device, grad_mask=None, rtol=1e-10, atol=1e-10):
    """Same value and same gradients of <v, out> w.r.t. the arrays marked in grad_mask."""
    grad_mask = grad_mask or [True] * len(arrays)
    pairs = [_pair(a, device, m) for a, m in zip(arrays, grad_mask)]
    ours = fn_mg(*[p[0] for p in pairs])
    theirs = fn_torch(*[p[1] for p in pairs])
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=rtol, atol=atol)
    v = np.random.default_rng(9).standard_normal(theirs.shape)
    wrt = [i for i, m in enumerate(grad_mask) if m]
    g_ours = minigrad.grad(ours, [pairs[i][0] for i in wrt], grad_outputs=minigrad.tensor(v, device=device))
    g_theirs = torch.autograd.grad(theirs, [pairs[i][1] for i in wrt], grad_outputs=torch.tensor(v))
    for a, b in zip(g_ours, g_theirs):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=rtol, atol=atol)


rng = np.random.default_rng(0)
X = rng.standard_normal((2, 4, 7, 6))

CASES = {
    "conv2d": (lambda x, w, b: F.conv2d(x, w, b, (2, 1), (1, 2), (1, 2)),
               lambda x, w, b: TF.conv2d(x, w, b, (2, 1), (1, 2), (1, 2)),
               [X, rng.standard_normal((3, 4, 3, 2)), rng.standard_normal(3)]),
    "conv2d_groups": (lambda x, w: F.conv2d(x, w, stride=2, padding=1, groups=2),
                      lambda x, w: TF.conv2d(x, w, stride=2, padding=1, groups=2),
                      [X, rng.standard_normal((6, 2, 3, 3))]),
    "conv_transpose2d": (lambda x, w, b: F.conv_transpose2d(x, w, b, 2, 1, (1, 0), dilation=(1, 2)),
                         lambda x, w, b: TF.conv_transpose2d(x, w, b, 2, 1, (1, 0), dilation=(1, 2)),
                         [X, rng.standard_normal((4, 3, 4, 3)), rng.standard_normal(3)]),
    "conv_transpose2d_groups": (lambda x, w: F.conv_transpose2d(x, w, None, 3, 0, 2, groups=2),
                                lambda x, w: TF.conv_transpose2d(x, w, None, 3, 0, 2, groups=2),
                                [X, rng.standard_normal((4, 1, 2, 2))]),
    "conv2d_unbatched": (lambda x, w: F.conv2d(x, w, padding=1), lambda x, w: TF.conv2d(x, w, padding=1),
                         [X[0], rng.standard_normal((3, 4, 2, 2))]),
    "conv_transpose2d_unbatched": (lambda x, w: F.conv_transpose2d(x, w, stride=2),
                                   lambda x, w: TF.conv_transpose2d(x, w, stride=2),
                                   [X[0], rng.standard_normal((4, 2, 3, 3))]),
    "max_pool2d_unbatched": (lambda x: F.max_pool2d(x, 2), lambda x: TF.max_pool2d(x, 2), [X[0]]),
    "avg_pool2d_unbatched": (lambda x: F.avg_pool2d(x, 2), lambda x: TF.avg_pool2d(x, 2), [X[0]]),
    "avg_pool2d": (lambda x: F.avg_pool2d(x, 3, 2, 1), lambda x: TF.avg_pool2d(x, 3, 2, 1), [X]),
    "max_pool2d": (lambda x: F.max_pool2d(x, (2, 3), 1, (1, 0), (2, 1)),
                   lambda x: TF.max_pool2d(x, (2, 3), 1, (1, 0), (2, 1)), [X]),
    "interpolate_2x": (lambda x: F.interpolate(x, scale_factor=2), lambda x: TF.interpolate(x, scale_factor=2), [X]),
    "interpolate_size": (lambda x: F.interpolate(x, size=(10, 4)), lambda x: TF.interpolate(x, size=(10, 4)), [X]),
    "batch_norm_train": (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                         lambda x, w, b: TF.batch_norm(x, None, None, w, b, training=True),
                         [X, rng.standard_normal(4), rng.standard_normal(4)]),
    "batch_norm_eval": (lambda x, m, v, w, b: F.batch_norm(x, m, v, w, b),
                        lambda x, m, v, w, b: TF.batch_norm(x, m, v, w, b),
                        [X, rng.standard_normal(4), rng.uniform(0.5, 2, 4), rng.standard_normal(4),
                         rng.standard_normal(4)], [True, False, False, True, True]),
    "layer_norm": (lambda x, w, b: F.layer_norm(x, (7, 6), w, b), lambda x, w, b: TF.layer_norm(x, (7, 6), w, b),
                   [X, rng.standard_normal((7, 6)), rng.standard_normal((7, 6))]),
    "linear": (F.linear, TF.linear, [rng.standard_normal((3, 5)), rng.standard_normal((2, 5)), rng.standard_normal(2)]),
    "relu": (F.relu, TF.relu, [X]),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2), [X]),
    "tanh": (F.tanh, torch.tanh, [X]),
    "sigmoid": (F.sigmoid, torch.sigmoid, [X]),
    "softplus": (F.softplus, TF.softplus, [X]),
    "elu": (F.elu, TF.elu, [X]),
    "log_softmax": (lambda x: F.log_softmax(x, 1), lambda x: TF.log_softmax(x, 1), [X]),
    "mse_loss": (F.mse_loss, TF.mse_loss, [X, rng.standard_normal(X.shape)]),
    "bce_with_logits": (lambda x, t, w, p: F.binary_cross_entropy_with_logits(x, t, w, pos_weight=p),
                        lambda x, t, w, p: TF.binary_cross_entropy_with_logits(x, t, w, pos_weight=p),
                        [5 * X, rng.uniform(0, 1, X.shape), rng.uniform(0, 2, X.shape), rng.uniform(0.5, 2, 6)],
                        [True, True, False, False]),
    "cross_entropy_soft": (F.cross_entropy, TF.cross_entropy,
                           [X, rng.dirichlet(np.ones(4), (2, 7, 6)).transpose(0, 3, 1, 2)], [True, False]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name, device):
    fn_mg, fn_torch, arrays, *mask = CASES[name]
    _check(fn_mg, fn_torch, arrays, device, mask[0] if mask else None)


def test_cross_entropy_class_indices_matches_torch(device):
    target = np.array([[0, 3], [2, 2]])
    _check(lambda x: F.cross_entropy(x, minigrad.tensor(target, device=device)),
           lambda x: TF.cross_entropy(x, torch.tensor(target)), [X[:, :, :2, 0]], device)


def test_batch_norm_running_statistics_match_torch(device):
    ours = [minigrad.zeros(4, dtype=np.float64, device=device), minigrad.ones(4, dtype=np.float64, device=device)]
    theirs = [torch.zeros(4, dtype=torch.float64), torch.ones(4, dtype=torch.float64)]
    for step in range(3):
        x = rng.standard_normal((3, 4, 2, 5)) + step
        F.batch_norm(minigrad.tensor(x, device=device), *ours, training=True, momentum=0.3)
        TF.batch_norm(torch.tensor(x), *theirs, training=True, momentum=0.3)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)


def test_gradient_penalty_second_derivative_matches_torch(device):
    """WGAN-GP: d/dθ of mean((|∇x D(x)| - 1)²) through conv -> leaky_relu -> conv -> linear (float64)."""
    r = np.random.default_rng(1)
    arrays = [r.standard_normal((4, 3, 8, 8)), 0.3 * r.standard_normal((5, 3, 4, 4)), 0.1 * r.standard_normal(5),
              0.3 * r.standard_normal((6, 5, 3, 3)), 0.1 * r.standard_normal(6), 0.3 * r.standard_normal((1, 24)),
              0.1 * r.standard_normal(1)]

    def penalty(lib, fn, grad, x, w1, b1, w2, b2, w3, b3):
        h = fn.leaky_relu(fn.conv2d(x, w1, b1, stride=2, padding=1), 0.2)
        h = fn.leaky_relu(fn.conv2d(h, w2, b2, stride=2, padding=1), 0.2)
        score = fn.linear(h.reshape(4, 24), w3, b3)
        (gx,) = grad(score.sum(), [x], create_graph=True)
        norm = ((gx * gx).reshape(4, -1).sum(1)) ** 0.5
        return ((norm - 1) ** 2).mean()

    ours = [minigrad.tensor(a, device=device, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    p_ours = penalty(minigrad, F, minigrad.grad, *ours)
    p_theirs = penalty(torch, TF, torch.autograd.grad, *theirs)
    np.testing.assert_allclose(p_ours.item(), p_theirs.item(), rtol=1e-10)
    g_ours = minigrad.grad(p_ours, ours, allow_unused=True)
    g_theirs = torch.autograd.grad(p_theirs, theirs, allow_unused=True)
    for i, (a, b) in enumerate(zip(g_ours, g_theirs)):
        b = np.zeros(arrays[i].shape) if b is None else b.numpy()
        a = np.zeros(arrays[i].shape) if a is None else a.numpy()
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, err_msg=f"parameter {i}")
    assert np.abs(g_ours[1].numpy()).max() > 1e-3  # the penalty really reaches the conv weights


@pytest.mark.filterwarnings("ignore:Using padding='same'")  # PyTorch notes that it pads a copy, as we do
@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("kernel, dilation", [((3, 4), 1), ((2, 3), (2, 1)), ((1, 1), 1)])
def test_conv2d_string_padding_matches_torch(padding, kernel, dilation, device):
    _check(lambda x, w: F.conv2d(x, w, padding=padding, dilation=dilation),
           lambda x, w: TF.conv2d(x, w, padding=padding, dilation=dilation),
           [X, rng.standard_normal((2, 4) + kernel)], device)
