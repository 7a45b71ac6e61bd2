"""minigrad operations. Importing this package installs the operators on `Tensor`."""
from __future__ import annotations

import numpy as np

from minigrad.autograd import Function
from minigrad.ops.elementwise import (abs, add, clamp, cos, div, elu, exp, leaky_relu, log, maximum, minimum,
                                      mul, neg, pow, relu, sigmoid, sin, softplus, sqrt, sub, tanh, where)
from minigrad.ops.linalg import linear, matmul
from minigrad.ops.reduce import logsumexp, max, mean, min, sum, var
from minigrad.ops.shape import (broadcast_to, concatenate, expand, flatten, getitem, pad, permute, reshape,
                                squeeze, stack, sum_to, swapaxes, transpose, unsqueeze)
from minigrad.ops.common import pair
from minigrad.tensor import Tensor
from minigrad import backend


class ToDevice(Function):
    """Copy to another device; the gradient is copied back."""

    def __init__(self, device: str):
        self.device = device

    def forward(self, x):
        return backend.to_device(x, self.device)

    def backward(self, gy):
        return to_device(gy, self.inputs[0].device)


class AsType(Function):
    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, x):
        return x.astype(self.dtype)

    def backward(self, gy):
        return astype(gy, self.inputs[0].dtype)


def to_device(x: Tensor, device: str) -> Tensor:
    return ToDevice(device)(x)


def astype(x: Tensor, dtype) -> Tensor:
    dtype = np.dtype(dtype)
    if x.requires_grad and dtype.kind != "f":
        return Tensor._make(x.data.astype(dtype), False)
    return AsType(dtype)(x)


def _compare(op):
    def method(self, other):
        a, b = pair(self, other)
        return Tensor._make(op(a.data, b.data), False)

    return method


def _reflected(fn):
    return lambda self, other: fn(other, self)


def _install_methods() -> None:
    import operator

    methods = {
        "__add__": add, "__radd__": _reflected(add), "__sub__": sub, "__rsub__": _reflected(sub),
        "__mul__": mul, "__rmul__": _reflected(mul), "__truediv__": div, "__rtruediv__": _reflected(div),
        "__pow__": pow, "__rpow__": _reflected(pow), "__matmul__": matmul, "__rmatmul__": _reflected(matmul),
        "__neg__": neg, "__pos__": lambda self: self, "__abs__": abs, "__getitem__": getitem,
        "__lt__": _compare(operator.lt), "__le__": _compare(operator.le), "__gt__": _compare(operator.gt),
        "__ge__": _compare(operator.ge), "__eq__": _compare(operator.eq), "__ne__": _compare(operator.ne),
        "exp": exp, "log": log, "sqrt": sqrt, "sin": sin, "cos": cos, "tanh": tanh, "sigmoid": sigmoid,
        "relu": relu, "abs": abs, "clamp": clamp, "clip": clamp, "softplus": softplus,
        "sum": sum, "mean": mean, "var": var, "max": max, "min": min, "logsumexp": logsumexp,
        "reshape": reshape, "view": reshape, "transpose": transpose, "permute": permute,
        "broadcast_to": broadcast_to, "expand": expand, "squeeze": squeeze, "unsqueeze": unsqueeze,
        "flatten": flatten, "matmul": matmul, "astype": astype, "pow": pow,
    }
    for name, fn in methods.items():
        setattr(Tensor, name, fn)


_install_methods()

__all__ = [
    "abs", "add", "astype", "broadcast_to", "clamp", "concatenate", "cos", "div", "elu", "exp", "expand",
    "flatten", "getitem", "leaky_relu", "linear", "log", "logsumexp", "matmul", "max", "maximum", "mean", "min",
    "minimum", "mul", "neg", "pad", "permute", "pow", "relu", "reshape", "sigmoid", "sin", "softplus", "sqrt",
    "squeeze", "stack", "sub", "sum", "sum_to", "swapaxes", "tanh", "to_device", "transpose", "unsqueeze",
    "var", "where",
]
