"""conv2d and conv_transpose2d: values against a direct loop, PyTorch's output shapes, and exact
first, second and third derivatives (gradcheck / gradgradcheck) over random geometries."""
import numpy as np
from hypothesis import given

import minigrad
import minigrad.functional as F
from tests.functional.helpers import (PROPERTY, conv_cases, reference_conv2d, reference_conv_transpose2d,
                                      tensor, values)


def _conv_inputs(case, device):
    seed = case["seed"]
    x, w = values(seed, case["x_shape"]), values(seed + 1, case["w_shape"])
    b = values(seed + 2, (case["out_channels"],)) if case["bias"] else None
    return [x, w] + ([b] if b is not None else [])


def _conv_fn(case):
    kw = {k: case[k] for k in ("stride", "padding", "dilation", "groups")}
    return lambda x, w, b=None: F.conv2d(x, w, b, **kw)


def _conv_transpose_fn(case):
    kw = {k: case[k] for k in ("stride", "padding", "output_padding", "groups", "dilation")}
    return lambda x, w, b=None: F.conv_transpose2d(x, w, b, **kw)


@PROPERTY
@given(case=conv_cases())
def test_conv2d_values_and_output_shape(case, device):
    arrays = _conv_inputs(case, device)
    y = _conv_fn(case)(*[tensor(a, device) for a in arrays])
    assert y.shape == case["out_shape"]
    b = arrays[2] if case["bias"] else None
    expected = reference_conv2d(arrays[0], arrays[1], b, case["stride"], case["padding"], case["dilation"],
                                case["groups"])
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-10, atol=1e-10)


@PROPERTY
@given(case=conv_cases(transpose=True))
def test_conv_transpose2d_values_and_output_shape(case, device):
    arrays = _conv_inputs(case, device)
    y = _conv_transpose_fn(case)(*[tensor(a, device) for a in arrays])
    assert y.shape[:2] == case["out_shape"][:2]
    b = arrays[2] if case["bias"] else None
    expected = reference_conv_transpose2d(arrays[0], arrays[1], b, case["stride"], case["padding"],
                                          case["output_padding"], case["groups"], case["dilation"])
    assert y.shape == expected.shape
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-10, atol=1e-10)


@PROPERTY
@given(case=conv_cases())
def test_conv2d_first_and_second_derivatives(case, device):
    inputs = [tensor(a, device) for a in _conv_inputs(case, device)]
    fn = _conv_fn(case)
    assert minigrad.gradcheck(fn, inputs)
    assert minigrad.gradgradcheck(fn, inputs)


@PROPERTY
@given(case=conv_cases(transpose=True))
def test_conv_transpose2d_first_and_second_derivatives(case, device):
    inputs = [tensor(a, device) for a in _conv_inputs(case, device)]
    fn = _conv_transpose_fn(case)
    assert minigrad.gradcheck(fn, inputs)
    assert minigrad.gradgradcheck(fn, inputs)


@PROPERTY
@given(case=conv_cases())
def test_weight_gradient_is_differentiable_twice(case, device):
    """Third derivatives: the weight gradient (a ConvGradW), differentiated twice more in x, W and gy."""
    x, w = (tensor(a, device) for a in _conv_inputs(case, device)[:2])
    conv = _conv_fn(case)
    gy = tensor(values(case["seed"] + 3, case["out_shape"]), device)

    def weight_grad(x, w, gy):
        (gw,) = minigrad.grad(conv(x, w) * conv(x, w), [w], grad_outputs=gy, create_graph=True)
        return gw

    assert minigrad.gradcheck(weight_grad, [x, w, gy])
    assert minigrad.gradgradcheck(weight_grad, [x, w, gy])


def test_mixed_layouts_chain_through_conv_and_transpose(device):
    """conv2d -> conv_transpose2d -> conv2d, fed an input that is not contiguous: values and derivatives."""
    rng = np.random.default_rng(3)
    x = tensor(rng.standard_normal((5, 2, 2, 3)).transpose(3, 1, 0, 2), device)  # (3, 2, 5, 2), a strided view
    w1, w2, w3 = (tensor(rng.standard_normal(s), device) for s in [(3, 2, 2, 2), (3, 2, 3, 3), (1, 2, 2, 2)])

    def net(x, w1, w2, w3):
        h = F.leaky_relu(F.conv2d(x, w1, padding=1), 0.2)
        h = F.tanh(F.conv_transpose2d(h, w2, stride=2, padding=1, output_padding=1))
        return F.conv2d(h, w3, stride=2)

    y = net(x, w1, w2, w3)
    xn, w1n, w2n, w3n = (t.numpy() for t in (x, w1, w2, w3))
    h = reference_conv2d(xn, w1n, None, 1, 1, 1, 1)
    h = np.tanh(reference_conv_transpose2d(np.where(h > 0, h, 0.2 * h), w2n, None, 2, 1, 1, 1, 1))
    np.testing.assert_allclose(y.numpy(), reference_conv2d(h, w3n, None, 2, 0, 1, 1), rtol=1e-10, atol=1e-12)
    assert minigrad.gradcheck(net, [x, w1, w2, w3])
    assert minigrad.gradgradcheck(net, [x, w1, w2, w3])


def test_float32_stays_float32(device):
    x = minigrad.randn(2, 3, 6, 6, device=device, requires_grad=True)
    w = minigrad.randn(4, 3, 3, 3, device=device, requires_grad=True)
    wt = minigrad.randn(4, 2, 3, 3, device=device, requires_grad=True)
    y = F.conv_transpose2d(F.conv2d(x, w, stride=2), wt, stride=2)
    gx, gw = minigrad.grad(y.sum(), [x, w])
    assert y.dtype == gx.dtype == gw.dtype == np.float32
