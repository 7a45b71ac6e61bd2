"""The op table: one `OpSpec` per differentiable op (or per variant of one).

Each spec gives the minigrad call, a NumPy reference for the forward values, the PyTorch
equivalent (None where torch has no direct counterpart), and a hypothesis strategy of
cases. A case is ``(arrays, kwargs)``: float64 NumPy arrays (one per Tensor input) and
the non-Tensor arguments (axes, indices, constants), so that the three implementations
are called as ``fn(*tensors, **kwargs)``. A row is named for its op in `minigrad.ops`, or
``<op>_<variant>``; tests/ops/test_spec_coverage.py checks that every op has one. The
tests in this folder run every spec through gradcheck/gradgradcheck and the invariants;
tests/test_torch_core.py runs the same table against PyTorch.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad
from tests.functional.helpers import (conv_cases, distinct_values, pool_cases, reference_conv2d,
                                      reference_conv_transpose2d, reference_pool, values)
from tests.strategies import (apart, arrays, axes, broadcast_target, broadcastable_shapes, nonzero_arrays,
                              positive_arrays, shapes)

try:  # the oracle is optional: without torch every spec's `torch` is None
    import torch
    import torch.nn.functional as F
except ImportError:  # pragma: no cover - exercised on machines without torch
    torch = F = None


@dataclass(frozen=True)
class OpSpec:
    name: str
    fn: Callable  # minigrad: fn(*tensors, **kwargs) -> Tensor
    ref: Callable  # numpy: ref(*arrays, **kwargs) -> array
    torch: Callable | None  # torch: torch(*tensors, **kwargs) -> tensor
    cases: st.SearchStrategy  # of (tuple of float64 arrays, kwargs dict)
    second_order: bool = True  # gradgradcheck it (every op here is twice differentiable off its kinks)
    keeps_dtype: bool = True  # float32 in -> float32 out

    def __repr__(self) -> str:
        return self.name


def plain(*array_strategies) -> st.SearchStrategy:
    return st.tuples(st.tuples(*array_strategies), st.just({}))


def unary(make=arrays, shape=None) -> st.SearchStrategy:
    """One array of any small shape, drawn by `make(shape)`."""
    return plain(make(shape if shape is not None else shapes()))


@st.composite
def binary(draw, make_a=arrays, make_b=arrays, no_ties: bool = False):
    """Two arrays of mutually broadcastable shapes."""
    sa, sb = draw(broadcastable_shapes())
    a, b = draw(make_a(sa)), draw(make_b(sb))
    if no_ties:
        apart(a, b)
    return (a, b), {}


def off(*kinks):
    return lambda shape: arrays(shape, kinks=kinks)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _elu(x, alpha):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


# ----------------------------------------------------------------------------- elementwise
def _elementwise() -> list[OpSpec]:
    specs = []
    for name, op in [("add", lambda a, b: a + b), ("sub", lambda a, b: a - b), ("mul", lambda a, b: a * b)]:
        specs.append(OpSpec(name, op, op, op, binary()))
    div = lambda a, b: a / b  # noqa: E731
    specs.append(OpSpec("div", div, div, div, binary(make_b=nonzero_arrays)))
    power = lambda a, b: a ** b  # noqa: E731
    # exponents keep off 0, where PyTorch masks the derivative (its d/db of the d/da rule is 0 there)
    specs.append(OpSpec("pow_tensor_tensor", power, power, power,
                        binary(make_a=positive_arrays, make_b=lambda s: arrays(s, -2, 2, kinks=(0.0,)))))
    scalar_ops = [
        ("add_scalar_right", lambda a: a + 2.5, arrays), ("add_scalar_left", lambda a: 2.5 + a, arrays),
        ("sub_scalar_right", lambda a: a - 1.5, arrays), ("sub_scalar_left", lambda a: 1.5 - a, arrays),
        ("mul_scalar_right", lambda a: a * -2.0, arrays), ("mul_scalar_left", lambda a: 3 * a, arrays),
        ("div_scalar_right", lambda a: a / 4.0, arrays), ("div_scalar_left", lambda a: 2.0 / a, nonzero_arrays),
        ("pow_square", lambda a: a ** 2, arrays), ("pow_cube", lambda a: a ** 3, arrays),
        ("pow_sqrt", lambda a: a ** 0.5, positive_arrays), ("pow_negative", lambda a: a ** -1.5, positive_arrays),
        ("pow_scalar_base", lambda a: 2.0 ** a, arrays), ("neg", lambda a: -a, arrays),
    ]
    specs += [OpSpec(name, op, op, op, unary(make)) for name, op, make in scalar_ops]

    def mg_and_torch(name):
        return getattr(minigrad, name), (getattr(torch, name) if torch else None)

    smooth = [("exp", np.exp, arrays), ("log", np.log, positive_arrays), ("sqrt", np.sqrt, positive_arrays),
              ("sin", np.sin, arrays), ("cos", np.cos, arrays), ("tanh", np.tanh, arrays),
              ("sigmoid", _sigmoid, arrays), ("abs", np.abs, off(0.0)), ("relu", lambda x: np.maximum(x, 0), off(0.0))]
    for name, ref, make in smooth:
        fn, tfn = mg_and_torch(name)
        specs.append(OpSpec(name, fn, ref, tfn, unary(make)))
    specs += [
        OpSpec("leaky_relu", lambda x: minigrad.leaky_relu(x, 0.1), lambda x: np.where(x > 0, x, 0.1 * x),
               F and (lambda x: F.leaky_relu(x, 0.1)), unary(off(0.0))),
        OpSpec("softplus", minigrad.softplus, lambda x: np.logaddexp(0, x), F and F.softplus, unary()),
        OpSpec("softplus_beta2", lambda x: minigrad.softplus(x, beta=2.0), lambda x: np.logaddexp(0, 2 * x) / 2,
               F and (lambda x: F.softplus(x, beta=2.0)), unary()),
        OpSpec("elu", minigrad.elu, lambda x: _elu(x, 1.0), F and F.elu, unary(off(0.0))),
        OpSpec("elu_alpha", lambda x: minigrad.elu(x, alpha=0.5), lambda x: _elu(x, 0.5),
               F and (lambda x: F.elu(x, alpha=0.5)), unary(off(0.0))),
    ]
    for name, low, high in [("clamp", -0.5, 0.5), ("clamp_min", -0.5, None), ("clamp_max", None, 0.5)]:
        kinks = [k for k in (low, high) if k is not None]
        specs.append(OpSpec(
            name, lambda x, lo=low, hi=high: minigrad.clamp(x, lo, hi),
            lambda x, lo=low, hi=high: np.clip(x, lo, hi),
            torch and (lambda x, lo=low, hi=high: torch.clamp(x, lo, hi)), unary(off(*kinks))))
    specs += [
        OpSpec("maximum", minigrad.maximum, np.maximum, torch and torch.maximum, binary(no_ties=True)),
        OpSpec("minimum", minigrad.minimum, np.minimum, torch and torch.minimum, binary(no_ties=True)),
        OpSpec("maximum_scalar", lambda x: minigrad.maximum(x, 0.5), lambda x: np.maximum(x, 0.5),
               torch and (lambda x: torch.maximum(x, torch.tensor(0.5, dtype=x.dtype))), unary(off(0.5))),
        OpSpec("minimum_scalar_left", lambda x: minigrad.minimum(-0.5, x), lambda x: np.minimum(-0.5, x),
               torch and (lambda x: torch.minimum(torch.tensor(-0.5, dtype=x.dtype), x)), unary(off(-0.5))),
        OpSpec("where_scalar", lambda a, cond: minigrad.where(cond, a, 0.0), lambda a, cond: np.where(cond, a, 0.0),
               torch and (lambda a, cond: torch.where(torch.as_tensor(cond), a, 0.0)),
               st.tuples(st.tuples(arrays((2, 3))), st.fixed_dictionaries({"cond": hnp.arrays(np.bool_, (3,))}))),
        OpSpec("where", lambda a, b, cond: minigrad.where(cond, a, b), lambda a, b, cond: np.where(cond, a, b),
               torch and (lambda a, b, cond: torch.where(torch.as_tensor(cond), a, b)), _where_cases()),
    ]
    return specs


@st.composite
def _where_cases(draw):
    sa, sb, sc = draw(broadcastable_shapes(num_shapes=3))
    return (draw(arrays(sa)), draw(arrays(sb))), {"cond": draw(hnp.arrays(np.bool_, sc))}


# ----------------------------------------------------------------------------- reductions
def _dims(axis, ndim: int) -> tuple:
    if axis is None:
        return tuple(range(ndim))
    return (axis,) if isinstance(axis, int) else tuple(axis)


@st.composite
def _reduce_cases(draw, distinct: bool = False, min_count: int = 1, correction: bool = False):
    x = draw(arrays(shapes(), distinct=distinct))
    axis = draw(axes(x.ndim))
    count = x.size if axis is None else int(np.prod([x.shape[a] for a in _dims(axis, x.ndim)]))
    assume(count >= min_count)
    kwargs = {"axis": axis, "keepdims": draw(st.booleans())}
    if correction:
        kwargs["correction"] = draw(st.sampled_from([0, 1]))
    return (x,), kwargs


def _torch_reduction(name: str):
    def call(x, axis, keepdims, **extra):
        return getattr(torch, name)(x, dim=_dims(axis, x.ndim), keepdim=keepdims, **extra)

    return call


def _reduce() -> list[OpSpec]:
    return [
        OpSpec("sum", minigrad.sum, np.sum, torch and _torch_reduction("sum"), _reduce_cases()),
        OpSpec("mean", minigrad.mean, np.mean, torch and _torch_reduction("mean"), _reduce_cases()),
        OpSpec("var", minigrad.var, lambda x, axis, keepdims, correction: np.var(
            x, axis=axis, keepdims=keepdims, ddof=correction),
            torch and _torch_reduction("var"), _reduce_cases(min_count=2, correction=True)),
        OpSpec("max", minigrad.max, np.max, torch and _torch_reduction("amax"), _reduce_cases(distinct=True)),
        OpSpec("min", minigrad.min, np.min, torch and _torch_reduction("amin"), _reduce_cases(distinct=True)),
        OpSpec("logsumexp", minigrad.logsumexp,
               lambda x, axis, keepdims: np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims)),
               torch and _torch_reduction("logsumexp"), _reduce_cases()),
    ]


# ----------------------------------------------------------------------------- shape ops
@st.composite
def _reshape_cases(draw):
    x = draw(arrays(shapes()))
    target = draw(st.sampled_from([(x.size,), (-1,), x.shape[::-1], x.shape + (1,), (1, -1)]))
    return (x,), {"shape": target}


@st.composite
def _permute_cases(draw):
    x = draw(arrays(shapes()))
    return (x,), {"axes": tuple(draw(st.permutations(range(x.ndim))))}


@st.composite
def _swap_cases(draw):
    x = draw(arrays(shapes(min_dims=1)))
    a, b = draw(st.integers(-x.ndim, x.ndim - 1)), draw(st.integers(-x.ndim, x.ndim - 1))
    return (x,), {"a": a, "b": b}


@st.composite
def _broadcast_cases(draw, with_minus_one: bool = False):
    x = draw(arrays(shapes(max_dims=2)))
    target = draw(broadcast_target(x.shape))
    if with_minus_one:
        lead = len(target) - x.ndim
        target = tuple(-1 if i >= lead and draw(st.booleans()) else s for i, s in enumerate(target))
    return (x,), {"shape": target}


@st.composite
def _sum_to_cases(draw):
    """An array of a shape that `shape` broadcasts to, summed back to `shape` (what gradients of broadcasts do)."""
    shape = draw(shapes(max_dims=2))
    return (draw(arrays(draw(broadcast_target(shape)))),), {"shape": shape}


def _sum_to_ref(x, shape):
    lead = x.ndim - len(shape)
    grown = tuple(lead + i for i, s in enumerate(shape) if s == 1 and x.shape[lead + i] != 1)
    return x.sum(axis=tuple(range(lead)) + grown, keepdims=True).reshape(shape)


@st.composite
def _squeeze_cases(draw):
    x = draw(arrays(shapes()))
    ones = [i for i, s in enumerate(x.shape) if s == 1]
    axis = draw(st.sampled_from([None] + ones + [i - x.ndim for i in ones]))
    return (x,), {"axis": axis}


@st.composite
def _unsqueeze_cases(draw):
    x = draw(arrays(shapes()))
    return (x,), {"axis": draw(st.integers(-x.ndim - 1, x.ndim))}


@st.composite
def _flatten_cases(draw):
    x = draw(arrays(shapes(min_dims=1)))
    start = draw(st.integers(0, x.ndim - 1))
    return (x,), {"start": start, "end": draw(st.integers(start, x.ndim - 1))}


@st.composite
def _basic_index_cases(draw):
    x = draw(arrays(shapes(min_dims=1)))
    return (x,), {"index": draw(hnp.basic_indices(x.shape, allow_newaxis=True))}


@st.composite
def _forward_slice_cases(draw):
    """Ints and slices with positive steps (the basic indexing PyTorch supports too)."""
    x = draw(arrays(shapes(min_dims=1)))
    index = []
    for size in x.shape:
        if draw(st.booleans()):
            index.append(draw(st.integers(-size, size - 1)))
        else:
            start = draw(st.integers(0, size - 1))
            index.append(slice(start, draw(st.integers(start + 1, size)), draw(st.integers(1, 2))))
    return (x,), {"index": tuple(index)}


@st.composite
def _array_index_cases(draw):
    """Integer-array indices (repeated entries included): their gradient scatter-adds."""
    x = draw(arrays(shapes(min_dims=1)))
    index = draw(hnp.integer_array_indices(x.shape, result_shape=hnp.array_shapes(max_dims=2, max_side=4)))
    return (x,), {"index": tuple(i.tolist() for i in index)}


def _repeated_index_cases():
    return st.tuples(st.tuples(arrays((4, 3))), st.just({"index": ([0, 2, 0, 0],)}))


def _mixed_index_cases():
    """An integer array (with repeats) on one axis and a strided slice on the next."""
    return st.tuples(st.tuples(arrays((3, 5))), st.just({"index": ([2, 0, 2], slice(None, None, 2))}))


def _torch_index(index):
    return tuple(torch.as_tensor(i) if isinstance(i, list) else i for i in index)


@st.composite
def _concat_cases(draw, stack: bool = False):
    base = draw(shapes(min_dims=1, max_dims=2, max_side=3))
    n = draw(st.integers(1, 3))
    if stack:
        xs = [draw(arrays(base)) for _ in range(n)]
        return tuple(xs), {"axis": draw(st.integers(-len(base) - 1, len(base)))}
    axis = draw(st.integers(-len(base), len(base) - 1))
    xs = []
    for _ in range(n):
        shape = list(base)
        shape[axis] = draw(st.integers(1, 3))
        xs.append(draw(arrays(tuple(shape))))
    return tuple(xs), {"axis": axis}


@st.composite
def _pad_cases(draw):
    x = draw(arrays(shapes(min_dims=1, max_dims=2, max_side=3)))
    widths = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in x.shape)
    return (x,), {"pad_width": widths, "value": draw(st.sampled_from([0.0, -1.5]))}


def _torch_pad(x, pad_width, value):
    flat = [w for pair in reversed(pad_width) for w in pair]
    return F.pad(x, flat, value=value)


def _shape() -> list[OpSpec]:
    lists = lambda fn: lambda *xs, **kw: fn(list(xs), **kw)  # noqa: E731  (varargs -> one list)
    return [
        OpSpec("reshape", lambda x, shape: x.reshape(shape), lambda x, shape: x.reshape(shape),
               lambda x, shape: x.reshape(shape), _reshape_cases()),
        OpSpec("T", lambda x: x.T, lambda x: x.T, lambda x: x.permute(tuple(reversed(range(x.ndim)))), unary()),
        OpSpec("permute", lambda x, axes: x.permute(axes), lambda x, axes: x.transpose(axes),
               lambda x, axes: x.permute(axes), _permute_cases()),
        OpSpec("transpose", lambda x, a, b: minigrad.transpose(x, a, b), lambda x, a, b: np.swapaxes(x, a, b),
               torch and (lambda x, a, b: torch.transpose(x, a, b)), _swap_cases()),
        OpSpec("swapaxes", minigrad.swapaxes, lambda x, a, b: np.swapaxes(x, a, b),
               torch and (lambda x, a, b: torch.swapaxes(x, a, b)), _swap_cases()),
        OpSpec("broadcast_to", minigrad.broadcast_to, np.broadcast_to,
               lambda x, shape: x.broadcast_to(shape), _broadcast_cases()),
        OpSpec("expand", lambda x, shape: x.expand(*shape),
               lambda x, shape: np.broadcast_to(x, tuple(
                   x.shape[i - len(shape) + x.ndim] if s == -1 else s for i, s in enumerate(shape))),
               lambda x, shape: x.expand(shape), _broadcast_cases(with_minus_one=True)),
        OpSpec("sum_to", minigrad.sum_to, _sum_to_ref, lambda x, shape: x.sum_to_size(shape) if shape else x.sum(),
               _sum_to_cases()),
        OpSpec("squeeze", lambda x, axis: x.squeeze(axis), lambda x, axis: np.squeeze(x, axis),
               lambda x, axis: x.squeeze() if axis is None else x.squeeze(axis), _squeeze_cases()),
        OpSpec("unsqueeze", lambda x, axis: x.unsqueeze(axis), np.expand_dims,
               lambda x, axis: x.unsqueeze(axis), _unsqueeze_cases()),
        OpSpec("flatten", lambda x, start, end: x.flatten(start, end),
               lambda x, start, end: x.reshape(x.shape[:start] + (-1,) + x.shape[end + 1:]),
               torch and (lambda x, start, end: torch.flatten(x, start, end)), _flatten_cases()),
        OpSpec("getitem_basic", lambda x, index: x[index], lambda x, index: x[index], None, _basic_index_cases()),
        OpSpec("getitem_slices", lambda x, index: x[index], lambda x, index: x[index],
               lambda x, index: x[index], _forward_slice_cases()),
        OpSpec("getitem_int_arrays", lambda x, index: x[index], lambda x, index: x[index],
               lambda x, index: x[_torch_index(index)], _array_index_cases()),
        OpSpec("getitem_repeated", lambda x, index: x[index], lambda x, index: x[index],
               lambda x, index: x[_torch_index(index)], _repeated_index_cases()),
        OpSpec("getitem_mixed", lambda x, index: x[index], lambda x, index: x[index],
               lambda x, index: x[_torch_index(index)], _mixed_index_cases()),
        OpSpec("concatenate", lists(minigrad.concatenate), lists(np.concatenate),
               torch and (lambda *xs, axis: torch.cat(xs, axis)), _concat_cases()),
        OpSpec("stack", lists(minigrad.stack), lists(np.stack),
               torch and (lambda *xs, axis: torch.stack(xs, axis)), _concat_cases(stack=True)),
        OpSpec("pad", minigrad.pad, lambda x, pad_width, value: np.pad(x, pad_width, constant_values=value),
               torch and _torch_pad, _pad_cases()),
        OpSpec("astype", lambda x: x.astype(np.float64), lambda x: x.astype(np.float64),
               lambda x: x.to(torch.float64), unary(), keeps_dtype=False),
    ]


# ----------------------------------------------------------------------------- linear algebra
MATMUL_LAYOUTS = {  # (shape of a, shape of b) templates over sizes m, k, n and batches p, q
    "vec_vec": ("k", "k"), "vec_mat": ("k", "kn"), "mat_vec": ("mk", "k"), "mat_mat": ("mk", "kn"),
    "batched": ("pmk", "pkn"), "broadcast_batch": ("p1mk", "qkn"), "vec_batch": ("k", "pkn"),
    "batch_vec": ("pmk", "k"), "batch_mat": ("pmk", "kn"),
}


@st.composite
def _matmul_cases(draw):
    layout = draw(st.sampled_from(sorted(MATMUL_LAYOUTS)))
    sizes = {c: draw(st.integers(1, 3)) for c in "mknpq"}
    sizes["1"] = 1
    sa, sb = (tuple(sizes[c] for c in t) for t in MATMUL_LAYOUTS[layout])
    return (draw(arrays(sa)), draw(arrays(sb))), {}


@st.composite
def _linear_cases(draw, bias: bool, batch_dims: int = 1):
    n_in, n_out = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    lead = tuple(draw(st.integers(1, 3)) for _ in range(batch_dims))
    xs = [draw(arrays(lead + (n_in,))), draw(arrays((n_out, n_in)))]
    if bias:
        xs.append(draw(arrays((n_out,))))
    return tuple(xs), {}


def _linear_ref(x, w, b=None):
    return x @ w.T + (0 if b is None else b)


def _linalg() -> list[OpSpec]:
    return [
        OpSpec("matmul", lambda a, b: a @ b, np.matmul, torch and torch.matmul, _matmul_cases()),
        OpSpec("linear", minigrad.linear, _linear_ref, F and F.linear, _linear_cases(bias=True)),
        OpSpec("linear_no_bias", minigrad.linear, _linear_ref, F and F.linear, _linear_cases(bias=False)),
        OpSpec("linear_3d_input", minigrad.linear, _linear_ref, F and F.linear,
               _linear_cases(bias=True, batch_dims=2)),
    ]


# ----------------------------------------------------------------------------- conv, pool, norm, loss
@st.composite
def _conv_spec_cases(draw, transpose: bool):
    case = draw(conv_cases(transpose=transpose))
    seed = case["seed"]
    xs = [values(seed, case["x_shape"]), values(seed + 1, case["w_shape"])]
    if case["bias"]:
        xs.append(values(seed + 2, (case["out_channels"],)))
    names = ("stride", "padding", "dilation", "groups") + (("output_padding",) if transpose else ())
    return tuple(xs), {k: case[k] for k in names}


def _conv_ref(x, w, b=None, **kw):
    return reference_conv2d(x, w, b, kw["stride"], kw["padding"], kw["dilation"], kw["groups"])


def _conv_transpose_ref(x, w, b=None, **kw):
    return reference_conv_transpose2d(x, w, b, kw["stride"], kw["padding"], kw["output_padding"], kw["groups"],
                                      kw["dilation"])


@st.composite
def _pool_spec_cases(draw, dilated: bool):
    case = draw(pool_cases(dilated=dilated))
    x = distinct_values(case["seed"], case["shape"]) if dilated else values(case["seed"], case["shape"])
    if dilated:  # a dilated window may see only padding (-inf, as in PyTorch): no derivative there
        assume(np.isfinite(reference_pool(x, case["geometry"], np.max, -np.inf)).all())
    return (x,), case["kwargs"]


def _pool_ref(reduce, fill):
    def ref(x, kernel_size, stride=None, padding=0, dilation=1):
        pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)  # noqa: E731
        geometry = (pair(kernel_size), pair(kernel_size if stride is None else stride), pair(padding), pair(dilation))
        return reference_pool(x, geometry, reduce, fill)
    return ref


_NORM_SHAPES = st.sampled_from([(3, 2), (2, 3, 2), (2, 2, 3, 2), (3, 1, 2, 1)])


@st.composite
def _batch_norm_cases(draw):
    shape, seed = draw(_NORM_SHAPES), draw(st.integers(0, 2 ** 16))
    return (values(seed, shape), values(seed + 1, shape[1:2]), values(seed + 2, shape[1:2])), {}


def _batch_norm_ref(x, w, b):
    axes, bshape = (0,) + tuple(range(2, x.ndim)), (1, -1) + (1,) * (x.ndim - 2)
    y = (x - x.mean(axes, keepdims=True)) / np.sqrt(x.var(axes, keepdims=True) + 1e-5)
    return y * w.reshape(bshape) + b.reshape(bshape)


@st.composite
def _layer_norm_cases(draw):
    shape, seed = draw(_NORM_SHAPES), draw(st.integers(0, 2 ** 16))
    normalized = shape[-draw(st.integers(1, len(shape) - 1)):]
    return (values(seed, shape), values(seed + 1, normalized), values(seed + 2, normalized)), \
        {"normalized_shape": normalized}


def _layer_norm_ref(x, w, b, normalized_shape):
    axes = tuple(range(x.ndim - len(normalized_shape), x.ndim))
    return (x - x.mean(axes, keepdims=True)) / np.sqrt(x.var(axes, keepdims=True) + 1e-5) * w + b


_REDUCTIONS = st.sampled_from(["mean", "sum", "none"])


def _reduced(full, reduction):
    return {"mean": full.mean(), "sum": full.sum(), "none": full}[reduction]


@st.composite
def _mse_cases(draw):
    shape = draw(st.sampled_from([(3,), (2, 3), (2, 1, 2)]))
    return (draw(arrays(shape)), draw(arrays(shape))), {"reduction": draw(_REDUCTIONS)}


@st.composite
def _bce_cases(draw):
    shape = draw(st.sampled_from([(4,), (2, 3)]))
    target = np.random.default_rng(draw(st.integers(0, 2 ** 16))).uniform(0, 1, shape)
    return (draw(arrays(shape)) * 3, target), {"reduction": draw(_REDUCTIONS)}


def _bce_ref(x, t, reduction):
    return _reduced(np.logaddexp(0, x) - t * x, reduction)


@st.composite
def _cross_entropy_cases(draw):
    shape = draw(st.sampled_from([(3, 4), (2, 3, 2), (1, 2)]))
    target = np.random.default_rng(draw(st.integers(0, 2 ** 16))).integers(0, shape[1], (shape[0],) + shape[2:])
    return (draw(arrays(shape)) * 2,), {"target": target, "reduction": draw(_REDUCTIONS)}


def _log_softmax_ref(x, dim):
    return x - np.log(np.exp(x - x.max(dim, keepdims=True)).sum(dim, keepdims=True)) - x.max(dim, keepdims=True)


def _cross_entropy_ref(x, target, reduction):
    picked = np.take_along_axis(_log_softmax_ref(x, 1), target[:, None], axis=1)[:, 0]
    return _reduced(-picked, reduction)


@st.composite
def _softmax_cases(draw):
    x = draw(arrays(draw(shapes(min_dims=1))))
    return (x,), {"dim": draw(st.integers(-x.ndim, x.ndim - 1))}


def _nn() -> list[OpSpec]:
    mg_f = minigrad.functional
    return [
        OpSpec("conv2d", lambda x, w, b=None, **kw: mg_f.conv2d(x, w, b, **kw), _conv_ref,
               F and (lambda x, w, b=None, **kw: F.conv2d(x, w, b, **kw)), _conv_spec_cases(transpose=False)),
        OpSpec("conv_transpose2d", lambda x, w, b=None, **kw: mg_f.conv_transpose2d(x, w, b, **kw),
               _conv_transpose_ref, F and (lambda x, w, b=None, **kw: F.conv_transpose2d(x, w, b, **kw)),
               _conv_spec_cases(transpose=True)),
        OpSpec("avg_pool2d", mg_f.avg_pool2d, _pool_ref(np.mean, 0.0), F and F.avg_pool2d,
               _pool_spec_cases(dilated=False)),
        OpSpec("max_pool2d", mg_f.max_pool2d, _pool_ref(np.max, -np.inf), F and F.max_pool2d,
               _pool_spec_cases(dilated=True)),
        OpSpec("batch_norm_training", lambda x, w, b: mg_f.batch_norm(x, None, None, w, b, training=True),
               _batch_norm_ref, F and (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True)),
               _batch_norm_cases()),
        OpSpec("layer_norm", lambda x, w, b, normalized_shape: mg_f.layer_norm(x, normalized_shape, w, b),
               _layer_norm_ref, F and (lambda x, w, b, normalized_shape: F.layer_norm(x, normalized_shape, w, b)),
               _layer_norm_cases()),
        OpSpec("mse_loss", mg_f.mse_loss, lambda a, b, reduction: _reduced((a - b) ** 2, reduction),
               F and F.mse_loss, _mse_cases()),
        OpSpec("binary_cross_entropy_with_logits", mg_f.binary_cross_entropy_with_logits, _bce_ref,
               F and F.binary_cross_entropy_with_logits, _bce_cases()),
        OpSpec("cross_entropy", lambda x, target, reduction: mg_f.cross_entropy(x, target, reduction=reduction),
               _cross_entropy_ref,
               F and (lambda x, target, reduction: F.cross_entropy(x, torch.as_tensor(target), reduction=reduction)),
               _cross_entropy_cases()),
        OpSpec("log_softmax", mg_f.log_softmax, _log_softmax_ref, F and F.log_softmax, _softmax_cases()),
        OpSpec("softmax", mg_f.softmax, lambda x, dim: np.exp(_log_softmax_ref(x, dim)), F and F.softmax,
               _softmax_cases()),
    ]


ELEMENTWISE = _elementwise()
REDUCE = _reduce()
SHAPE = _shape()
LINALG = _linalg()
NN = _nn()
ALL_SPECS = ELEMENTWISE + REDUCE + SHAPE + LINALG + NN
