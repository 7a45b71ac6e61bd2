"""minigrad operations: each is a small `Function` and a lowercase wrapper.

`minigrad.tensor.Tensor`'s operator methods call the wrappers gathered here.
"""
from __future__ import annotations

from minigrad.ops import inplace
from minigrad.ops.elementwise import (abs, add, clamp, cos, div, elu, eq, exp, ge, gt, le, leaky_relu, log, lt,
                                      maximum, minimum, mul, ne, neg, pow, relu, sigmoid, sin, softplus, sqrt, sub,
                                      tanh, where)
from minigrad.ops.linalg import linear, matmul
from minigrad.ops.reduce import logsumexp, max, mean, min, sum, var
from minigrad.ops.shape import (broadcast_to, concatenate, expand, flatten, getitem, pad, permute, reshape,
                                squeeze, stack, sum_to, swapaxes, transpose, unsqueeze)
from minigrad.ops.convert import astype, copy_to_device

__all__ = [
    "abs", "add", "astype", "broadcast_to", "clamp", "concatenate", "copy_to_device", "cos", "div", "elu", "eq",
    "exp", "expand", "flatten", "ge", "getitem", "gt", "le", "leaky_relu", "linear", "log", "logsumexp",
    "lt", "matmul", "max", "maximum", "mean", "min", "minimum", "mul", "ne", "neg", "pad", "permute", "pow", "relu",
    "reshape", "sigmoid", "sin", "softplus", "sqrt", "squeeze", "stack", "sub", "sum", "sum_to", "swapaxes", "tanh",
    "transpose", "unsqueeze", "var", "where",
]
