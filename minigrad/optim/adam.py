"""Adam (Kingma & Ba, 2015), with PyTorch's formulas and defaults."""
from __future__ import annotations

from typing import Any

from minigrad.optim.optimizer import (Optimizer, ParamsT, check_non_negative, check_unit_interval,
                                      grad_with_decay, params_with_grad, lerp_)


class Adam(Optimizer):
    r"""Adam, as ``torch.optim.Adam`` (L2 weight decay added to the gradient).

    Per parameter p with gradient g, at step t (counting from 1)::

        g  = (-g if maximize else g) + weight_decay * p
        m  = beta1 * m + (1 - beta1) * g                  # exp_avg (a lerp towards g)
        v  = beta2 * v + (1 - beta2) * g * g              # exp_avg_sq
        v' = max(v', v) if amsgrad else v                 # max_exp_avg_sq
        p -= lr / (1 - beta1**t) * m / (sqrt(v') / sqrt(1 - beta2**t) + eps)

    eps is added outside the square root, after the bias correction. The last line
    is computed as PyTorch's capturable path writes it, ``p += m / d`` with
    ``d = sqrt(v') / (sqrt(bc2) * -step_size) + eps / -step_size``, which is the same
    number and needs one pass less over the parameter than dividing twice. With
    beta1 = 0 (WGAN-GP's setting) m is a plain copy of g; with lr = 0 the moments
    advance and p stays.
    State per parameter: ``step`` (int), ``exp_avg``, ``exp_avg_sq`` and, with amsgrad,
    ``max_exp_avg_sq`` (arrays shaped like the parameter).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *, maximize: bool = False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group: dict[str, Any]) -> None:
        check_non_negative("Adam", "lr", group["lr"])
        check_non_negative("Adam", "eps", group["eps"])
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}")
        check_unit_interval("Adam", "betas[0]", betas[0])
        check_unit_interval("Adam", "betas[1]", betas[1])
        check_non_negative("Adam", "weight_decay", group["weight_decay"])

    def _state_keys(self, group: dict[str, Any]) -> set[str]:
        keys = {"step", "exp_avg", "exp_avg_sq"}
        return keys | {"max_exp_avg_sq"} if group["amsgrad"] else keys

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = float(group["betas"][0]), float(group["betas"][1])
        amsgrad, maximize = group["amsgrad"], group["maximize"]
        for p, x, g, xp in params_with_grad("Adam", group):
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["exp_avg"] = xp.zeros_like(x)
                state["exp_avg_sq"] = xp.zeros_like(x)
                if amsgrad:
                    state["max_exp_avg_sq"] = xp.zeros_like(x)
            state["step"] = t = state["step"] + 1
            m, v = state["exp_avg"], state["exp_avg_sq"]
            g, owned = grad_with_decay(x, g, weight_decay, maximize, xp)
            tmp = xp.empty_like(x)
            lerp_(m, g, 1 - beta1, tmp, xp)
            sq = xp.multiply(g, g, out=g if owned else tmp)  # v = beta2 * v + (1 - beta2) * g * g
            sq *= 1 - beta2
            v *= beta2
            v += sq
            if amsgrad:
                v = xp.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            if lr == 0:  # the moments advance, the parameter stays (and -lr below would divide by 0)
                continue
            neg_step_size = -lr / (1 - beta1 ** t)
            denom = xp.sqrt(v, out=tmp)
            denom /= (1 - beta2 ** t) ** 0.5 * neg_step_size
            denom += eps / neg_step_size
            x += xp.divide(m, denom, out=denom)
