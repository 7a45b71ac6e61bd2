"""Stochastic gradient descent with optional (Nesterov) momentum, with PyTorch's formulas and defaults."""
from __future__ import annotations

from typing import Any

from minigrad.optim.flat_runs import Scratch
from minigrad.optim.optimizer import Optimizer, ParamsT, as_dtype_of, check_non_negative, grad_with_decay


class SGD(Optimizer):
    r"""SGD, as ``torch.optim.SGD``.

    Per parameter p with gradient g::

        g = (-g if maximize else g) + weight_decay * p
        if momentum != 0:
            b = g                                    on the first step (momentum_buffer)
            b = momentum * b + (1 - dampening) * g   afterwards
            g = g + momentum * b if nesterov else b
        p -= lr * g

    lr is read from the device (a float64 0-d array, cast to p's dtype). Nesterov
    momentum needs ``momentum > 0`` and ``dampening == 0``. State per parameter:
    ``momentum_buffer`` (an array shaped like the parameter) when momentum != 0.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group: dict[str, Any]) -> None:
        check_non_negative("SGD", "lr", group["lr"])
        check_non_negative("SGD", "momentum", group["momentum"])
        check_non_negative("SGD", "weight_decay", group["weight_decay"])
        if group["nesterov"] and (not group["momentum"] > 0 or group["dampening"] != 0):
            raise ValueError(
                f"SGD: nesterov=True requires momentum > 0 and dampening = 0, got "
                f"momentum={group['momentum']!r}, dampening={group['dampening']!r}"
            )

    def _state_keys(self, group: dict[str, Any]) -> set[str]:
        return {"momentum_buffer"} if group["momentum"] != 0 else set()

    def _update(self, xp, x, g, state: dict[str, Any], group: dict[str, Any], lr, first: bool,
                scratch: Scratch) -> None:
        momentum, dampening = float(group["momentum"]), float(group["dampening"])
        g = grad_with_decay(xp, x, g, float(group["weight_decay"]), group["maximize"], scratch[0])
        if momentum != 0:
            buf = state["momentum_buffer"]
            if first:
                xp.copyto(buf, g)
            else:
                xp.multiply(buf, momentum, out=buf)
                if dampening == 0:
                    xp.add(buf, g, out=buf)
                else:
                    xp.add(buf, xp.multiply(g, 1 - dampening, out=scratch[1]), out=buf)
            if group["nesterov"]:
                g = xp.add(g, xp.multiply(buf, momentum, out=scratch[1]), out=scratch[1])
            else:
                g = buf
        xp.subtract(x, xp.multiply(g, as_dtype_of(xp, lr, x), out=scratch[1]), out=x)
