"""Normalization and dropout: batch_norm, layer_norm, dropout, as torch.nn.functional.

They are compositions of differentiable ops (their gradients are differentiable again);
dropout's mask is drawn from the device generator (`minigrad.manual_seed`).
"""
from __future__ import annotations

from minigrad import backend
from minigrad.ops.elementwise import ScaleBy, sqrt
from minigrad.ops.reduce import mean
from minigrad.ops.shape import reshape
from minigrad.tensor import Tensor
from collections.abc import Sequence


def _affine(y: Tensor, weight: Tensor | None, bias: Tensor | None, shape: tuple) -> Tensor:
    if weight is not None:
        y = y * reshape(weight, shape)
    if bias is not None:
        y = y + reshape(bias, shape)
    return y


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalization over every axis but the channels (axis 1) of an (N, C, ...) input.

    Training: y = (x - mean_B) / sqrt(var_B + eps) · weight + bias with the batch statistics
    (biased variance), and the running statistics are updated in place on their arrays:
    running_mean ← (1 - momentum) running_mean + momentum mean_B, running_var likewise with
    the unbiased batch variance var_B · n / (n - 1). Eval: the running statistics are used.
    """
    op = "batch_norm"
    if input.ndim < 2:
        raise ValueError(f"{op}: expected an input (N, C, ...) with at least 2 dimensions, got shape {input.shape}")
    c = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        if t is not None and t.shape != (c,):
            raise ValueError(f"{op}: {name} of shape {t.shape} does not match the {c} channels of input {input.shape}")
    shape = (1, c) + (1,) * (input.ndim - 2)
    axes = (0,) + tuple(range(2, input.ndim))
    if training:
        count = input.size // c
        if count <= 1:
            raise ValueError(f"{op}: expected more than 1 value per channel when training, got input {input.shape}")
        batch_mean = mean(input, axes, keepdims=True)
        centered = input - batch_mean
        batch_var = mean(centered * centered, axes, keepdims=True)
        xp = backend.array_module(input.data)  # in place by array calls, which a captured step records
        if running_mean is not None:
            xp.multiply(running_mean.data, 1 - momentum, out=running_mean.data)
            xp.add(running_mean.data, momentum * batch_mean.data.reshape(c), out=running_mean.data)
        if running_var is not None:
            xp.multiply(running_var.data, 1 - momentum, out=running_var.data)
            xp.add(running_var.data, (momentum * count / (count - 1)) * batch_var.data.reshape(c),
                   out=running_var.data)
        normalized = centered / sqrt(batch_var + eps)
    else:
        if running_mean is None or running_var is None:
            raise ValueError(f"{op}: running_mean and running_var are required when training=False")
        centered = input - reshape(running_mean.detach(), shape)
        normalized = centered / sqrt(reshape(running_var.detach(), shape) + eps)
    return _affine(normalized, weight, bias, shape)


def layer_norm(input: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalize over the trailing `normalized_shape` axes: (x - mean) / sqrt(var + eps) · weight + bias.

    The variance is biased; weight and bias have shape `normalized_shape`.
    """
    op = "layer_norm"
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(normalized_shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k:]) != normalized_shape:
        raise ValueError(f"{op}: input of shape {input.shape} does not end with normalized_shape {normalized_shape}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.shape != normalized_shape:
            raise ValueError(f"{op}: {name} of shape {t.shape} does not match normalized_shape {normalized_shape}")
    axes = tuple(range(input.ndim - k, input.ndim))
    centered = input - mean(input, axes, keepdims=True)
    normalized = centered / sqrt(mean(centered * centered, axes, keepdims=True) + eps)
    return _affine(normalized, weight, bias, normalized_shape)


def dropout(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability p and scale the kept ones by 1 / (1 - p).

    The identity (the input itself) when not training or p == 0. The gradient is the same mask.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return ScaleBy(backend.array_module(input.data).zeros((), input.dtype))(input)
    gen = backend.generator(input.device)
    draws = gen.random(input.shape, dtype=input.dtype if input.dtype.itemsize >= 4 else "float32")
    mask = (draws >= p).astype(input.dtype) * input.dtype.type(1.0 / (1.0 - p))
    return ScaleBy(mask)(input)

