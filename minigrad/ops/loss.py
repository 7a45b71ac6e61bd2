"""Losses and softmax: mse_loss, binary_cross_entropy_with_logits, cross_entropy, (log_)softmax.

Compositions of differentiable ops, so their gradients can be differentiated again.
`reduction` is "mean" (default), "sum" or "none", as in PyTorch.
"""
from __future__ import annotations

from minigrad.backend import array_module
from minigrad.ops.elementwise import exp, softplus
from minigrad.ops.reduce import logsumexp, mean, sum
from minigrad.tensor import Tensor
from typing import Any

_REDUCTIONS = ("mean", "sum", "none")


def _reduce(loss: Tensor, reduction: str, op: str) -> Tensor:
    if reduction == "mean":
        return mean(loss)
    if reduction == "sum":
        return sum(loss)
    if reduction == "none":
        return loss
    raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _same_shape(op: str, input: Tensor, target) -> None:
    if not isinstance(target, Tensor):
        raise TypeError(f"{op}: target must be a Tensor, got {type(target).__name__}")
    if target.shape != input.shape:
        raise ValueError(f"{op}: target shape {target.shape} differs from input shape {input.shape}")


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """(input - target)², reduced; both of the same shape."""
    _same_shape("mse_loss", input, target)
    diff = input - target
    return _reduce(diff * diff, reduction, "mse_loss")


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     reduction: str = "mean", pos_weight: Tensor | None = None) -> Tensor:
    """-[pos_weight t log σ(x) + (1 - t) log(1 - σ(x))] · weight, computed stably from logits x.

    With -log σ(x) = softplus(-x) and -log(1 - σ(x)) = softplus(x): without pos_weight the
    loss is softplus(x) - t x; with it, (1 - t) x + (1 + (pos_weight - 1) t) softplus(-x).
    """
    op = "binary_cross_entropy_with_logits"
    _same_shape(op, input, target)
    if pos_weight is None:
        loss = softplus(input) - target * input
    else:
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * softplus(-input)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, op)


def log_softmax(input: Tensor, dim: int) -> Tensor:
    """x - logsumexp(x) along `dim`."""
    return input - logsumexp(input, dim, keepdims=True)


def softmax(input: Tensor, dim: int) -> Tensor:
    """exp(x) / Σ exp(x) along `dim`, computed as exp(log_softmax)."""
    return exp(log_softmax(input, dim))


def cross_entropy(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """-log softmax(input)[target] with logits (N, C) or (N, C, d1, ...) along axis 1.

    `target` is either class indices (N,) or (N, d1, ...) (an integer Tensor, array or list), or class
    probabilities of the input's shape (a float Tensor). "mean" averages over the N d1 ... items.
    """
    op = "cross_entropy"
    if input.ndim < 2:
        raise ValueError(f"{op}: expected logits (N, C, ...) with at least 2 dimensions, got shape {input.shape}")
    logp = log_softmax(input, 1)
    xp = array_module(input.data)
    labels = xp.asarray(target.data if isinstance(target, Tensor) else target)
    if labels.dtype.kind == "f":
        _same_shape(op, input, target)
        return _reduce(-sum(logp * target, axis=1), reduction, op)
    expected = (input.shape[0],) + input.shape[2:]
    if labels.shape != expected:
        raise ValueError(f"{op}: class-index target of shape {labels.shape} does not match logits {input.shape} "
                         f"(expected {expected})")
    c = input.shape[1]
    if labels.size and (int(labels.min()) < 0 or int(labels.max()) >= c):
        raise ValueError(f"{op}: target class indices must lie in [0, {c}), got [{int(labels.min())}, "
                         f"{int(labels.max())}]")
    classes = xp.arange(c).reshape((1, c) + (1,) * (input.ndim - 2))
    onehot = Tensor._make((xp.expand_dims(labels, 1) == classes).astype(input.dtype), False)
    return _reduce(-sum(logp * onehot, axis=1), reduction, op)
