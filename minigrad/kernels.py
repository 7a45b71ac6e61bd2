"""Fused elementwise CUDA kernels: one launch where the unfused array code makes several.

Each `Kernel` is a ``cupy.ElementwiseKernel`` built on first use for the array module of its
arguments. They run on CUDA arrays only: on the CPU the unfused NumPy code stays (so seeded CPU
results do not change), and that unfused code is each kernel's twin, which the tests compare it
with on the CuPy stand-in (whose ElementwiseKernel evaluates the same C body with NumPy).

- `relu_with_mask`: y = max(z, 0) in place and the mask z > 0 (relu's derivative) in the same pass,
  instead of a max now and a comparison in the backward pass.
- `adam_update`: Adam's moment updates and parameter step over a whole flat buffer, given the
  step's device scalars (bias-corrected step size and scales, see `minigrad.optim.Adam`).
- `rmsprop_update`: RMSprop's plain update (no momentum, not centered) over a whole buffer.
"""
from __future__ import annotations

from typing import Any

from minigrad.backend import array_module


class Kernel:
    """A named ``ElementwiseKernel(in_params, out_params, operation)``, compiled per array module on first call."""

    def __init__(self, name: str, in_params: str, out_params: str, operation: str):
        self.name, self.in_params, self.out_params, self.operation = name, in_params, out_params, operation
        self._built: dict[int, Any] = {}

    def __call__(self, *args):
        xp = array_module(next(a for a in args if hasattr(a, "dtype") and hasattr(a, "shape")))
        kernel = self._built.get(id(xp))
        if kernel is None:
            kernel = self._built[id(xp)] = xp.ElementwiseKernel(self.in_params, self.out_params, self.operation,
                                                                self.name)
        return kernel(*args)


RELU_WITH_MASK = Kernel("minigrad_relu_mask", "T z", "T y, bool mask", "mask = z > 0; y = mask ? z : (T)0")

#: m <- lerp(m, g, 1 - beta1) (rounded as torch.lerp_: from g's side from weight 0.5 on);
#: v <- beta2 v + (1 - beta2) g²; x <- x + m / (sqrt(v) / sqrt_scale + eps_scaled)
ADAM = Kernel("minigrad_adam", "T g, T one_minus_beta1, T beta2, T sqrt_scale, T eps_scaled", "T x, T m, T v",
              "m = one_minus_beta1 >= 0.5 ? g - (g - m) * (1 - one_minus_beta1) : m + one_minus_beta1 * (g - m); "
              "v = v * beta2 + g * g * (1 - beta2); "
              "x = x + m / (sqrt(v) / sqrt_scale + eps_scaled)")

#: s <- alpha s + (1 - alpha) g²; x <- x - lr g / (sqrt(s) + eps)
RMSPROP = Kernel("minigrad_rmsprop", "T g, T alpha, T eps, T lr", "T x, T square_avg",
                 "square_avg = square_avg * alpha + g * g * (1 - alpha); x = x - g / (sqrt(square_avg) + eps) * lr")


def relu_with_mask(z):
    """Overwrite z with max(z, 0); return the boolean mask z > 0 (one launch)."""
    mask = array_module(z).empty_like(z, dtype=bool)  # in z's memory layout, as z > 0 would be
    RELU_WITH_MASK(z, z, mask)
    return mask


def adam_update(x, g, m, v, one_minus_beta1, beta2, sqrt_scale, eps_scaled) -> None:
    """Adam's update of x, m, v in place, in one launch (the scalars are 0-d arrays of x's dtype or numbers)."""
    ADAM(g, one_minus_beta1, beta2, sqrt_scale, eps_scaled, x, m, v)


def rmsprop_update(x, g, square_avg, alpha, eps, lr) -> None:
    """RMSprop's update of x and square_avg in place, in one launch."""
    RMSPROP(g, alpha, eps, lr, x, square_avg)
