"""Fused layer + activation (minigrad.ops.fused) against the unfused ops it replaces, finite
differences to second order, PyTorch, and `nn.Sequential`'s choice of when to fuse."""
import numpy as np
import pytest

import minigrad
import minigrad.functional as F
from minigrad import nn
from minigrad.ops import fused

ACTIVATIONS = {"relu": fused.Activation(), "leaky0.2": fused.Activation(0.2), "leaky0": fused.Activation(0.0),
               "leaky1": fused.Activation(1.0)}

# name: (fused(x, w, b, act), unfused(x, w, b) before the activation, x shape, w shape, b size)
LAYERS = {
    "linear": (lambda x, w, b, a: fused.linear_activation(x, w, b, a), lambda x, w, b: minigrad.linear(x, w, b),
               (6, 5), (4, 5), 4),
    "conv2d": (lambda x, w, b, a: fused.conv2d_activation(x, w, b, 2, 1, 1, 1, a),
               lambda x, w, b: F.conv2d(x, w, b, 2, 1), (2, 3, 6, 6), (4, 3, 4, 4), 4),
    "conv_transpose2d": (lambda x, w, b, a: fused.conv_transpose2d_activation(x, w, b, 2, 1, 0, 1, 1, a),
                         lambda x, w, b: F.conv_transpose2d(x, w, b, 2, 1), (2, 4, 3, 3), (4, 3, 4, 4), 3),
}


def _inputs(layer, dtype=np.float32, seed=0, with_zeros=False, device="cpu"):
    _, _, xs, ws, nb = LAYERS[layer]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(xs).astype(dtype)
    if with_zeros:  # exact zeros of the pre-activation: the kink, where relu' and leaky_relu' are 0 / slope
        x[0] = 0
    w = rng.standard_normal(ws).astype(dtype) * 0.5
    b = rng.standard_normal(nb).astype(dtype) * 0.5 * (not with_zeros)
    return [minigrad.tensor(a, device=device, requires_grad=True) for a in (x, w, b)]


def _penalty_grads(y, inputs):
    """First derivatives of sum(y²) and the second ones of a gradient-norm penalty on x, as arrays."""
    first = minigrad.grad((y * y).sum(), inputs, create_graph=True)
    penalty = ((first[0] * first[0]).sum() - 1.0) ** 2
    second = minigrad.grad(penalty, inputs, allow_unused=True)
    return [g.numpy() for g in first] + [None if g is None else g.numpy() for g in second]


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("with_zeros", [False, True])
def test_fused_equals_unfused_bit_for_bit(layer, act, with_zeros, device):
    fused_fn, layer_fn = LAYERS[layer][:2]
    activation = ACTIVATIONS[act]
    ours = _inputs(layer, with_zeros=with_zeros, device=device)
    ref = _inputs(layer, with_zeros=with_zeros, device=device)
    y_fused = fused_fn(*ours, activation)
    y_ref = activation.unfused(layer_fn(*ref))
    assert type(y_fused.creator).__name__.endswith("Activation")
    np.testing.assert_array_equal(y_fused.numpy(), y_ref.numpy())
    for a, b in zip(_penalty_grads(y_fused, ours), _penalty_grads(y_ref, ref)):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("act", ["relu", "leaky0.2"])
def test_fused_gradcheck_and_gradgradcheck(layer, act):
    fused_fn = LAYERS[layer][0]
    activation = ACTIVATIONS[act]
    inputs = _inputs(layer, np.float64, seed=3)
    def fn(x, w, b):
        return fused_fn(x, w, b, activation)

    assert minigrad.gradcheck(fn, inputs)
    assert minigrad.gradgradcheck(fn, inputs)


def test_fused_without_bias_and_bad_operands():
    x, w, _ = _inputs("linear")
    y = fused.linear_activation(x, w, None, fused.Activation())
    np.testing.assert_array_equal(y.numpy(), np.maximum(x.numpy() @ w.numpy().T, 0))
    with pytest.raises(ValueError, match=r"linear: input of shape \(6, 5\) does not match weight of shape \(5, 4\)"):
        fused.linear_activation(x, minigrad.tensor(np.zeros((5, 4), np.float32)), None, fused.Activation())
    xc, wc, bc = _inputs("conv2d")
    with pytest.raises(ValueError, match="conv2d: input of shape"):
        fused.conv2d_activation(xc, minigrad.tensor(np.zeros((4, 2, 4, 4), np.float32)), bc, 2, 1, 1, 1,
                                fused.Activation())


def test_relu_keeps_no_extra_array_and_leaky_relu_only_a_mask():
    x, w, b = _inputs("linear")
    y = fused.linear_activation(x, w, b, fused.Activation())
    assert y.creator.saved is None
    y = fused.linear_activation(x, w, b, fused.Activation(0.2))
    assert y.creator.saved.dtype == np.bool_ and y.creator.saved.shape == y.shape


# ----------------------------------------------------------------------------- Sequential
def _creators(y):
    """Names of every Function in y's graph."""
    seen, stack, names = set(), [y.creator], []
    while stack:
        fn = stack.pop()
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        names.append(type(fn).__name__)
        stack.extend(t.creator for t in fn.inputs)
    return names


def _critic():
    return nn.Sequential(nn.Conv2d(1, 4, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(4, 8, 4, 2, 1), nn.LeakyReLU(0.2),
                         nn.Flatten(), nn.Linear(8 * 2 * 2, 6), nn.ReLU(), nn.Linear(6, 1))


def _generator():
    return nn.Sequential(nn.Linear(3, 8 * 2 * 2), nn.ReLU(), nn.Unflatten(1, (8, 2, 2)),
                         nn.ConvTranspose2d(8, 4, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(4, 1, 4, 2, 1), nn.Tanh())


def _unfused_call(seq, x):
    for module in seq:
        x = module(x)
    return x


@pytest.mark.parametrize("make, shape", [(_critic, (5, 1, 8, 8)), (_generator, (5, 3))])
def test_sequential_fuses_and_matches_calling_each_module(make, shape):
    net = make()
    x = minigrad.tensor(np.random.default_rng(1).standard_normal(shape).astype(np.float32), requires_grad=True)
    y = net(x)
    names = _creators(y)
    assert not {"Relu", "LeakyRelu"} & set(names), names
    assert {"LinearActivation", "Conv2dActivation", "ConvTranspose2dActivation"} & set(names)
    y_ref = _unfused_call(net, x)
    assert {"Relu", "LeakyRelu"} & set(_creators(y_ref))
    np.testing.assert_array_equal(y.numpy(), y_ref.numpy())
    params = list(net.parameters())
    for a, b in zip(_penalty_grads(y, [x] + params), _penalty_grads(y_ref, [x] + params)):
        if a is not None:
            np.testing.assert_array_equal(a, b)


def test_sequential_does_not_fuse_hooked_subclassed_or_other_modules():
    class MyReLU(nn.ReLU):
        pass

    x = minigrad.tensor(np.ones((2, 3), np.float32))
    hooked = nn.Sequential(nn.Linear(3, 3), nn.ReLU())
    calls = []
    hooked[1].register_forward_pre_hook(lambda module, args: calls.append(module))
    assert "Relu" in _creators(hooked(x)) and len(calls) == 1
    assert "Relu" in _creators(nn.Sequential(nn.Linear(3, 3), MyReLU())(x))
    assert "TanhFunction" in _creators(nn.Sequential(nn.Linear(3, 3), nn.Tanh())(x))
    assert "LeakyRelu" in _creators(nn.Sequential(nn.Linear(3, 3), nn.LeakyReLU(1.5))(x))
    spectral = nn.utils.spectral_norm(nn.Linear(3, 3))
    assert "Relu" in _creators(nn.Sequential(spectral, nn.ReLU())(x))


# ----------------------------------------------------------------------------- PyTorch
def test_fused_critic_penalty_matches_torch():
    torch = pytest.importorskip("torch")
    net = _critic()
    for p in net.parameters():
        p.data[...] = np.random.default_rng(p.size).standard_normal(p.shape) * 0.3
    tnet = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 4, 2, 1), torch.nn.LeakyReLU(0.2), torch.nn.Conv2d(4, 8, 4, 2, 1),
                               torch.nn.LeakyReLU(0.2), torch.nn.Flatten(), torch.nn.Linear(32, 6), torch.nn.ReLU(),
                               torch.nn.Linear(6, 1)).double()
    ours = dict(net.named_parameters())
    with torch.no_grad():
        for name, p in tnet.named_parameters():
            p.copy_(torch.from_numpy(ours[name].numpy().astype(np.float64)))
    x0 = np.random.default_rng(2).standard_normal((5, 1, 8, 8))
    x = minigrad.tensor(x0.astype(np.float32), requires_grad=True)
    g, = minigrad.grad(net(x).sum(), x, create_graph=True)
    penalty = ((((g * g).sum(axis=(1, 2, 3)) + 1e-12).sqrt() - 1) ** 2).mean()
    grads = minigrad.grad(penalty, list(net.parameters()), allow_unused=True)  # no path to the biases: None
    xt = torch.tensor(x0, requires_grad=True)
    gt, = torch.autograd.grad(tnet(xt).sum(), xt, create_graph=True)
    pt = ((((gt * gt).sum(dim=(1, 2, 3)) + 1e-12).sqrt() - 1) ** 2).mean()
    grads_t = torch.autograd.grad(pt, list(tnet.parameters()), allow_unused=True, materialize_grads=True)
    np.testing.assert_allclose(penalty.item(), pt.item(), rtol=1e-5)
    for a, b in zip(grads, grads_t):
        np.testing.assert_allclose(np.zeros(b.shape) if a is None else a.numpy(), b.numpy(), rtol=1e-4, atol=1e-5)
