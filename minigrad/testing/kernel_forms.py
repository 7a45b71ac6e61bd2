"""The argument forms of minigrad's CUDA kernels: what makes CuPy 14 generate different CUDA code.

CuPy writes one CUDA source per custom kernel and *form* of its arguments. An ``ElementwiseKernel``
argument is either a scalar, passed by value as a C type, or an array, passed as
``CArray<type, ndim, c_contiguous, index_32_bits>``. Its ndim and C-contiguity are those left after
CuPy broadcasts the arrays to one shape and merges the axes that are contiguous in all of them
(``_reduce_dims``): a (N, C) array plus a contiguous bias (C,) stays 2-d (the bias strided, stride 0
along N), two contiguous (N, C) arrays become 1-d. A ``ReductionKernel`` also moves the reduced axes
first and merges axes, then takes CUB's block reduction (its own CUDA source, see `cub_layout`) where
the input is contiguous along the reduced axes and long enough, else CuPy's simple reduction kernel.

`elementwise_form` and `reduction_form` compute a call's form from shapes and strides alone, as
CuPy 14.2 does; ``tests/cuda_conformance/test_cupy_api.py`` checks them against CuPy's own code on
real (memory-less) CuPy arrays. `FormLog` records the forms seen while the CUDA-marked tests run on
the CuPy stand-in (`REGENERATE`, ``pytest -m cuda --kernel-forms=record``, writes `FORMS_PATH`), and, by default,
fails a test that uses a form missing from that list. scripts/compile_cuda_kernels.py compiles
every kernel of `minigrad.kernels.registry` in every listed form with NVRTC.

A form is a JSON-able list of argument strings, one per parameter (inputs, then outputs):
``"float32 scalar"``, ``"float32 2-d contiguous"`` or ``"float32 2-d strided"``; a reduction's is
``{"in": [...], "out": [...], "index": "int32", "cub": "full" | "segmented" | null}``.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

#: the committed list of forms, recorded with CI's hypothesis profile (the command: `REGENERATE`)
FORMS_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cuda_kernel_forms.json")
REGENERATE = "HYPOTHESIS_PROFILE=ci python3 -m pytest -m cuda --kernel-forms=record -p no:cacheprovider"
_INT32_MAX = 0x7FFFFFFF


# ----------------------------------------------------------------------------- CuPy's array layout rules
@dataclass(frozen=True)
class Layout:
    """What CuPy's code generation sees of an array: dtype, shape, strides (bytes) and its cached
    C-contiguity flag (CuPy keeps a view's flag where it does not recompute it)."""

    dtype: np.dtype
    shape: tuple[int, ...]
    strides: tuple[int, ...]
    c_contiguous: bool

    @classmethod
    def of(cls, dtype, shape, strides) -> Layout:
        dtype, shape, strides = np.dtype(dtype), tuple(int(s) for s in shape), tuple(int(s) for s in strides)
        return cls(dtype, shape, strides, c_contiguous(shape, strides, dtype.itemsize))

    def view(self, shape, strides, update_c: bool) -> Layout:
        """CuPy's ``_view``: the flag recomputed with `update_c`, else kept."""
        shape, strides = tuple(shape), tuple(strides)
        flag = c_contiguous(shape, strides, self.dtype.itemsize) if update_c else self.c_contiguous
        return Layout(self.dtype, shape, strides, flag)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def f_contiguous(self) -> bool:
        return c_contiguous(self.shape[::-1], self.strides[::-1], self.dtype.itemsize)

    def describe(self) -> str:
        return f"{self.dtype.name} {len(self.shape)}-d {'contiguous' if self.c_contiguous else 'strided'}"


def c_contiguous(shape, strides, itemsize: int) -> bool:
    """CuPy's C-contiguity: axes of length 1 are ignored, an empty array is contiguous."""
    if 0 in shape:
        return True
    expected = itemsize
    for extent, stride in zip(reversed(shape), reversed(strides)):
        if extent != 1:
            if stride != expected:
                return False
            expected *= extent
    return True


def broadcast(layouts: list[Layout | None], shape: tuple[int, ...]) -> list[Layout | None]:
    """CuPy's ``_broadcast_core``: each array viewed with `shape` (stride 0 along the axes it is broadcast on)."""
    out: list[Layout | None] = []
    for a in layouts:
        if a is None or a.shape == shape:
            out.append(a)
            continue
        offset = len(shape) - len(a.shape)
        strides = [0] * offset + [0 if e == 1 and s != 1 else st
                                  for e, s, st in zip(a.shape, shape[offset:], a.strides)]
        out.append(a.view(shape, strides, update_c=True))
    return out


def reduced_dims(shape, strides) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """CuPy's ``internal.get_reduced_dims``: drop length-1 axes, merge axes whose strides chain."""
    if 0 in shape:
        return (0,), (0,)
    new_shape: list[int] = []
    new_strides: list[int] = []
    for extent, stride in zip(shape, strides):
        if extent == 1:
            continue
        if new_shape and new_strides[-1] == extent * stride:
            new_shape[-1] *= extent
            new_strides[-1] = stride
        else:
            new_shape.append(extent)
            new_strides.append(stride)
    return tuple(new_shape), tuple(new_strides)


def reduced_view(a: Layout) -> Layout:
    """CuPy's ``ndarray.reduced_view()``: the array with the fewest axes (contiguous: 1-d)."""
    if len(a.shape) <= 1:
        return a
    if a.c_contiguous:
        return a.view((a.size,), (a.dtype.itemsize,), update_c=False)
    shape, strides = reduced_dims(a.shape, a.strides)
    if len(shape) == len(a.shape):
        return a
    return a.view(shape, strides, update_c=False)


def reduce_dims(args: list[Layout | None], shape: tuple[int, ...]) -> tuple[list[Layout | None], tuple[int, ...]]:
    """CuPy's ``_reduce_dims`` over a kernel's arguments (None: a scalar): the views and the loop's shape."""
    if len(shape) <= 1 or not args:
        return args, shape
    if len(args) == 1:
        a = args[0]
        if a is None:
            return args, shape
        view = reduced_view(a)
        return ([view], view.shape) if view is not a else (args, shape)
    arrays = [i for i, a in enumerate(args) if a is not None]
    strided = [i for i in arrays if not args[i].c_contiguous]  # type: ignore[union-attr]
    if not arrays:
        return args, shape
    out = list(args)
    if not strided:  # all contiguous: one axis
        for i in arrays:
            a = args[i]
            assert a is not None
            out[i] = a.view((a.size,), (a.dtype.itemsize,), update_c=False)
        return out, (args[arrays[0]].size,)  # type: ignore[union-attr]
    if len(shape) == 2:
        return args, shape
    extents, axes, last = list(shape), [], -1
    for ax in range(len(shape)):
        if extents[ax] == 1:
            continue
        if last < 0:
            last = ax
            continue
        if any(args[i].strides[ax] * extents[ax] != args[i].strides[last] for i in strided):  # type: ignore[union-attr]
            axes.append(last)
        else:
            extents[ax] *= extents[last]
        last = ax
    if last >= 0:
        axes.append(last)
    if len(axes) == len(shape):
        return args, shape
    new_shape = tuple(extents[ax] for ax in axes)
    for i in arrays:
        a = args[i]
        assert a is not None
        out[i] = a.view(new_shape, tuple(a.strides[ax] for ax in axes), update_c=False)
    return out, new_shape


# ----------------------------------------------------------------------------- kernel parameters and forms
@dataclass(frozen=True)
class Param:
    """One parameter of a kernel's signature: ``[raw] type name``; type is a dtype name or a type variable."""

    ctype: str
    name: str
    raw: bool = False


def params(spec: str) -> list[Param]:
    """'T x, raw float32 y' -> [Param('T', 'x'), Param('float32', 'y', raw=True)]."""
    out = []
    for item in filter(None, (s.strip() for s in spec.split(","))):
        words = item.split()
        out.append(Param(words[-2], words[-1], "raw" in words[:-2]))
    return out


def _is_typevar(ctype: str) -> bool:
    return len(ctype) == 1


def _scalar(dtype) -> str:
    return f"{np.dtype(dtype).name} scalar"


def _fresh(dtype, shape) -> Layout:
    """A new C-ordered array (what CuPy allocates for an output not passed in)."""
    dtype = np.dtype(dtype)
    return Layout.of(dtype, shape, tuple(dtype.itemsize * math.prod(shape[i + 1:]) for i in range(len(shape))))


def _types(in_params: list[Param], out_params: list[Param], ins: list, outs: list) -> dict[str, np.dtype]:
    """CuPy's ``_decide_params_type``: each type variable's dtype, from the output arrays first, then the inputs'."""
    types: dict[str, np.dtype] = {}
    for p, a in list(zip(out_params, outs)) + list(zip(in_params, ins)):
        if isinstance(a, Layout) and _is_typevar(p.ctype):
            types.setdefault(p.ctype, a.dtype)
    return types


def _dtype_of(p: Param, types: dict[str, np.dtype]) -> np.dtype:
    if _is_typevar(p.ctype):
        if p.ctype not in types:
            raise TypeError(f"the type of parameter {p.name!r} ({p.ctype}) is not set by any array argument")
        return types[p.ctype]
    return np.dtype(p.ctype)


def elementwise_form(in_spec: str, out_spec: str, ins: list, outs: list) -> list[str] | None:
    """The form CuPy compiles an ``ElementwiseKernel(in_spec, out_spec, ...)`` in for these arguments
    (`Layout` for an array, anything else for a scalar); None when the call launches nothing (no elements)."""
    in_params, out_params = params(in_spec), params(out_spec)
    ins = [a if isinstance(a, Layout) else None for a in ins]
    outs = [a if isinstance(a, Layout) else None for a in outs]
    types = _types(in_params, out_params, ins, outs)
    loop = [a for p, a in zip(in_params + out_params, ins + outs) if a is not None and not p.raw]
    shape = tuple(np.broadcast_shapes(*[a.shape for a in loop]))
    if not any(outs):
        outs = [_fresh(_dtype_of(p, types), shape) for p in out_params]
    if 0 in shape:
        return None
    args = broadcast(ins + outs, shape)
    args, shape = reduce_dims(args, shape)
    return [a.describe() if a is not None else _scalar(_dtype_of(p, types))
            for p, a in zip(in_params + out_params, args)]


def cub_layout(a: Layout, reduce_axis: tuple[int, ...], out_axis: tuple[int, ...]) -> str | None:
    """CuPy's ``_can_use_cub_block_reduction`` but for sizes: "full" or "segmented" where the input is
    contiguous along the reduced axes (C order: the last ones; F order: the first), else None. CuPy takes
    CUB when the reduced axes also hold at least ``_CUB_REDUCE_SIZE_THRESHOLD`` (128) elements, which a
    form leaves open: the compile script compiles both kernels for such a form."""
    ndim, k = len(a.shape), len(reduce_axis)
    if ndim == 0:
        return None
    if a.f_contiguous:
        ok = tuple(sorted(reduce_axis)) == tuple(range(k))
    elif a.c_contiguous:
        ok = tuple(sorted(reduce_axis)) == tuple(range(ndim - k, ndim))
    else:
        ok = False
    if not ok or math.prod(a.shape[i] for i in reduce_axis) == 0:
        return None
    return "full" if not out_axis else "segmented"


def reduction_axes(ndim: int, axis) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """CuPy's ``_get_axis``: the reduced axes (sorted) and the kept ones."""
    if axis is None:
        reduce_axis: tuple[int, ...] = tuple(range(ndim))
    else:
        axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
        reduce_axis = tuple(sorted(int(ax) % ndim for ax in axes))
    return reduce_axis, tuple(ax for ax in range(ndim) if ax not in reduce_axis)


def reduction_out_shape(shape: tuple[int, ...], axis, keepdims: bool) -> tuple[int, ...]:
    """The shape of a reduction's result."""
    reduce_axis, out_axis = reduction_axes(len(shape), axis)
    return tuple(1 if ax in reduce_axis else e for ax, e in enumerate(shape)) if keepdims else \
        tuple(shape[ax] for ax in out_axis)


def reduction_form(in_spec: str, out_spec: str, ins: list, axis, keepdims: bool) -> dict[str, Any] | None:
    """The form CuPy compiles a ``ReductionKernel(in_spec, out_spec, ...)`` in for one input array reduced
    over `axis`; None when it launches nothing (an empty output)."""
    in_params, out_params = params(in_spec), params(out_spec)
    if len(ins) != 1 or not isinstance(ins[0], Layout) or len(out_params) != 1:
        raise NotImplementedError("kernel forms: only reductions of one array into one output are emulated")
    a = ins[0]
    ndim = len(a.shape)
    reduce_axis, out_axis = reduction_axes(ndim, axis)
    if len(out_axis) <= 1 and not a.c_contiguous:  # CuPy sorts the axes by decreasing stride
        reduce_axis = tuple(sorted(reduce_axis, key=lambda ax: -abs(a.strides[ax])))
        out_axis = tuple(sorted(out_axis, key=lambda ax: -abs(a.strides[ax])))
    out_shape = (tuple(1 if ax in reduce_axis else e for ax, e in enumerate(a.shape)) if keepdims
                 else tuple(a.shape[ax] for ax in out_axis))
    types = _types(in_params, out_params, [a], [])
    out = _fresh(_dtype_of(out_params[0], types), out_shape)
    if out.size == 0:
        return None
    index = "int64" if a.size // max(out.size, 1) > _INT32_MAX else "int32"
    cub = cub_layout(a, reduce_axis, out_axis)
    permute = reduce_axis + out_axis
    if permute != tuple(range(ndim)):
        a = a.view(tuple(a.shape[ax] for ax in permute), tuple(a.strides[ax] for ax in permute), update_c=True)
    (a,), _ = reduce_dims([a], a.shape)  # type: ignore[assignment]
    (out,), _ = reduce_dims([out], out.shape)  # type: ignore[assignment]
    return {"in": [a.describe()], "out": [out.describe()], "index": index, "cub": cub}


# ----------------------------------------------------------------------------- the list, recorded and checked
class FormMissing(AssertionError):
    """A kernel was called in a form the committed list lacks (so the compile script would not compile it)."""


def _key(form) -> str:
    return json.dumps(form, sort_keys=True)


def layout(arg) -> Layout | None:
    """An array argument's `Layout` (anything with dtype, shape and strides but a NumPy scalar); None for a scalar."""
    if isinstance(arg, np.generic) or not hasattr(arg, "strides"):
        return None
    return Layout.of(arg.dtype, arg.shape, arg.strides)


class FormLog:
    """Records the forms of minigrad's kernels (`record`), or checks them against the list at `path`.

    The stand-in's ``ElementwiseKernel`` and ``ReductionKernel`` report each call of a kernel named in
    `minigrad.kernels.registry` (others are ignored) while ``cupy_standin.observe_kernel_forms(log)`` is set.
    """

    def __init__(self, path: str = FORMS_PATH, record: bool = False):
        from minigrad.kernels import registry

        self.path, self.record = path, record
        self.names = set(registry())
        self.seen: dict[str, dict[str, Any]] = {}
        self.listed: dict[str, set[str]] = {}
        if not record:
            self.listed = {name: {_key(f) for f in forms} for name, forms in load(path)["forms"].items()}

    def elementwise(self, name: str, in_spec: str, out_spec: str, ins, outs) -> None:
        if name in self.names:
            self.observe(name, elementwise_form(in_spec, out_spec, [layout(a) for a in ins],
                                                [layout(a) for a in outs]))

    def reduction(self, name: str, in_spec: str, out_spec: str, ins, axis, keepdims: bool) -> None:
        if name in self.names:
            self.observe(name, reduction_form(in_spec, out_spec, [layout(a) for a in ins], axis, keepdims))

    def observe(self, name: str, form) -> None:
        """Add `form` of kernel `name` (None: the call launched nothing); unless recording, raise `FormMissing`
        when the list lacks it."""
        if form is None:
            return
        key = _key(form)
        self.seen.setdefault(name, {})[key] = form
        if not self.record and key not in self.listed.get(name, ()):
            raise FormMissing(
                f"CUDA kernel {name} was called in a form missing from {os.path.relpath(self.path)}: {key}. "
                f"scripts/compile_cuda_kernels.py compiles only the listed forms; record them again with "
                f"`{REGENERATE}` and commit the list")

    def save(self) -> None:
        forms = {name: sorted(by_key.values(), key=_key) for name, by_key in sorted(self.seen.items())}
        with open(self.path + ".tmp", "w") as f:
            json.dump({"regenerate": REGENERATE, "forms": forms}, f, indent=1, sort_keys=True)
            f.write("\n")
        os.replace(self.path + ".tmp", self.path)


def load(path: str = FORMS_PATH) -> dict[str, Any]:
    """The committed list: ``{"forms": {kernel name: [form, ...]}}``."""
    with open(path) as f:
        return json.load(f)
