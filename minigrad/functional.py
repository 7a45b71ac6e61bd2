"""The functional API, with PyTorch's names and signatures: ``import minigrad.functional as F``.

Every function takes and returns Tensors and is differentiable to any order (the
max selection in relu-like ops and max_pool2d has a zero second derivative).
"""
from minigrad.ops.conv import conv2d, conv_transpose2d
from minigrad.ops.elementwise import elu, leaky_relu, relu, sigmoid, softplus, tanh
from minigrad.ops.linalg import linear
from minigrad.ops.loss import binary_cross_entropy_with_logits, cross_entropy, log_softmax, mse_loss, softmax
from minigrad.ops.norm import batch_norm, dropout, layer_norm
from minigrad.ops.penalty import convex_combination, norm_penalty, sample_norms
from minigrad.ops.pool import avg_pool2d, interpolate, max_pool2d, upsample

__all__ = [
    "avg_pool2d", "batch_norm", "binary_cross_entropy_with_logits", "conv2d", "conv_transpose2d", "convex_combination",
    "cross_entropy", "dropout", "elu", "interpolate", "layer_norm", "leaky_relu", "linear", "log_softmax",
    "max_pool2d", "mse_loss", "norm_penalty", "relu", "sample_norms", "sigmoid", "softmax", "softplus", "tanh",
    "upsample",
]
