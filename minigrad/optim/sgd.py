"""Stochastic gradient descent with optional (Nesterov) momentum, with PyTorch's formulas and defaults."""
from __future__ import annotations

from typing import Any

from minigrad.optim.optimizer import Optimizer, ParamsT, check_non_negative, grad_with_decay, params_with_grad


class SGD(Optimizer):
    r"""SGD, as ``torch.optim.SGD``.

    Per parameter p with gradient g::

        g = (-g if maximize else g) + weight_decay * p
        if momentum != 0:
            b = g                                    on the first step (momentum_buffer)
            b = momentum * b + (1 - dampening) * g   afterwards
            g = g + momentum * b if nesterov else b
        p -= lr * g

    Nesterov momentum needs ``momentum > 0`` and ``dampening == 0``. State per
    parameter: ``momentum_buffer`` (an array shaped like the parameter) when momentum != 0.
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

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, momentum, dampening = float(group["lr"]), float(group["momentum"]), float(group["dampening"])
        weight_decay, nesterov, maximize = float(group["weight_decay"]), group["nesterov"], group["maximize"]
        for p, x, g, xp in params_with_grad("SGD", group):
            g, owned = grad_with_decay(x, g, weight_decay, maximize, xp)
            if momentum != 0:
                state = self.state[p]
                buf = state.get("momentum_buffer")
                if buf is None:
                    state["momentum_buffer"] = buf = g if owned else g.copy()
                    owned = False  # g is the buffer now
                else:
                    buf *= momentum
                    if dampening == 0:
                        buf += g
                    else:
                        buf += xp.multiply(g, 1 - dampening, out=g if owned else None)
                if nesterov:
                    g = xp.add(g, xp.multiply(buf, momentum), out=g if owned else None)
                    owned = True
                else:
                    g, owned = buf, False
            x -= xp.multiply(g, lr, out=g if owned else None)
