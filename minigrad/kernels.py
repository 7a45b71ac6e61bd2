"""Fused elementwise CUDA kernels: one launch where the unfused array code makes several.

Each `Kernel` is a ``cupy.ElementwiseKernel`` built on first use for the array module of its
arguments. They run on CUDA arrays only: on the CPU the unfused NumPy code stays (so seeded CPU
results do not change), and that unfused code is each kernel's twin, which the tests compare it
with on the CuPy stand-in (whose ElementwiseKernel evaluates the same C body with NumPy).

- `relu_with_mask`: y = max(z + b, 0) in place and the mask z + b > 0 (relu's derivative) in the
  same pass, instead of a bias add, a max now and a comparison in the backward pass; b is a linear
  layer's bias (a linear layer followed by relu is its GEMM and this one kernel) or 0.
- `sample_norms`: sqrt(Σ g² + eps) over every non-batch axis of a gradient (B, ...), one
  ``ReductionKernel`` (the gradient penalty's norm; `minigrad.ops.penalty`).
- `scaled_sum`: Σ x · c over some axes (a mean: c = 1/count), one ``ReductionKernel`` instead of
  a sum and a product.
- `convex_combination`: t a + (1 - t) b (the penalty's interpolated samples), one kernel instead of five.
- `norm_gradient`: the norms' gradient g · gy / n, one kernel.
- `norm_penalty` / `norm_penalty_sum` / `norm_penalty_gradient` / `norm_penalty_slope`: (n - 1)² or
  max(n - 1, 0)² per sample, its scaled sum (a mean) as one reduction, its gradient and derivative.
- `adam_scalars`: Adam's step count and the step's device scalars (bias corrections, step size,
  the two scales of the denominator, see `minigrad.optim.Adam`), in float64 as PyTorch computes
  them, cast to the parameter's dtype: one launch on 0-d arrays instead of fifteen.
- `adam_update`: Adam's moment updates and parameter step over a whole flat buffer, given the
  step's device scalars.
- `rmsprop_update`: RMSprop's plain update (no momentum, not centered) over a whole buffer.

Kernels that an elementwise body cannot express (Philox's rounds, a whole draw per thread) are
`RawKernel`s: CUDA C compiled with ``cupy.RawModule``, each with a *twin*, the same computation as
array-module calls (the code the kernel replaced). The CPU runs the twin on NumPy; the CuPy
stand-in runs the twin in the kernel's place and counts it as one launch (it finds the twin by the
kernel's name, `twin_of`); the tests compare the C code with the twin by compiling it as plain C.

Every kernel registers itself when it is made (`registry`): each `Kernel`, `Reduction` and `RawModule`,
and each `ReductionFamily`, the reductions built lazily per runtime literal (a mean's 1/count, a
penalty's eps), with representative literals. scripts/compile_cuda_kernels.py compiles everything in
the registry with the CUDA compilers, in the argument forms the tests use
(`minigrad.testing.kernel_forms`), so a new kernel is compiled without editing the script.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from minigrad.backend import array_module

#: threads per block of every RawKernel launch
THREADS_PER_BLOCK = 256
_TWINS: dict[str, Callable[..., None]] = {}
_REGISTRY: dict[str, Kernel | Reduction | ReductionFamily | RawModule] = {}


def _register(kernel: Kernel | Reduction | ReductionFamily | RawModule) -> None:
    if kernel.name in _REGISTRY:
        raise ValueError(f"{type(kernel).__name__}: a kernel named {kernel.name!r} already exists")
    _REGISTRY[kernel.name] = kernel


def registry() -> dict[str, Kernel | Reduction | ReductionFamily | RawModule]:
    """Every kernel minigrad can hand CuPy, by name (importing the modules that define them first)."""
    # the ops and Philox make their kernels when imported
    import minigrad.ops
    import minigrad.philox  # noqa: F401

    return dict(_REGISTRY)


def _array_module_of(args) -> Any:
    """numpy or cupy: the module of the first array among a kernel's arguments (NumPy scalars are no array)."""
    return array_module(next(a for a in args if hasattr(a, "shape") and not isinstance(a, (np.generic, float, int))))


class Kernel:
    """A named ``ElementwiseKernel(in_params, out_params, operation)``, compiled per array module on first call."""

    def __init__(self, name: str, in_params: str, out_params: str, operation: str):
        self.name, self.in_params, self.out_params, self.operation = name, in_params, out_params, operation
        self._built: dict[int, Any] = {}
        _register(self)

    def __call__(self, *args):
        xp = _array_module_of(args)
        kernel = self._built.get(id(xp))
        if kernel is None:
            kernel = self._built[id(xp)] = xp.ElementwiseKernel(self.in_params, self.out_params, self.operation,
                                                                self.name)
        return kernel(*args)


class Reduction:
    """A named ``ReductionKernel(in_params, out_params, map_expr, reduce_expr, post_map_expr, identity)``,
    compiled per array module on first call; called with the reduction's ``axis``.

    Registered under its name, unless a `ReductionFamily` made it (the family is registered)."""

    def __init__(self, name: str, in_params: str, out_params: str, map_expr: str, reduce_expr: str,
                 post_map_expr: str, identity: str, *, in_family: bool = False):
        self.name = name
        self.spec = (in_params, out_params, map_expr, reduce_expr, post_map_expr, identity)
        self._built: dict[int, Any] = {}
        if not in_family:
            _register(self)

    def __call__(self, *args, axis=None, keepdims: bool = False):
        xp = _array_module_of(args)
        kernel = self._built.get(id(xp))
        if kernel is None:
            kernel = self._built[id(xp)] = xp.ReductionKernel(*self.spec, name=self.name)
        return kernel(*args, axis=axis, keepdims=keepdims)


class ReductionFamily:
    """Reductions named `name` whose C code holds runtime literals: ``family(*literals)`` is the `Reduction`
    ``make(*literals)`` returns, built once per literals. `examples` are representative literals, what
    the compile script builds (the literals only change C constants, never the code's shape)."""

    def __init__(self, name: str, make: Callable[..., Reduction], examples: tuple[tuple, ...]):
        self.name, self.make, self.examples = name, make, examples
        self._members: dict[tuple, Reduction] = {}
        _register(self)

    def __call__(self, *literals) -> Reduction:
        member = self._members.get(literals)
        if member is None:
            member = self._members[literals] = self.make(*literals)
        return member


class RawModule:
    """CUDA C `source` defining ``extern "C" __global__`` kernels, compiled once per array module on first use;
    registered as `name`."""

    def __init__(self, name: str, source: str):
        self.name, self.source = name, source
        self.functions: list[str] = []  # the names of its RawKernels
        self._built: dict[int, Any] = {}
        _register(self)

    def function(self, xp, name: str):
        module = self._built.get(id(xp))
        if module is None:
            module = self._built[id(xp)] = xp.RawModule(code=self.source)
        return module.get_function(name)


class RawKernel:
    """The kernel `name` of a `RawModule`, launched over `n` threads, with its twin.

    ``kernel(n, *args)`` runs ``twin(*args)`` when the arrays are NumPy's and launches the compiled
    kernel (one thread per index below n) otherwise. `twin` takes the kernel's arguments (arrays and
    NumPy scalars, in the C signature's order), writes its outputs in place and returns nothing.
    """

    def __init__(self, module: RawModule, name: str, twin: Callable[..., None]):
        if name in _TWINS:
            raise ValueError(f"RawKernel: a kernel named {name!r} already exists")
        self.module, self.name, self.twin = module, name, twin
        _TWINS[name] = twin
        module.functions.append(name)

    def __call__(self, n: int, *args) -> None:
        xp = _array_module_of(args)
        if xp is np:
            self.twin(*args)
        elif n > 0:
            blocks = -(-n // THREADS_PER_BLOCK)
            self.module.function(xp, self.name)((blocks,), (THREADS_PER_BLOCK,), args)


def twin_of(name: str) -> Callable[..., None]:
    """The twin of the RawKernel `name` (what the CuPy stand-in runs in the kernel's place)."""
    try:
        return _TWINS[name]
    except KeyError:
        raise KeyError(f"no RawKernel named {name!r} (known: {', '.join(sorted(_TWINS))})") from None


RELU_WITH_MASK = Kernel("minigrad_relu_mask", "T z, T b", "T y, bool mask",
                        "T s = z + b; mask = s > 0; y = mask ? s : (T)0")

def _literal(value: float) -> str:
    """`value` as a C literal of T, rounded from the double as NumPy rounds a Python float beside an array of T."""
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"a CUDA kernel's literal must be finite, got {value!r}")
    return f"(T)({value!r})"


#: Σ x · scale: a mean's 1/count (1/3 has all of a double's digits, 2^-20 an exponent), a plain sum
SCALED_SUM = ReductionFamily(
    "minigrad_scaled_sum",
    lambda scale: Reduction("minigrad_scaled_sum", "T x", "T y", "x", "a + b", f"y = a * {_literal(scale)}", "0",
                            in_family=True),
    examples=((1 / 3,), (1.0,), (2.0 ** -20,)))


def scaled_sum(x, scale: float, axis, keepdims: bool):
    """(Σ x over `axis`) · scale, the product rounded after the sum as ``x.sum(axis) * scale`` (one launch)."""
    return SCALED_SUM(scale)(x, axis=axis, keepdims=keepdims)


CONVEX_COMBINATION = Kernel("minigrad_convex_combination", "T t, T a, T b", "T y", "y = t * a + (1 - t) * b")


#: sqrt(Σ g² + eps) with eps written into the C code as a literal of T (as x + eps rounds a Python eps)
SAMPLE_NORMS = ReductionFamily(
    "minigrad_sample_norms",
    lambda eps: Reduction("minigrad_sample_norms", "T g", "T n", "g * g", "a + b", f"n = sqrt(a + {_literal(eps)})",
                          "0", in_family=True),
    examples=((1e-12,), (0.0,), (1e-6,)))


#: p = (n - 1)², or with one_sided max(n - 1, 0)²; and the derivative s = 2 (n - 1), or 2 max(n - 1, 0)
NORM_PENALTY = {False: Kernel("minigrad_norm_penalty", "T n", "T p", "T e = n - 1; p = e * e"),
                True: Kernel("minigrad_norm_penalty_one_sided", "T n", "T p",
                             "T e = n - 1; e = e > 0 ? e : (T)0; p = e * e")}
NORM_GRADIENT = Kernel("minigrad_norm_gradient", "T g, T gy, T n", "T gx", "gx = g * (gy / n)")
NORM_PENALTY_GRADIENT = {
    False: Kernel("minigrad_norm_penalty_gradient", "T n, T gy, T scale", "T gn", "gn = gy * scale * ((n - 1) * 2)"),
    True: Kernel("minigrad_norm_penalty_gradient_one_sided", "T n, T gy, T scale", "T gn",
                 "T e = n - 1; gn = e > 0 ? gy * scale * (e * 2) : (T)0")}


def _norm_penalty_sum_kernel(one_sided: bool, scale: float) -> Reduction:
    square = "(n - 1 > 0 ? (n - 1) * (n - 1) : (T)0)" if one_sided else "(n - 1) * (n - 1)"
    return Reduction("minigrad_norm_penalty_sum" + ("_one_sided" if one_sided else ""), "T n", "T p", square,
                     "a + b", f"p = a * {_literal(scale)}", "0", in_family=True)


#: Σ (n - 1)² (or max(n - 1, 0)²) · scale: a mean's 1/B or a sum's 1, both sides (two kernel names)
NORM_PENALTY_SUM = {one_sided: ReductionFamily("minigrad_norm_penalty_sum" + ("_one_sided" if one_sided else ""),
                                               lambda scale, one_sided=one_sided: _norm_penalty_sum_kernel(
                                                   one_sided, scale),
                                               examples=((1 / 3,), (1.0,)))
                    for one_sided in (False, True)}
NORM_PENALTY_SLOPE = {False: Kernel("minigrad_norm_penalty_slope", "T n", "T s", "s = (n - 1) * 2"),
                      True: Kernel("minigrad_norm_penalty_slope_one_sided", "T n", "T s",
                                   "T e = n - 1; s = e > 0 ? e * 2 : (T)0")}

#: m <- lerp(m, g, 1 - beta1) (rounded as torch.lerp_: from g's side from weight 0.5 on);
#: v <- beta2 v + (1 - beta2) g²; x <- x + m / (sqrt(v) / sqrt_scale + eps_scaled)
ADAM = Kernel("minigrad_adam", "T g, T one_minus_beta1, T beta2, T sqrt_scale, T eps_scaled", "T x, T m, T v",
              "m = one_minus_beta1 >= 0.5 ? g - (g - m) * (1 - one_minus_beta1) : m + one_minus_beta1 * (g - m); "
              "v = v * beta2 + g * g * (1 - beta2); "
              "x = x + m / (sqrt(v) / sqrt_scale + eps_scaled)")

#: t <- t + 1; s = -lr / (1 - beta1^t), -1 in place of -0 (lr = 0); sqrt_scale = (1 - beta2^t)^0.5 s;
#: eps_scaled = eps / s, or -inf when lr = 0 (then m / d is 0: see `minigrad.optim.Adam`)
ADAM_SCALARS = Kernel("minigrad_adam_scalars",
                      "float64 lr, float64 beta1, float64 beta2, float64 eps, float64 minus_inf",
                      "float64 step, T sqrt_scale, T eps_scaled",
                      "step = step + 1; "
                      "double neg_step_size = -(lr / (1 - pow(beta1, step))); "
                      "bool lr_is_zero = neg_step_size == 0; "
                      "double nonzero_step_size = neg_step_size - (lr_is_zero ? 1.0 : 0.0); "
                      "sqrt_scale = pow(1 - pow(beta2, step), 0.5) * nonzero_step_size; "
                      "eps_scaled = lr_is_zero ? minus_inf : eps / nonzero_step_size")

#: s <- alpha s + (1 - alpha) g²; x <- x - lr g / (sqrt(s) + eps)
RMSPROP = Kernel("minigrad_rmsprop", "T g, T alpha, T eps, T lr", "T x, T square_avg",
                 "square_avg = square_avg * alpha + g * g * (1 - alpha); x = x - g / (sqrt(square_avg) + eps) * lr")


def relu_with_mask(z, bias=None):
    """Overwrite z with max(z + bias, 0) (bias: None, or (C,) for z (N, C)); return the boolean mask
    z + bias > 0 (one launch)."""
    mask = array_module(z).empty_like(z, dtype=bool)  # in z's memory layout, as z > 0 would be
    RELU_WITH_MASK(z, z.dtype.type(0) if bias is None else bias, z, mask)
    return mask


def sample_norms(g, eps: float):
    """sqrt(Σ g² + eps) over every axis of g but the first: (B, ...) -> (B,) (one launch)."""
    return SAMPLE_NORMS(eps)(g, axis=tuple(range(1, g.ndim)))


def convex_combination(t, a, b):
    """t a + (1 - t) b, broadcast (one launch)."""
    return CONVEX_COMBINATION(t, a, b)


def norm_penalty(n, one_sided: bool):
    """(n - 1)², or max(n - 1, 0)² with `one_sided`, elementwise (one launch)."""
    return NORM_PENALTY[one_sided](n)


def norm_penalty_sum(n, one_sided: bool, scale: float):
    """Σ (n - 1)² (or max(n - 1, 0)²) over n's one axis, times `scale`, as a 0-d array (one launch)."""
    return NORM_PENALTY_SUM[one_sided](scale)(n, axis=None)


def norm_gradient(g, gy, n):
    """g · gy / n with gy, n broadcast against g (one launch)."""
    return NORM_GRADIENT(g, gy, n)


def norm_penalty_gradient(n, gy, one_sided: bool, scale: float):
    """gy · scale · 2 (n - 1), or 0 where n <= 1 with `one_sided` (one launch)."""
    return NORM_PENALTY_GRADIENT[one_sided](n, gy, n.dtype.type(scale))


def norm_penalty_slope(n, one_sided: bool):
    """The derivative of `norm_penalty`: 2 (n - 1), or 2 max(n - 1, 0) (one launch)."""
    return NORM_PENALTY_SLOPE[one_sided](n)


def adam_scalars(step, lr, beta1: float, beta2: float, eps: float, dtype):
    """Advance Adam's float64 0-d step count `step` in place; return (sqrt_scale, eps_scaled) as 0-d arrays
    of `dtype` (one launch)."""
    xp = array_module(step)
    sqrt_scale, eps_scaled = xp.empty((), dtype), xp.empty((), dtype)
    ADAM_SCALARS(lr, beta1, beta2, eps, -math.inf, step, sqrt_scale, eps_scaled)
    return sqrt_scale, eps_scaled


def adam_update(x, g, m, v, one_minus_beta1, beta2, sqrt_scale, eps_scaled) -> None:
    """Adam's update of x, m, v in place, in one launch (the scalars are 0-d arrays of x's dtype or numbers)."""
    ADAM(g, one_minus_beta1, beta2, sqrt_scale, eps_scaled, x, m, v)


def rmsprop_update(x, g, square_avg, alpha, eps, lr) -> None:
    """RMSprop's update of x and square_avg in place, in one launch."""
    RMSPROP(g, alpha, eps, lr, x, square_avg)
