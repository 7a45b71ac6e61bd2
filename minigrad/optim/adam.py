"""Adam (Kingma & Ba, 2015), with PyTorch's formulas and defaults."""
from __future__ import annotations

import math
from typing import Any


from minigrad import kernels
from minigrad.backend import is_numpy
from minigrad.optim.flat_runs import Scratch
from minigrad.optim.optimizer import (Optimizer, ParamsT, as_dtype_of, check_non_negative,
                                      check_unit_interval, grad_with_decay, lerp_)


class Adam(Optimizer):
    r"""Adam, as ``torch.optim.Adam`` (L2 weight decay added to the gradient).

    Per parameter p with gradient g, at step t (counting from 1)::

        g  = (-g if maximize else g) + weight_decay * p
        m  = beta1 * m + (1 - beta1) * g                  # exp_avg (a lerp towards g)
        v  = beta2 * v + (1 - beta2) * g * g              # exp_avg_sq
        v' = max(v', v) if amsgrad else v                 # max_exp_avg_sq
        p -= lr / (1 - beta1**t) * m / (sqrt(v') / sqrt(1 - beta2**t) + eps)

    eps is added outside the square root, after the bias correction. The last line is
    computed as PyTorch's capturable path writes it, ``p += m / d`` with
    ``d = sqrt(v') / (sqrt(bc2) * -step_size) + eps / -step_size``, which is the same
    number and needs one pass less over the parameter than dividing twice. t, the bias
    corrections ``bc1 = 1 - beta1**t`` and ``bc2``, ``step_size = lr / bc1`` and the two
    scalars of d are float64 0-d arrays on the device (PyTorch computes them in double),
    cast to the parameter's dtype where they meet it. With lr = 0 the first scalar is
    computed with a step size of -1 instead of -0 (finite), the second is -inf, so d is
    -inf, m / d is 0 and p stays while the moments advance (no NaN where v is 0).
    With beta1 = 0 (WGAN-GP's setting) m is a plain copy of g.
    State per parameter: ``step``, ``exp_avg``, ``exp_avg_sq`` and, with amsgrad,
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

    def _update(self, xp, x, g, state: dict[str, Any], group: dict[str, Any], lr, first: bool,
                scratch: Scratch) -> None:
        eps, weight_decay = float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = float(group["betas"][0]), float(group["betas"][1])
        step = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        g = grad_with_decay(xp, x, g, weight_decay, group["maximize"], scratch[1])
        if not is_numpy(xp):  # on a GPU: the step's scalars in one kernel, the update in another (minigrad.kernels)
            sqrt_scale, eps_scaled = kernels.adam_scalars(step, lr, beta1, beta2, eps, x.dtype)
            if not group["amsgrad"]:
                kernels.adam_update(x, g, m, v, x.dtype.type(1 - beta1), x.dtype.type(beta2), sqrt_scale, eps_scaled)
                return
        else:
            sqrt_scale, eps_scaled = self._scalars(xp, step, lr, beta1, beta2, eps)
        tmp = scratch[0]
        lerp_(xp, m, g, 1 - beta1, tmp)
        sq = xp.multiply(g, g, out=tmp)  # v = beta2 * v + (1 - beta2) * g * g
        xp.multiply(sq, 1 - beta2, out=sq)
        xp.multiply(v, beta2, out=v)
        xp.add(v, sq, out=v)
        if group["amsgrad"]:
            v = xp.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
        denom = xp.sqrt(v, out=tmp)
        xp.divide(denom, as_dtype_of(xp, sqrt_scale, x), out=denom)
        xp.add(denom, as_dtype_of(xp, eps_scaled, x), out=denom)
        xp.add(x, xp.divide(m, denom, out=denom), out=x)

    @staticmethod
    def _scalars(xp, step, lr, beta1: float, beta2: float, eps: float):
        """t += 1 and the step's float64 0-d scalars (sqrt_scale, eps_scaled), as array calls (what
        `minigrad.kernels.adam_scalars` computes in one launch on a GPU)."""
        xp.add(step, 1, out=step)
        neg_step_size = xp.negative(xp.divide(lr, xp.subtract(1, xp.power(beta1, step))))
        lr_is_zero = xp.equal(neg_step_size, 0)
        nonzero_step_size = xp.subtract(neg_step_size, lr_is_zero)  # -1 instead of -0 (see above)
        sqrt_scale = xp.multiply(xp.power(xp.subtract(1, xp.power(beta2, step)), 0.5), nonzero_step_size)
        eps_scaled = xp.where(lr_is_zero, -math.inf, xp.divide(eps, nonzero_step_size))
        return sqrt_scale, eps_scaled
