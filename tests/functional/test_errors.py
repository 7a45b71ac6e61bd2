"""Invalid arguments raise errors that name the op and the offending shapes or values."""
import numpy as np
import pytest

import minigrad
import minigrad.functional as F


def t(*shape, dtype=np.float32):
    return minigrad.zeros(*shape, dtype=dtype)


CONV_CASES = [
    (lambda: F.conv2d(t(1, 3, 5, 5), t(4, 2, 3, 3)), ValueError, r"conv2d: .*3 channels.*\(4, 2, 3, 3\)"),
    (lambda: F.conv2d(t(1, 3, 2, 5), t(4, 3, 3, 3)), ValueError, r"conv2d: kernel .* larger than the padded input"),
    (lambda: F.conv2d(t(1, 3, 5, 5), t(4, 3, 3, 3), dilation=3), ValueError, r"conv2d: kernel .*dilated 7"),
    (lambda: F.conv2d(t(1, 3, 5, 5), t(4, 3, 3, 3), padding=-1), ValueError, r"conv2d: padding must be non-negative"),
    (lambda: F.conv2d(t(1, 3, 5, 5), t(4, 3, 3, 3), stride=0), ValueError, r"conv2d: stride must be positive"),
    (lambda: F.conv2d(t(1, 3, 5, 5), t(4, 3, 3, 3), stride=2, padding="same"), ValueError,
     r"conv2d: padding='same' needs stride 1"),
    (lambda: F.conv2d(t(1, 3, 5, 5), t(4, 3, 3, 3), padding="full"), ValueError, r"conv2d: padding must be an int"),
    (lambda: F.conv2d(t(1, 3, 5, 5), t(4, 3, 3, 3), stride=(1, -2)), ValueError, r"conv2d: stride"),
    (lambda: F.conv2d(t(1, 3, 5, 5), t(4, 3, 3, 3), dilation=0), ValueError, r"conv2d: dilation must be positive"),
    (lambda: F.conv2d(t(3, 5), t(4, 3, 3, 3)), ValueError, r"conv2d: expected a 4-D input.*\(3, 5\)"),
    (lambda: F.conv2d(t(1, 1, 3, 5, 5), t(4, 3, 3, 3)), ValueError, r"conv2d: expected a 4-D input.*\(1, 1, 3, 5, 5\)"),
    (lambda: F.conv2d(t(1, 3, 5, 5), t(4, 3, 3)), ValueError, r"conv2d: expected a 4-D weight.*\(4, 3, 3\)"),
    (lambda: F.conv2d(t(1, 3, 5, 5), t(4, 3, 3, 3), t(3)), ValueError, r"conv2d: bias of shape \(3,\).*4 output"),
    (lambda: F.conv2d(t(1, 3, 5, 5), t(4, 3, 3, 3), stride=(1, 2, 3)), TypeError, r"conv2d: stride must be an int"),
    (lambda: F.conv2d(t(1, 4, 5, 5), t(3, 2, 3, 3), groups=2), ValueError, r"conv2d: .*groups=2"),
    (lambda: F.conv2d(t(1, 3, 5, 5), t(4, 3, 3, 3, dtype=np.float64)), TypeError, r"conv2d: .*float32, float64"),
    (lambda: F.conv2d(np.zeros((1, 3, 5, 5)), t(4, 3, 3, 3)), TypeError, r"conv2d: input must be a Tensor"),
    (lambda: F.conv_transpose2d(t(1, 3, 5, 5), t(4, 2, 3, 3)), ValueError,
     r"conv_transpose2d: .*3 channels.*\(4, 2, 3, 3\) \(in, out/groups, kh, kw\)"),
    (lambda: F.conv_transpose2d(t(1, 3, 5, 5), t(3, 2, 3, 3), stride=2, output_padding=2), ValueError,
     r"conv_transpose2d: output_padding \(2, 2\) must be .* smaller than stride \(2, 2\) or dilation \(1, 1\)"),
    (lambda: F.conv_transpose2d(t(1, 3, 5, 5), t(3, 2, 3, 3), output_padding=-1), ValueError,
     r"conv_transpose2d: output_padding"),
    (lambda: F.conv_transpose2d(t(1, 3, 1, 1), t(3, 2, 1, 1), padding=1), ValueError,
     r"conv_transpose2d: .*non-positive output size"),
    (lambda: F.conv_transpose2d(t(1, 3, 5, 5), t(3, 2, 3, 3), t(3)), ValueError,
     r"conv_transpose2d: bias of shape \(3,\).*2 output"),
    (lambda: F.conv_transpose2d(t(1, 3, 5, 5), t(3, 2, 3, 3), stride=0), ValueError, r"conv_transpose2d: stride"),
    (lambda: F.conv_transpose2d(t(3, 5), t(3, 2, 3, 3)), ValueError, r"conv_transpose2d: expected a 4-D input"),
]

OTHER_CASES = [
    (lambda: F.avg_pool2d(t(1, 1, 5, 5), 3, padding=2), ValueError, r"avg_pool2d: padding .* at most half"),
    (lambda: F.avg_pool2d(t(1, 1, 2, 2), 3), ValueError, r"avg_pool2d: kernel .* larger than the padded input"),
    (lambda: F.max_pool2d(t(5, 5), 2), ValueError, r"max_pool2d: expected a 4-D input .*\(5, 5\)"),
    (lambda: F.max_pool2d(t(1, 1, 4, 4, dtype=np.int64), 2), TypeError, r"max_pool2d: expected a floating-point"),
    (lambda: F.max_pool2d(t(1, 1, 5, 5), 0), ValueError, r"max_pool2d: kernel_size \(0, 0\)"),
    (lambda: F.max_pool2d(t(1, 1, 5, 5), 2, stride=0), ValueError, r"max_pool2d: .*stride \(0, 0\)"),
    (lambda: F.interpolate(t(1, 1, 2, 2)), ValueError, r"interpolate: give exactly one of size and scale_factor"),
    (lambda: F.interpolate(t(1, 1, 2, 2), scale_factor=2, mode="bilinear"), ValueError, r"interpolate: only mode"),
    (lambda: F.interpolate(t(1, 1, 2, 2), scale_factor=-1), ValueError, r"interpolate: scale_factor must be positive"),
    (lambda: F.batch_norm(t(2, 3), t(4), t(4)), ValueError, r"batch_norm: running_mean of shape \(4,\).*3 channels"),
    (lambda: F.batch_norm(t(1, 3), None, None, training=True), ValueError, r"batch_norm: expected more than 1 value"),
    (lambda: F.batch_norm(t(2, 3), None, None), ValueError, r"batch_norm: running_mean and running_var are required"),
    (lambda: F.layer_norm(t(2, 3), (4,)), ValueError, r"layer_norm: input of shape \(2, 3\) .* \(4,\)"),
    (lambda: F.layer_norm(t(2, 3), 3, t(4)), ValueError, r"layer_norm: weight of shape \(4,\)"),
    (lambda: F.dropout(t(2, 3), 1.5), ValueError, r"dropout: probability p must be in \[0, 1\], got 1.5"),
    (lambda: F.mse_loss(t(2, 3), t(3)), ValueError, r"mse_loss: target shape \(3,\) differs from input shape \(2, 3\)"),
    (lambda: F.mse_loss(t(2), t(2), reduction="avg"), ValueError, r"mse_loss: reduction must be one of"),
    (lambda: F.binary_cross_entropy_with_logits(t(2, 1), t(2)), ValueError,
     r"binary_cross_entropy_with_logits: target"),
    (lambda: F.cross_entropy(t(3, 4), minigrad.tensor([0, 1])), ValueError, r"cross_entropy: class-index target"),
    (lambda: F.cross_entropy(t(2, 4), minigrad.tensor([0, 4])), ValueError, r"cross_entropy: target class indices"),
    (lambda: F.cross_entropy(t(4), minigrad.tensor([0])), ValueError, r"cross_entropy: expected logits"),
]


@pytest.mark.parametrize("call, error, message", CONV_CASES + OTHER_CASES)
def test_invalid_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()
