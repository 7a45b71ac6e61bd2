"""RMSprop (Hinton's lecture 6e; Graves 2013 for the centered variant), with PyTorch's formulas and defaults."""
from __future__ import annotations

from typing import Any


from minigrad import kernels
from minigrad.backend import is_numpy
from minigrad.optim.flat_runs import Scratch
from minigrad.optim.optimizer import (Optimizer, ParamsT, as_dtype_of, check_non_negative, grad_with_decay,
                                      lerp_)


class RMSprop(Optimizer):
    r"""RMSprop, as ``torch.optim.RMSprop``.

    Per parameter p with gradient g::

        g = (-g if maximize else g) + weight_decay * p
        s = alpha * s + (1 - alpha) * g * g                        # square_avg
        if centered:
            a = alpha * a + (1 - alpha) * g  (a lerp towards g)    # grad_avg
            d = sqrt(s - a * a) + eps
        else:
            d = sqrt(s) + eps                                      # eps outside the root
        if momentum > 0:
            b = momentum * b + g / d                               # momentum_buffer
            p -= lr * b
        else:
            p -= lr * g / d

    lr is read from the device (a float64 0-d array, cast to p's dtype). State per
    parameter: ``step`` (a float64 0-d array), ``square_avg`` and, as the options call
    for, ``momentum_buffer`` and ``grad_avg`` (arrays shaped like the parameter).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False, *,
                 maximize: bool = False):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                        centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group: dict[str, Any]) -> None:
        for name in ("lr", "eps", "momentum", "weight_decay", "alpha"):
            check_non_negative("RMSprop", name, group[name])

    def _state_keys(self, group: dict[str, Any]) -> set[str]:
        keys = {"step", "square_avg"}
        if group["momentum"] > 0:
            keys.add("momentum_buffer")
        if group["centered"]:
            keys.add("grad_avg")
        return keys

    def _update(self, xp, x, g, state: dict[str, Any], group: dict[str, Any], lr, first: bool,
                scratch: Scratch) -> None:
        alpha, eps = float(group["alpha"]), float(group["eps"])
        weight_decay, momentum = float(group["weight_decay"]), float(group["momentum"])
        step = state["step"]
        xp.add(step, 1, out=step)
        g = grad_with_decay(xp, x, g, weight_decay, group["maximize"], scratch[1])
        square_avg = state["square_avg"]
        if not is_numpy(xp) and not group["centered"] and momentum == 0:  # on a GPU: one fused kernel
            kernels.rmsprop_update(x, g, square_avg, x.dtype.type(alpha), x.dtype.type(eps), as_dtype_of(xp, lr, x))
            return
        tmp = xp.multiply(g, g, out=scratch[0])
        xp.multiply(tmp, 1 - alpha, out=tmp)
        xp.multiply(square_avg, alpha, out=square_avg)
        xp.add(square_avg, tmp, out=square_avg)
        if group["centered"]:
            grad_avg = lerp_(xp, state["grad_avg"], g, 1 - alpha, tmp)
            tmp = xp.multiply(grad_avg, grad_avg, out=tmp)
            avg = xp.sqrt(xp.subtract(square_avg, tmp, out=tmp), out=tmp)
        else:
            avg = xp.sqrt(square_avg, out=tmp)
        xp.add(avg, eps, out=avg)
        update = xp.divide(g, avg, out=avg)
        if momentum > 0:
            buf = state["momentum_buffer"]
            xp.multiply(buf, momentum, out=buf)
            xp.add(buf, update, out=buf)
            update = xp.multiply(buf, as_dtype_of(xp, lr, x), out=update)
        else:
            xp.multiply(update, as_dtype_of(xp, lr, x), out=update)
        xp.subtract(x, update, out=x)
