"""Compile every CUDA kernel minigrad can launch, with CuPy's own code generators and NVRTC, without a GPU.

    python scripts/compile_cuda_kernels.py [--arch 90] [--nvcc] [--jobs N]   # a CuPy environment (below)
    python scripts/compile_cuda_kernels.py --device                          # on a GPU: its own arch, unpatched
    python scripts/compile_cuda_kernels.py --list                            # what it would compile (no CuPy)

What it compiles: every kernel in `minigrad.kernels.registry` (each `Kernel`, `Reduction` and
`RawModule`, and each `ReductionFamily` at its representative literals), in every argument form the
CUDA-marked tests use (`minigrad/testing/cuda_kernel_forms.json`, recorded on the CuPy stand-in;
a kernel no test calls is compiled in default forms: every argument a contiguous 1-d array). Each
form whose type variable is float32 is compiled in float64 too. A reduction that CuPy may hand to CUB
(input contiguous along the reduced axes: see `minigrad.testing.kernel_forms.cub_layout`) is also
compiled as CUB's block reduction (one pass, or both passes of a full reduction) at the smallest
and largest block sizes CuPy picks (32 and 512; ``--cub-block-sizes`` for others), at a family's
first literals (its other literals only change a constant, compiled in the simple reduction).

How: the CUDA source is CuPy 14.2's own (``_get_elementwise_kernel``, the reduction and CUB-reduction
code paths, ``RawModule``), compiled through CuPy's own compile path (``compile_with_cache`` ->
``cupy.cuda.compiler``) by NVRTC from the ``nvidia-cuda-nvrtc`` wheel, for ``--arch`` (sm_90 by
default). Without a GPU CuPy cannot ask the device for its arch nor load a module, so the script
patches exactly those (see `patch_cupy`); with ``--device`` (on a GPU) nothing is patched, the arch
is the device's, and each compiled module is loaded by the driver. A RawModule (minigrad's own C)
fails on an NVRTC warning too, and must define each of its RawKernels; ``--nvcc`` also compiles it with
nvcc (``-Werror all-warnings``). Compiles run in ``--jobs`` processes; the kernel
cache is kept in memory, so every kernel is compiled afresh.

Exit status: 0 when everything compiled; 1 on any compile error, printed with the kernel's name, its
form and the compiler's message; 2 when CuPy cannot be imported. ``--with-broken-kernel`` registers
a deliberately broken kernel first (the negative control: the run must fail naming it).

The patched functions are private to CuPy: the CuPy environment pins cupy-cuda13x and
nvidia-cuda-nvrtc (scripts/cuda_requirements.txt; `scripts/cuda_venv.sh DIR` makes one).
"""
from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import types
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from minigrad import kernels  # noqa: E402
from minigrad.testing import kernel_forms  # noqa: E402

#: CuPy's block sizes for CUB's block reduction lie in [32, 512] (``_get_cub_block_specs``)
CUB_BLOCK_SIZES = (32, 64, 128, 256, 512)
CUB_ITEMS_PER_THREAD = 4
#: CuPy's block size of its simple reduction kernel (``_default_block_size``, no optimizer context)
REDUCTION_BLOCK_SIZE = 512
BROKEN_NAME = "minigrad_negative_control"


# ----------------------------------------------------------------------------- what to compile
@dataclass
class Unit:
    """One CUDA source to compile: `kind` elementwise, reduction, cub or raw, for kernel `name`."""

    kind: str
    name: str
    spec: dict
    form: object = None
    literals: tuple = ()
    extra: dict = field(default_factory=dict)

    def label(self) -> str:
        literal = f" literals {self.literals}" if self.literals else ""
        extra = "".join(f" {k} {v}" for k, v in self.extra.items())
        form = f" form {json.dumps(self.form)}" if self.form is not None else ""
        return f"{self.kind} {self.name}{literal}{extra}{form}"


def _typevar_forms(form, params, dtype_from: str, dtype_to: str):
    """`form` with each argument typed by a type variable in `dtype_from` turned to `dtype_to` (None: none is)."""
    out, changed = [], False
    for arg, p in zip(form, params):
        if kernel_forms._is_typevar(p.ctype) and arg.startswith(dtype_from + " "):
            arg, changed = dtype_to + arg[len(dtype_from):], True
        out.append(arg)
    return out if changed else None


def _default_forms(params) -> list[list[str]]:
    dtypes = ("float32", "float64")
    return [[f"{p.ctype if not kernel_forms._is_typevar(p.ctype) else dtype} 1-d contiguous" for p in params]
            for dtype in dtypes]


def elementwise_units(kernel: kernels.Kernel, forms: list) -> list[Unit]:
    params = kernel_forms.params(kernel.in_params) + kernel_forms.params(kernel.out_params)
    forms = list(forms) or _default_forms(params)
    keys = {json.dumps(f) for f in forms}
    for form in list(forms):
        wider = _typevar_forms(form, params, "float32", "float64")
        if wider is not None and json.dumps(wider) not in keys:
            keys.add(json.dumps(wider))
            forms.append(wider)
    spec = dict(in_params=kernel.in_params, out_params=kernel.out_params, operation=kernel.operation)
    return [Unit("elementwise", kernel.name, spec, form) for form in forms]


def _reduction_members(kernel) -> list[tuple[tuple, kernels.Reduction]]:
    if isinstance(kernel, kernels.ReductionFamily):
        return [(literals, kernel(*literals)) for literals in kernel.examples]
    return [((), kernel)]


def reduction_units(kernel, forms: list, block_sizes) -> list[Unit]:
    members = _reduction_members(kernel)
    in_spec, out_spec = members[0][1].spec[:2]
    if not forms:
        forms = [{"in": [f"{dtype} 1-d contiguous"], "out": [f"{dtype} 0-d contiguous"], "index": "int32",
                  "cub": "full"} for dtype in ("float32", "float64")]
    forms = list(forms)
    keys = {json.dumps(f, sort_keys=True) for f in forms}
    for form in list(forms):
        if form["in"][0].startswith("float32 "):
            wider = dict(form, **{side: ["float64" + a[len("float32"):] for a in form[side]] for side in ("in", "out")})
            if json.dumps(wider, sort_keys=True) not in keys:
                keys.add(json.dumps(wider, sort_keys=True))
                forms.append(wider)
    units, cub_done = [], set()
    for literals, member in members:
        spec = dict(zip(("in_params", "out_params", "map_expr", "reduce_expr", "post_map_expr", "identity"),
                        member.spec))
        for form in forms:
            units.append(Unit("reduction", kernel.name, spec, form, literals))
            dtype = form["in"][0].split()[0]
            passes = {"full": ("pass1", "pass2"), "segmented": ("one pass",)}.get(form["cub"], ())
            if literals != members[0][0]:
                passes = ()  # CUB's sources at the first literals (the literals only change a constant)
            for cub_pass in passes:
                # CUB's source depends on the dtype, the pass and the block size, not on the array forms (arrays
                # are void* there)
                for block in block_sizes:
                    key = (dtype, cub_pass, block)
                    if key not in cub_done:
                        cub_done.add(key)
                        units.append(Unit("cub", kernel.name, spec, None, literals,
                                          dict(dtype=dtype, cub_pass=cub_pass, block_size=block,
                                               index=form["index"])))
    return units


def collect(forms_path: str, block_sizes, only=None) -> tuple[list[Unit], list[str]]:
    """Every unit to compile (of the kernels named in `only`, if given), and notes on kernels no test calls."""
    listed = kernel_forms.load(forms_path)["forms"]
    units: list[Unit] = []
    notes = []
    registry = kernels.registry()
    unknown_only = sorted(set(only or ()) - set(registry))
    if unknown_only:
        raise SystemExit(f"compile_cuda_kernels: no kernel named {', '.join(unknown_only)} "
                         f"(registered: {', '.join(registry)})")
    for name, kernel in registry.items():
        if only and name not in only:
            continue
        forms = listed.get(name, [])
        if isinstance(kernel, kernels.RawModule):
            units.append(Unit("raw", name, dict(source=kernel.source, functions=list(kernel.functions))))
            continue
        if not forms:
            notes.append(f"note: no CUDA-marked test calls {name}; compiled in default forms")
        if isinstance(kernel, kernels.Kernel):
            units += elementwise_units(kernel, forms)
        else:
            units += reduction_units(kernel, forms, block_sizes)
    unknown = sorted(set(listed) - set(kernels.registry()))
    if unknown:
        notes.append(f"note: {forms_path} lists forms of kernels that no longer exist: {', '.join(unknown)}")
    return units, notes


# ----------------------------------------------------------------------------- CuPy, patched for no GPU
def import_cupy(fresh: bool = True):
    """CuPy; with `fresh`, its kernel cache kept in memory, so every kernel is compiled afresh (no cubin from an
    earlier run). Without (--device), CuPy's disk cache is filled as on first use, for the runs that follow."""
    if fresh:
        os.environ["CUPY_CACHE_IN_MEMORY"] = "1"
    import cupy

    return cupy


class _State:
    cubins: list[bytes] = []


def patch_cupy(arch: str) -> None:
    """The two things CuPy cannot do without a GPU, done without one (private CuPy 14.2 functions).

    1. The arch lookup: ``compiler._get_arch`` asks the current device for its compute capability,
       and ``compiler._get_arch_for_options_for_nvrtc`` is memoized per device (it asks for the
       device id). Both are replaced by `arch`; the latter still decides cubin or PTX with CuPy's
       own rule (its unmemoized original, ``__wrapped__``).
    2. The module load: ``compiler._compile_with_cache_cuda`` hands the compiled cubin to
       ``function.Module().load``, which needs the driver. ``compiler.function`` is replaced by a
       namespace whose ``Module`` keeps the cubin instead of loading it.
    Everything else, the code generation and NVRTC's compile, is CuPy's own code.
    """
    from cupy.cuda import compiler, function

    original = compiler._get_arch_for_options_for_nvrtc
    # patch 1, the arch lookup: CuPy asks the device for its compute capability (min'd with NVRTC's newest)
    compiler._get_arch = lambda: arch
    # patch 1, cont.: -arch=sm_XX (cubin) or compute_XX (PTX) by CuPy's own rule, without the per-device memo
    compiler._get_arch_for_options_for_nvrtc = lambda arch_=None: original.__wrapped__(arch_ or arch)

    class LoadOnlyModule(function.Module):
        """A ``function.Module`` that keeps the cubin (no driver call); its functions are empty handles."""

        def load(self, cubin):
            _State.cubins.append(bytes(cubin))

        def _set_mapping(self, mapping):
            pass

        def get_function(self, name):
            return function.Function.__new__(function.Function)

    # patch 2, the module load: compiler.py makes `function.Module()` and loads the cubin into the driver
    compiler.function = types.SimpleNamespace(Module=LoadOnlyModule, Function=function.Function)


def _cupy_internals():
    from cupy._core import _carray, _cub_reduction, _kernel, _reduction, _scalar, raw

    return _kernel, _reduction, _cub_reduction, _scalar, _carray, raw


def _unwrap(fn, patched: bool):
    """A memoized-per-device CuPy function as it is (on a GPU), or its original (no device id to ask for)."""
    return fn.__wrapped__ if patched else fn


def _arginfo(text: str):
    """An ``_ArgInfo`` for a form's argument string (``float32 2-d strided``, ``float32 scalar``)."""
    import cupy
    import numpy as np

    _kernel, _, _, _scalar, _, _ = _cupy_internals()
    words = text.split()
    dtype = np.dtype(words[0])
    if words[1] == "scalar":
        return _kernel._ArgInfo(3, _scalar.CScalar, dtype, 0, True, True)
    return _kernel._ArgInfo(1, cupy.ndarray, dtype, int(words[1].split("-")[0]), words[2] == "contiguous", True)


def _indexer(ndim: int):
    _kernel, _, _, _, _carray, _ = _cupy_internals()
    return _kernel._ArgInfo(2, _carray.Indexer, None, ndim, True, True)


def _ndim(text: str) -> int:
    return 0 if text.split()[1] == "scalar" else int(text.split()[1].split("-")[0])


def elementwise_call(unit: Unit):
    """The arguments CuPy's ``ElementwiseKernel.__call__`` hands ``_get_elementwise_kernel`` for the unit's form."""
    import cupy
    import numpy as np

    _kernel = _cupy_internals()[0]
    ek = cupy.ElementwiseKernel(unit.spec["in_params"], unit.spec["out_params"], unit.spec["operation"], unit.name)
    n_in = ek.nin
    dtypes = [None if a.split()[1] == "scalar" else np.dtype(a.split()[0]) for a in unit.form]  # type: ignore[union-attr]
    _, _, type_map = ek._decide_params_type(tuple(dtypes[:n_in]), tuple(dtypes[n_in:]))
    ndim = max(_ndim(a) for a in unit.form)  # type: ignore[union-attr]
    arginfos = tuple(_arginfo(a) for a in unit.form) + (_indexer(ndim),)  # type: ignore[union-attr]
    return (arginfos, type_map, ek.params, ek.operation, ek.name, ek.preamble), ek.kwargs


def reduction_call(unit: Unit):
    """The arguments CuPy's ``ReductionKernel._call`` hands ``_ReductionKernel_get_cached_function``."""
    import cupy
    import numpy as np

    _kernel = _cupy_internals()[0]
    rk = cupy.ReductionKernel(**unit.spec, name=unit.name)
    form = unit.form
    ins, outs = form["in"], form["out"]  # type: ignore[index]
    type_map = _type_map_plus(rk, [np.dtype(a.split()[0]) for a in ins], (("IndexT", form["index"]),))
    arginfos = (tuple(_arginfo(a) for a in ins + outs) + (_indexer(_ndim(ins[0])), _indexer(_ndim(outs[0])))
                + (_kernel._ArgInfo(3, cupy._core._scalar.CScalar, np.dtype(np.int32), 0, True, True),))
    reduce_type = rk.reduce_type if rk.reduce_type is not None else rk.out_params[0].ctype
    return (len(rk.in_params), len(rk.out_params), rk._params, arginfos, type_map, rk.name, REDUCTION_BLOCK_SIZE,
            reduce_type, rk.identity, rk.map_expr, rk.reduce_expr, rk.post_map_expr, rk.preamble, rk.options)


def _type_map_plus(rk, in_dtypes, extra: tuple):
    """CuPy's type map (its type variables, sorted, from the inputs) with `extra` pairs appended."""
    _kernel = _cupy_internals()[0]
    pairs = {}
    for p, dtype in zip(rk.in_params, in_dtypes):
        if p.dtype is None:
            pairs.setdefault(p.ctype, dtype)
    return _kernel._TypeMap(tuple(sorted(pairs.items())) + tuple(extra))


def cub_call(unit: Unit):
    """The arguments CuPy's CUB path (``_try_to_call_cub_reduction``) hands
    ``_SimpleCubReductionKernel_get_cached_function``: parameters renamed in0/out0 (CuPy's own text replacement),
    the segment and array sizes as int32 scalars; a full reduction's two passes through a workspace pointer."""
    import cupy
    import numpy as np

    _kernel, _, _, _scalar, _, _ = _cupy_internals()
    rk = cupy.ReductionKernel(**unit.spec, name=unit.name)
    dtype = np.dtype(unit.extra["dtype"])
    extra: tuple = (("IndexT", unit.extra["index"]), ("sizeT", "int32"))
    params = rk._params[0:2] + _kernel._get_param_info("int32 _segment_size", True) + \
        _kernel._get_param_info("int32 _array_size", True)
    map_expr, post_map_expr = rk.map_expr, rk.post_map_expr
    old_in, old_out = params[0].name, params[1].name
    if old_in != "in0" or old_out != "out0":  # CuPy's own renaming, by text replacement
        params = _kernel._get_param_info("T in0", True) + _kernel._get_param_info("T out0", False) + params[2:]
        map_expr, post_map_expr = map_expr.replace(old_in, "in0"), post_map_expr.replace(old_out, "out0")
        extra += (("type_in0_raw", dtype.type), ("type_out0_raw", dtype.type))
    type_map = _type_map_plus(rk, [dtype], extra)
    scalar = _kernel._ArgInfo(3, _scalar.CScalar, np.dtype(np.int32), 0, True, True)
    array = _kernel._ArgInfo(1, cupy.ndarray, dtype, 1, True, True)
    pointer = _kernel._ArgInfo(4, cupy.cuda.MemoryPointer, None, 0, True, True)
    reduce_type = rk.reduce_type if rk.reduce_type is not None else rk.out_params[0].ctype
    name, options, arginfos = rk.name, (), (array, array, scalar, scalar)
    if unit.extra["cub_pass"] == "pass1":
        name, options, arginfos = name + "_pass1", ("-DFIRST_PASS=1",), (array, pointer, scalar, scalar)
    elif unit.extra["cub_pass"] == "pass2":
        name, options, arginfos = name + "_pass2", ("-DSECOND_PASS=1",), (pointer, array, scalar, scalar)
        map_expr = "in0"
    return (map_expr, rk.reduce_expr, post_map_expr, reduce_type, params, arginfos, type_map, name,
            unit.extra["block_size"], rk.identity, rk.preamble, options, CUB_ITEMS_PER_THREAD)


# ----------------------------------------------------------------------------- compiling
def compile_unit(unit: Unit, patched: bool, nvcc_arch: str | None) -> dict:
    """Compile one unit; {"ok", "seconds", "error", "bytes"}."""
    import cupy

    _kernel, _reduction, _cub_reduction, _, _, raw = _cupy_internals()
    start, before = time.perf_counter(), len(_State.cubins)
    try:
        if unit.kind == "elementwise":
            args, kwargs = elementwise_call(unit)
            _unwrap(_kernel._get_elementwise_kernel, patched)(*args, **kwargs)
        elif unit.kind == "reduction":
            _unwrap(_reduction._ReductionKernel_get_cached_function, patched)(*reduction_call(unit))
        elif unit.kind == "cub":
            _unwrap(_cub_reduction._SimpleCubReductionKernel_get_cached_function, patched)(*cub_call(unit))
        else:
            module = cupy.RawModule(code=unit.spec["source"])
            log = io.StringIO()
            if patched:
                raw._get_raw_module.__wrapped__(module.code, module.file_path, module.options, module.backend, False,
                                                module.enable_cooperative_groups, False, None, log)
                if log.getvalue().strip():  # minigrad's own C: a warning fails as an error would
                    raise RuntimeError(f"NVRTC warned:\n{log.getvalue().strip()}")
                cubin = _State.cubins[-1]
                missing = [f for f in unit.spec["functions"] if f.encode() not in cubin]
                if missing:
                    raise RuntimeError(f"the cubin defines no kernel {', '.join(missing)}")
            else:
                for function in unit.spec["functions"]:
                    module.get_function(function)  # compiled and loaded by the driver; raises if undefined
            if nvcc_arch is not None:
                _nvcc(unit.spec["source"], nvcc_arch)
    except Exception as exc:
        return {"ok": False, "seconds": time.perf_counter() - start, "error": f"{type(exc).__name__}: {exc}"}
    size = sum(len(c) for c in _State.cubins[before:])
    return {"ok": True, "seconds": time.perf_counter() - start, "bytes": size}


def _nvcc(source: str, arch: str) -> None:
    nvcc = shutil.which("nvcc")
    if nvcc is None:
        raise RuntimeError("--nvcc: nvcc is not on PATH")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "module.cu"
        path.write_text(source)
        proc = subprocess.run([nvcc, f"-arch=sm_{arch}", "-cubin", "-Werror", "all-warnings", "-o",
                               str(Path(tmp) / "module.cubin"), str(path)], capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"nvcc -arch=sm_{arch} -Werror all-warnings failed:\n{proc.stderr.strip()}")


_WORKER: dict = {}


def _init_worker(arch: str | None, patched: bool, nvcc_arch: str | None) -> None:
    import_cupy(fresh=patched)
    if patched:
        patch_cupy(arch)  # type: ignore[arg-type]
    _WORKER.update(patched=patched, nvcc_arch=nvcc_arch)


def _work(unit: Unit) -> dict:
    return compile_unit(unit, _WORKER["patched"], _WORKER["nvcc_arch"])


def register_broken_kernel() -> None:
    """The negative control: a kernel whose C does not compile, registered like any other."""
    kernels.Kernel(BROKEN_NAME, "T x", "T y", "y = x +* 2")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", default="90", help="compute capability to compile for without a GPU (90: sm_90)")
    parser.add_argument("--device", action="store_true",
                        help="on a GPU: no patches, the device's own arch, every module loaded by the driver")
    parser.add_argument("--nvcc", action="store_true",
                        help="also compile each RawModule with nvcc -Werror all-warnings")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="compiler processes")
    parser.add_argument("--forms", default=kernel_forms.FORMS_PATH, help="the list of argument forms")
    parser.add_argument("--cub-block-sizes", type=int, nargs="+", default=[32, 512], choices=CUB_BLOCK_SIZES)
    parser.add_argument("--only", nargs="+", metavar="NAME", help="compile only these kernels")
    parser.add_argument("--list", action="store_true", help="print what would be compiled and exit (no CuPy needed)")
    parser.add_argument("--with-broken-kernel", action="store_true",
                        help=f"negative control: register a kernel that does not compile ({BROKEN_NAME})")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    if args.with_broken_kernel:
        register_broken_kernel()
    units, notes = collect(args.forms, tuple(args.cub_block_sizes), args.only)
    counts = {kind: sum(u.kind == kind for u in units) for kind in ("elementwise", "reduction", "cub", "raw")}
    summary = ", ".join(f"{n} {kind}" for kind, n in counts.items())
    if args.list:
        for unit in units:
            print(unit.label())
        print(f"{len(units)} kernel instantiations ({summary}) of {len(kernels.registry())} registered kernels")
        return 0
    try:
        cupy = import_cupy(fresh=not args.device)
    except ImportError as exc:
        print(f"compile_cuda_kernels: CuPy cannot be imported ({exc}); run this script with the Python of the CuPy "
              f"environment: bash scripts/cuda_venv.sh .venv-cuda, then .venv-cuda/bin/python {sys.argv[0]}",
              file=sys.stderr)
        return 2
    patched = not args.device
    arch = args.arch
    if args.device:
        try:
            arch = cupy.cuda.Device().compute_capability
        except Exception as exc:
            print(f"compile_cuda_kernels: --device needs a GPU ({type(exc).__name__}: {exc})", file=sys.stderr)
            return 2
    from cupy.cuda import compiler

    print(f"compiling {len(units)} kernel instantiations ({summary}) for sm_{arch} with NVRTC "
          f"{'.'.join(map(str, compiler._get_nvrtc_version()))}, CuPy {cupy.__version__}"
          f"{', unpatched, on ' + cupy.cuda.runtime.getDeviceProperties(0)['name'].decode() if args.device else ''}"
          f", {args.jobs} processes", flush=True)
    for note in notes:
        print(note)
    start = time.perf_counter()
    nvcc_arch = arch if args.nvcc else None
    if args.jobs > 1:
        import multiprocessing

        # fork a process that has not touched the driver; a GPU's processes start afresh (spawn)
        context = multiprocessing.get_context("fork" if patched else "spawn")
        with ProcessPoolExecutor(args.jobs, mp_context=context,
                                 initializer=_init_worker, initargs=(arch, patched, nvcc_arch)) as pool:
            # the slow CUB compiles first, so that the processes finish together
            order = sorted(range(len(units)), key=lambda i: units[i].kind != "cub")
            results = dict(zip(order, pool.map(_work, [units[i] for i in order])))
    else:
        _init_worker(arch, patched, nvcc_arch)
        results = {i: _work(unit) for i, unit in enumerate(units)}
    failed = [(units[i], r) for i, r in sorted(results.items()) if not r["ok"]]
    for unit, result in failed:
        print(f"\nFAILED {unit.label()}\n{result['error'].rstrip()}\n", flush=True)
    seconds = time.perf_counter() - start
    ok = len(units) - len(failed)
    print(f"{ok} of {len(units)} kernel instantiations compiled for sm_{arch} in {seconds:.1f} s"
          + (f"; {len(failed)} FAILED: {', '.join(sorted({u.name for u, _ in failed}))}" if failed else ""))
    if args.json is not None:
        args.json.write_text(json.dumps({"arch": arch, "units": len(units), "compiled": ok, "seconds": seconds,
                                         "failed": [u.label() for u, _ in failed], "counts": counts}, indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
