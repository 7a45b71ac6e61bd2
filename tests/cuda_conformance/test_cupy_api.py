"""minigrad's CUDA path against real CuPy 14.2, without a GPU (run by .ci/run in the CuPy environment).

Not part of the project's test run (tests/conftest.py ignores this folder, and CuPy is not installed
there): ``.venv-cuda/bin/python -m pytest --noconftest -p no:cacheprovider tests/cuda_conformance``.
Without CuPy these tests fail at import, never skip.

- Every ``xp.``/``cp.``/``cupy.``/``cupyx.`` attribute chain in minigrad and wgan (found on the AST,
  ``self._cp`` and ``self._xp`` and ``array_module(...).`` included) resolves on real CuPy.
- The capture API's calls in minigrad/cuda.py bind to the real signatures.
- The CuPy stand-in offers nothing real CuPy lacks, apart from its own test helpers.
- `minigrad.testing.kernel_forms` computes the same layouts and forms as CuPy's own code, and the
  arguments scripts/compile_cuda_kernels.py builds from a form give the CUDA source CuPy itself
  generates for a call of that form.
"""
from __future__ import annotations

import ast
import inspect
import os
import sys
import types
from pathlib import Path

import cupy
import cupyx
import numpy as np
import pytest
from cupy._core import _cub_reduction, _reduction
from cupy.cuda import compiler, memory

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

import compile_cuda_kernels as script  # noqa: E402

from minigrad.testing import cupy_standin, kernel_forms  # noqa: E402

#: the stand-in's own test helpers, which CuPy does not have
STANDIN_HELPERS = {"record", "install", "Record", "Event", "is_standin", "observe_kernel_forms"}
SOURCES = [p for d in ("minigrad", "wgan") for p in sorted((ROOT / d).rglob("*.py")) if "testing" not in p.parts]


# ----------------------------------------------------------------------------- attribute chains
def _chain(node: ast.Attribute) -> tuple[str, list[str]] | None:
    """('cupy' | 'cupyx', [attr, ...]) for an attribute chain on the array module, else None."""
    attrs = []
    while isinstance(node, ast.Attribute):
        attrs.append(node.attr)
        node = node.value  # type: ignore[assignment]
    attrs.reverse()
    if isinstance(node, ast.Name) and node.id in ("xp", "cp", "cupy", "cupyx"):
        return ("cupyx" if node.id == "cupyx" else "cupy"), attrs
    if isinstance(node, ast.Name) and node.id == "self" and attrs[0] in ("_cp", "_xp"):
        return "cupy", attrs[1:]
    if isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name in ("array_module", "xp_for"):
            return "cupy", attrs
    return None


def attribute_chains() -> dict[tuple[str, str], list[str]]:
    """{(module, dotted chain): [file:line, ...]} over minigrad and wgan (the longest chain at each site)."""
    found: dict[tuple[str, str], list[str]] = {}
    for path in SOURCES:
        tree = ast.parse(path.read_text(), str(path))
        inner = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and id(node) not in inner:
                chain = _chain(node)
                if chain is not None and chain[1]:
                    site = f"{path.relative_to(ROOT)}:{node.lineno}"
                    found.setdefault((chain[0], ".".join(chain[1])), []).append(site)
    return found


def _resolve(module, dotted: str):
    obj = module
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def test_the_chains_are_found():
    chains = attribute_chains()
    assert ("cupy", "cuda.Stream") in chains and ("cupyx", "scatter_add") in chains
    assert ("cupy", "ElementwiseKernel") in chains and ("cupy", "RawModule") in chains
    assert len(chains) > 50, sorted(chains)


def test_every_array_module_attribute_resolves_on_real_cupy():
    missing = []
    for (module, dotted), sites in sorted(attribute_chains().items()):
        try:
            _resolve(cupy if module == "cupy" else cupyx, dotted)
        except AttributeError:
            missing.append(f"{module}.{dotted} (used at {', '.join(sites[:3])})")
    assert not missing, f"attributes real CuPy {cupy.__version__} lacks:\n" + "\n".join(missing)


# ----------------------------------------------------------------------------- the capture API's signatures
def signature(obj) -> inspect.Signature:
    """inspect's signature, or one parsed from the first docstring line Cython embeds (``f(self, size_t size)``)."""
    try:
        return inspect.signature(obj)
    except (TypeError, ValueError):
        line = (obj.__doc__ or "").strip().splitlines()[0]
        params = line[line.index("(") + 1:line.rindex(")")]
        names = ", ".join(p.split("=")[0].split()[-1] + ("=" + p.split("=", 1)[1] if "=" in p else "")
                          for p in filter(None, (q.strip() for q in params.split(","))))
        code = compile(f"def f({names}): pass", "<signature>", "exec")
        namespace: dict = {}
        exec(code, {}, namespace)
        return inspect.signature(namespace["f"])


#: every call minigrad/cuda.py makes on the capture API: (object, args, kwargs); `self` is bound by a placeholder
CAPTURE_CALLS = [
    (cupy.cuda.Stream, (), {"non_blocking": True}),
    (cupy.cuda.Stream.begin_capture, ("self",), {}),
    (cupy.cuda.Stream.end_capture, ("self",), {}),
    (cupy.cuda.Stream.is_capturing, ("self",), {}),
    (cupy.cuda.Stream.record, ("self",), {}),
    (cupy.cuda.Stream.wait_event, ("self", "event"), {}),
    (cupy.cuda.Graph.launch, ("self",), {}),
    (cupy.cuda.MemoryPool, (), {}),
    (cupy.cuda.MemoryPool.malloc, ("self", 256), {}),
    (cupy.cuda.using_allocator, ("pool.malloc",), {}),
    (cupy.cuda.get_current_stream, (), {}),
]


@pytest.mark.parametrize("obj,args,kwargs", CAPTURE_CALLS, ids=lambda v: getattr(v, "__qualname__", None))
def test_the_capture_calls_bind_to_real_cupy(obj, args, kwargs):
    signature(obj).bind(*args, **kwargs)


def test_cuda_py_makes_only_the_capture_calls_checked_here():
    """The capture API's calls in minigrad/cuda.py (on cp.cuda, the stream and the graph) are those above."""
    tree = ast.parse((ROOT / "minigrad" / "cuda.py").read_text())
    called = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            chain = _chain(node.func)
            if chain is not None and chain[1][0] == "cuda":
                called.add(chain[1][-1])
            elif node.func.attr in ("begin_capture", "end_capture", "is_capturing", "launch", "wait_event", "record"):
                called.add(node.func.attr)
    checked = {getattr(obj, "__name__", "") for obj, _, _ in CAPTURE_CALLS}
    assert called <= checked, f"calls in minigrad/cuda.py not checked here: {called - checked}"


# ----------------------------------------------------------------------------- the stand-in offers no more than CuPy
def _public(obj) -> set[str]:
    return {n for n in vars(obj) if not n.startswith("_")} if hasattr(obj, "__dict__") else set()


def standin_surface() -> list[tuple[str, object, object]]:
    """(dotted name, stand-in object, real counterpart or None) for everything the stand-in defines itself."""
    pairs: list[tuple[str, object, object]] = []
    own = cupy_standin.__name__
    module_names = {n for n, v in vars(cupy_standin).items()
                    if not n.startswith("_") and getattr(v, "__module__", own) == own
                    and not isinstance(v, types.ModuleType) and n not in STANDIN_HELPERS and n != "annotations"}
    module_names |= {"cuda", "linalg", "random", "lib", "cupyx", "newaxis"}
    for name in sorted(module_names):
        real = cupyx if name == "cupyx" else getattr(cupy, name, _MISSING)
        pairs.append((name, getattr(cupy_standin, name), real))
    return pairs


def _members(obj) -> set[str]:
    if isinstance(obj, types.SimpleNamespace) or isinstance(obj, types.ModuleType):
        return {n for n in vars(obj) if not n.startswith("_")}
    if isinstance(obj, type):
        return {n for k in obj.__mro__ if k is not object for n in vars(k) if not n.startswith("_")}
    return set()


_MISSING = object()


def missing_from_cupy() -> list[str]:
    out = []
    stack = [(name, standin, real) for name, standin, real in standin_surface()]
    while stack:
        name, standin, real = stack.pop()
        if real is _MISSING:
            out.append(name)
            continue
        for member in sorted(_members(standin)):
            sub = getattr(standin, member)
            real_sub = getattr(real, member, _MISSING)
            if real_sub is _MISSING:
                out.append(f"{name}.{member}")
            elif isinstance(sub, (types.SimpleNamespace, type)):
                stack.append((f"{name}.{member}", sub, real_sub))
    return sorted(out)


def test_the_standin_offers_nothing_real_cupy_lacks():
    extra = missing_from_cupy()
    assert not extra, (f"the CuPy stand-in (minigrad/testing/cupy_standin.py) offers what real CuPy {cupy.__version__} "
                       f"lacks, so code tested on it could fail on a GPU:\n" + "\n".join(extra))


def test_the_surface_covers_the_standin_classes():
    names = {name for name, _, _ in standin_surface()}
    assert {"ndarray", "ElementwiseKernel", "ReductionKernel", "RawModule", "RawKernel", "cuda", "random"} <= names


# ----------------------------------------------------------------------------- kernel forms against CuPy's own code
def fake_alloc(size: int):
    """Device memory that is never touched: a pointer CuPy's code generators accept without a GPU."""
    return memory.MemoryPointer(memory.UnownedMemory(1 << 32, max(int(size), 1), None, device_id=0), 0)


def fake(shape, dtype=np.float32, strides=None):
    dtype = np.dtype(dtype)
    span = max(int(np.prod(shape)), 1) * dtype.itemsize * 4
    return cupy.ndarray(shape, dtype, memptr=fake_alloc(span), strides=strides)


def layout(a) -> kernel_forms.Layout:
    return kernel_forms.Layout(a.dtype, tuple(a.shape), tuple(a.strides), bool(a.flags.c_contiguous))


#: arrays in many layouts: contiguous, transposed, sliced, with length-1 axes, broadcast
LAYOUTS = [
    lambda: fake((5,)), lambda: fake((4, 3)), lambda: fake((4, 3)).T, lambda: fake((4, 6))[:, ::2],
    lambda: fake((1, 3)), lambda: fake((4, 1, 3)), lambda: fake((2, 3, 4)), lambda: fake((2, 3, 4)).transpose(1, 0, 2),
    lambda: fake((2, 3, 4))[:, 1:, :], lambda: fake((2, 3, 4, 5)).transpose(0, 2, 3, 1), lambda: fake(()),
    lambda: fake((3, 4, 5))[::2], lambda: fake((6, 1, 5))[:, :, 1:],
]


@pytest.mark.parametrize("make", LAYOUTS)
def test_contiguity_and_reduced_view_agree_with_cupy(make):
    a = make()
    emulated = layout(a)
    assert emulated.c_contiguous == kernel_forms.c_contiguous(a.shape, a.strides, a.itemsize)
    assert emulated.f_contiguous == bool(a.flags.f_contiguous)
    view, want = kernel_forms.reduced_view(emulated), a.reduced_view()
    assert (view.shape, view.strides, view.c_contiguous) == (want.shape, want.strides, want.flags.c_contiguous)


@pytest.mark.parametrize("shape,target", [((3,), (4, 3)), ((4, 1), (4, 3)), ((1, 3), (2, 4, 3)), ((), (2, 3)),
                                          ((2, 1, 5), (2, 4, 5))])
def test_broadcast_agrees_with_cupy(shape, target):
    a = fake(shape)
    (view,) = kernel_forms.broadcast([layout(a)], target)
    want = cupy.broadcast_to(a, target)
    assert (view.shape, view.c_contiguous) == (want.shape, want.flags.c_contiguous)
    assert [s for s, e in zip(view.strides, target) if e != 1] == [s for s, e in zip(want.strides, target) if e != 1]


class Captured(Exception):
    pass


#: CuPy's compiled-function lookups (memoized per device; ``__wrapped__`` is the code path itself)
SIMPLE_REDUCTION = _reduction._ReductionKernel_get_cached_function
CUB_REDUCTION = _cub_reduction._SimpleCubReductionKernel_get_cached_function


@pytest.fixture
def capture(monkeypatch):
    """Stop CuPy's reduction at the compiled-function lookup and return what it was asked for: (path, args)."""
    def stop(path):
        def lookup(*args):
            raise Captured(path, args)
        return lookup

    monkeypatch.setattr(_reduction, "_ReductionKernel_get_cached_function", stop("reduction"))
    monkeypatch.setattr(_cub_reduction, "_SimpleCubReductionKernel_get_cached_function", stop("cub"))
    previous = memory._get_thread_local_allocator() if hasattr(memory, "_get_thread_local_allocator") else None
    cupy.cuda.set_allocator(fake_alloc)  # CUB's two-pass reduction allocates its workspace first
    yield
    cupy.cuda.set_allocator(previous)


def run_reduction(kernel, arrays, axis, keepdims=False, try_cub=True, sort_axes=True):
    shape = arrays[0].shape
    out_shape = kernel_forms.reduction_out_shape(shape, axis, keepdims)
    out = fake(out_shape, kernel.out_params[0].dtype or arrays[0].dtype)
    try:
        kernel._call(list(arrays), [out], shape, axis, None, keepdims, True, 0, None, try_cub, sort_axes)
    except Captured as captured:
        return captured.args
    raise AssertionError("the reduction launched nothing")


@pytest.mark.parametrize("arrays", [
    lambda: [fake((4, 3, 5)), fake((4, 3, 5))],
    lambda: [fake((4, 3)), cupy.broadcast_to(fake((3,)), (4, 3)), fake((4, 3))],
    lambda: [fake((2, 3, 4)), cupy.broadcast_to(fake((3, 1)), (2, 3, 4)), fake((2, 3, 4))],
    lambda: [fake((3, 2, 4)), fake((2, 3, 4)).transpose(1, 0, 2)],
    lambda: [fake((2, 3, 4, 5)), cupy.broadcast_to(fake((1, 3, 1, 1)), (2, 3, 4, 5))],
    lambda: [fake((6, 5))[::2], fake((3, 5))],
    lambda: [fake((1, 3, 1)), fake((1, 3, 1))],
    lambda: [fake(()), fake(())],
    lambda: [fake((7,)), cupy.broadcast_to(fake(()), (7,))],
])
def test_reduce_dims_of_many_arrays_agrees_with_cupy(capture, arrays):
    """An elementwise kernel's arrays are merged by CuPy's ``_reduce_dims``, which a reduction over every axis
    also applies to its inputs: compare the emulation with what that reduction hands its code generator."""
    arrays = arrays()
    names = ", ".join(f"T p{i}" for i in range(len(arrays)))
    probe = cupy.ReductionKernel(names, "T out", "p0", "a + b", "out = a", "0", name="probe")
    path, args = run_reduction(probe, arrays, None, try_cub=False, sort_axes=False)
    arginfos = args[3]
    layouts, shape = kernel_forms.reduce_dims([layout(a) for a in arrays], tuple(arrays[0].shape))
    got = [(a.ndim, a.c_contiguous) for a in arginfos[:len(arrays)]]
    want = [(len(a.shape), a.c_contiguous) for a in layouts]
    assert got == want and arginfos[len(arrays) + 1].ndim == len(shape)


def source_of(fn, args) -> str:
    """The CUDA source `fn` (a memoized CuPy code path) compiles for `args`: stopped at CuPy's compile call."""
    original = compiler._compile_module_with_cache

    def stop(source, *a, **k):
        raise Captured(source)

    compiler._compile_module_with_cache = stop
    try:
        fn.__wrapped__(*args)
    except Captured as captured:
        return captured.args[0]
    finally:
        compiler._compile_module_with_cache = original
    raise AssertionError("nothing was compiled")


REDUCTION_CASES = [
    ((4, 3, 5), None, False), ((4, 3, 5), (1, 2), False), ((4, 3, 5), 0, True), ((7,), None, False),
    ((64, 2), 1, False), ((300,), None, False), ((64, 300), 1, False), ((3000, 4), 0, False),
    ((4, 5, 6, 7), (1, 2, 3), False), ((6, 200), (1,), True), ((5, 4, 3), (0, 2), False), ((), None, False),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("shape,axis,keepdims", REDUCTION_CASES)
def test_reduction_forms_give_cupys_own_source(capture, shape, axis, keepdims, transpose, dtype):
    """The form `kernel_forms.reduction_form` computes, built into arguments by the compile script, gives the
    CUDA source CuPy generates for the call itself (simple reduction or CUB, whichever CuPy takes)."""
    family = script.kernels.registry()["minigrad_sample_norms"]
    member = family(*family.examples[0])
    spec = dict(zip(("in_params", "out_params", "map_expr", "reduce_expr", "post_map_expr", "identity"), member.spec))
    x = fake(shape[::-1], dtype).T if transpose else fake(shape, dtype)
    path, args = run_reduction(cupy.ReductionKernel(**spec, name=member.name), [x], axis, keepdims)
    form = kernel_forms.reduction_form(spec["in_params"], spec["out_params"], [layout(x)], axis, keepdims)
    if path == "reduction":
        unit = script.Unit("reduction", member.name, spec, form, family.examples[0])
        built = script.reduction_call(unit)
        assert source_of(SIMPLE_REDUCTION, built) == source_of(SIMPLE_REDUCTION, args)
    else:
        assert form["cub"] is not None, f"CuPy took CUB for {shape} {axis}, the form says it cannot"
        cub_pass = "pass1" if args[7].endswith("_pass1") else "one pass"
        assert (cub_pass == "pass1") == (form["cub"] == "full")
        unit = script.Unit("cub", member.name, spec, None, family.examples[0],
                           dict(dtype=np.dtype(dtype).name, cub_pass=cub_pass, block_size=args[8], index="int32"))
        assert source_of(CUB_REDUCTION, script.cub_call(unit)) == source_of(CUB_REDUCTION, args)


def test_the_listed_forms_name_registered_kernels():
    listed = kernel_forms.load()["forms"]
    assert set(listed) <= set(script.kernels.registry())
    assert os.path.exists(kernel_forms.FORMS_PATH)
