"""A strict CuPy stand-in: runs minigrad's CUDA path on the CPU and accounts for every host transfer.

Installed as minigrad's CUDA array module by ``tests/conftest.py`` (``--cuda-backend``; by default
whenever no real GPU with CuPy is present), so every CUDA-marked test runs in CI. Its arrays wrap
NumPy arrays, as CuPy's wrap device memory, and it is *stricter* than CuPy where that catches bugs:

- ``__array__``, NumPy ufuncs and NumPy functions applied to a stand-in array raise TypeError
  (CuPy refuses the first and quietly dispatches the others; code on the CUDA path must call the
  array module it was handed, never ``np.``). Passing a NumPy array to a stand-in function other
  than ``asarray``/``array`` raises as CuPy does ("Unsupported type").
- Every device->host sync (``float``, ``int``, ``bool``, ``item``, ``tolist``, ``get``,
  ``asnumpy``, printing, boolean-mask indexing, ``synchronize``) and every host->device copy
  (``asarray``/``array`` of host data, assigning host data into an array) is recorded as an
  `Event` naming the line that caused it: ``where`` is the first frame outside this module,
  ``origin`` the first frame outside this module and the minigrad package (the user's line).
- Every call that would launch a kernel is counted by name (views and reshapes that share memory
  with their input, and ``empty``, launch nothing); see `record`.
- Capture emulation: ``cuda.Stream.begin_capture`` starts recording a tape of kernels (each a
  NumPy call on fixed buffers with its Python arguments frozen), during which any sync, copy or
  cuRAND draw raises ``cuda.runtime.CUDARuntimeError`` (and invalidates the capture, as CUDA does).
  Writes made during capture to memory that existed before it are undone at ``end_capture`` and
  memory allocated during capture is poisoned with NaN, because a real capture executes nothing;
  ``Graph.launch`` replays the tape, so Python-side state frozen at capture shows up exactly as
  it would on a GPU.
- ``ElementwiseKernel`` runs the kernel's own C body, for the subset minigrad's kernels use
  (statements ``[type] name (=|+=|-=|*=|/=) expr;`` with arithmetic, comparisons, ``&&``/``||``/
  ``!``, ``cond ? a : b`` and the math functions in `_C_FUNCTIONS`), evaluated by NumPy.
  ``ReductionKernel`` likewise, for sum reductions (``a + b``) with a map and a post-map expression.
  ``fuse`` runs the function once as one launch. ``RawModule``/``RawKernel`` cannot run C: a kernel
  runs its twin instead (the array-op code `minigrad.kernels.twin_of` names for it), as one launch.

Not emulated: streams' ordering (all work is in program order), memory pools (allocations are
NumPy's), device properties beyond a name.
"""
from __future__ import annotations

import contextlib
import os
import re
import sys
import types
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable

import numpy as np

__version__ = "14.0.0-standin"
_HERE = os.path.abspath(__file__)
_MINIGRAD = os.path.dirname(os.path.dirname(_HERE)) + os.sep   # the minigrad package (this module is inside it)
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(_HERE))) + os.sep  # the folder holding the package


# ----------------------------------------------------------------------------- accounting
@dataclass(frozen=True)
class Event:
    """One device->host sync or host->device copy: what, and the lines that caused it."""

    kind: str      # "sync" or "copy"
    what: str      # float, int, bool, item, tolist, get, asnumpy, repr, mask-index, synchronize, asarray, setitem
    where: str     # file:line (function) of the first frame outside the stand-in
    origin: str    # the same for the first frame outside the stand-in and minigrad

    def __str__(self) -> str:
        origin = f" (from {self.origin})" if self.origin != self.where else ""
        return f"{self.kind} {self.what} at {self.where}{origin}"


@dataclass
class Record:
    """What happened inside one ``with record() as rec`` block."""

    syncs: list[Event] = field(default_factory=list)
    copies: list[Event] = field(default_factory=list)
    launches: Counter = field(default_factory=Counter)
    locate: bool = False                                   # also count launches by the line that made them
    launch_sites: Counter = field(default_factory=Counter)

    @property
    def n_launches(self) -> int:
        return sum(self.launches.values())

    def summary(self) -> str:
        lines = [f"{len(self.syncs)} syncs, {len(self.copies)} host->device copies, {self.n_launches} launches"]
        lines += [f"  {e}" for e in self.syncs + self.copies]
        return "\n".join(lines)


_records: list[Record] = []
_capture: _Capture | None = None
_fusing = 0
_form_log: Any = None  # a minigrad.testing.kernel_forms.FormLog, while kernel forms are observed


def observe_kernel_forms(log: Any) -> Any:
    """Report every ElementwiseKernel and ReductionKernel call to `log` (a `kernel_forms.FormLog`; None: stop),
    which records its argument form or checks it against the committed list; returns the previous log."""
    global _form_log
    previous, _form_log = _form_log, log
    return previous


def _frame_text(frame) -> str:
    path = frame.f_code.co_filename
    rel = path[len(_ROOT):] if path.startswith(_ROOT) else path
    return f"{rel}:{frame.f_lineno} ({frame.f_code.co_name})"


def _locate() -> tuple[str, str]:
    frame: types.FrameType | None = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename) == _HERE:
        frame = frame.f_back
    where = _frame_text(frame) if frame is not None else "?"
    while frame is not None and (os.path.abspath(frame.f_code.co_filename).startswith(_MINIGRAD)
                                 or os.path.abspath(frame.f_code.co_filename) == _HERE):
        frame = frame.f_back
    return where, (_frame_text(frame) if frame is not None else where)


def _transfer(kind: str, what: str) -> None:
    where, origin = _locate()
    event = Event(kind, what, where, origin)
    if _capture is not None:
        _capture.invalid = str(event)
        raise cuda.runtime.CUDARuntimeError(
            f"cudaErrorStreamCaptureUnsupported: operation not permitted when stream is capturing "
            f"({event})")
    for rec in _records:
        (rec.syncs if kind == "sync" else rec.copies).append(event)


def _sync(what: str) -> None:
    _transfer("sync", what)


def _copy(what: str) -> None:
    _transfer("copy", what)


@contextlib.contextmanager
def record(locate: bool = False):
    """Count syncs, host->device copies and kernel launches inside the block: ``with record() as rec``.

    With `locate`, ``rec.launch_sites`` also counts launches by (name, first line outside the stand-in).
    """
    rec = Record(locate=locate)
    _records.append(rec)
    try:
        yield rec
    finally:
        _records.remove(rec)


def _count_launch(name: str) -> None:
    for rec in _records:
        rec.launches[name] += 1
        if rec.locate:
            rec.launch_sites[name, _locate()[0]] += 1


# ----------------------------------------------------------------------------- arrays
def _refuse_host_array(name: str) -> TypeError:
    where, _ = _locate()
    return TypeError(f"Unsupported type <class 'numpy.ndarray'>: a NumPy array was passed to cupy.{name} at "
                     f"{where}; copy it to the device with cupy.asarray first")


_PLAIN = frozenset({int, float, bool, complex, str, type(None), slice, type(Ellipsis), np.dtype, np.float32,
                    np.float64, np.int64, np.int32, np.uint32, np.uint64, np.bool_, np.float16, np.uint8, np.int8})


def _unwrap(obj, name: str):
    """Stand-in arrays -> their NumPy buffers, recursively; NumPy arrays are refused."""
    kind = type(obj)
    if kind is ndarray:
        return obj._a
    if kind in _PLAIN:
        return obj
    if isinstance(obj, np.ndarray):
        raise _refuse_host_array(name)
    if kind is tuple or kind is list:
        return kind([_unwrap(o, name) for o in obj])
    if kind is dict:
        return {k: _unwrap(v, name) for k, v in obj.items()}
    return obj


def _buffers(obj, out: list) -> list:
    kind = type(obj)
    if kind is ndarray:
        out.append(obj._a)
    elif kind is tuple or kind is list:
        for o in obj:
            _buffers(o, out)
    elif kind is dict:
        for o in obj.values():
            _buffers(o, out)
    return out


def _wrap(obj):
    if isinstance(obj, np.ndarray):
        return ndarray(obj)
    if isinstance(obj, np.generic):
        return ndarray(np.asarray(obj))
    if isinstance(obj, tuple):
        return tuple(_wrap(o) for o in obj)
    if isinstance(obj, list):
        return [_wrap(o) for o in obj]
    return obj


def _root(a: np.ndarray) -> np.ndarray:
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def _call(fn: Callable, args: tuple, kwargs: dict, name: str, writes: tuple = ()):
    """Run one device operation: NumPy on the buffers, results wrapped, the launch counted and taped."""
    raw_args = [_unwrap(a, name) for a in args]
    written = writes
    if kwargs:
        raw_kwargs = _unwrap(kwargs, name)
        out = kwargs.get("out")
        if out is not None:
            written = written + tuple(o for o in (out if type(out) is tuple else (out,)) if type(o) is ndarray)
    else:
        raw_kwargs = kwargs
    if _capture is not None:
        for w in written:
            _capture.before_write(w._a)
    result = fn(*raw_args, **raw_kwargs)
    if written:  # an in-place kernel: it returns its output (or nothing), replays by writing again
        wrapped = None
        if type(result) is np.ndarray:
            for w in written:
                if result is w._a:
                    wrapped = w
        outputs, launches = None, True
    elif type(result) is np.ndarray:
        wrapped = outputs = ndarray(result)
        launches = result.base is None or not any(
            np.may_share_memory(result, a) for a in raw_args if type(a) is np.ndarray)
    else:
        wrapped = outputs = _wrap(result)
        launches = bool(_buffers(wrapped, []))
    if launches and not _fusing:
        _count_launch(name)
        if _capture is not None:
            _capture.tape.append((fn, args, kwargs, name, outputs))
            _capture.allocated.update(id(_root(b)) for b in _buffers(outputs, []))
    return wrapped


def _replay_one(fn, args, kwargs, name, outputs) -> None:
    result = fn(*_unwrap(args, name), **_unwrap(kwargs, name))
    if outputs is None:
        return
    for out, res in zip(_buffers(outputs, []), _buffers(_wrap(result), [])):
        if out is not res:
            np.copyto(out, res, casting="unsafe")


_INPLACE = {"__iadd__": np.add, "__isub__": np.subtract, "__imul__": np.multiply, "__itruediv__": np.true_divide,
            "__ifloordiv__": np.floor_divide, "__imod__": np.mod, "__ipow__": np.power, "__iand__": np.bitwise_and,
            "__ior__": np.bitwise_or, "__ixor__": np.bitwise_xor, "__ilshift__": np.left_shift,
            "__irshift__": np.right_shift}
_BINARY = ["add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor", "lshift",
           "rshift", "lt", "le", "gt", "ge", "eq", "ne", "divmod"]
_UNARY = ["neg", "pos", "abs", "invert"]
_SYNC_METHODS = {"item", "tolist", "tobytes", "get"}


class _MemoryPointer:
    def __init__(self, a: np.ndarray):
        self.ptr = a.__array_interface__["data"][0]


class ndarray:
    """A device array: a NumPy buffer reached only through device operations."""

    __slots__ = ("_a", "__weakref__")
    __array_priority__ = 2000

    def __init__(self, a: np.ndarray):
        object.__setattr__(self, "_a", a)

    # metadata: no device work
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    strides = property(lambda self: self._a.strides)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    flags = property(lambda self: self._a.flags)
    data = property(lambda self: _MemoryPointer(self._a))
    device = property(lambda self: cuda.Device(0))  # type: ignore[has-type]  # `cuda` is built below, from classes defined later

    @property
    def base(self):
        return None if self._a.base is None else ndarray(_root(self._a))

    @property
    def T(self):
        return _call(np.transpose, (self,), {}, "transpose")

    def __len__(self) -> int:
        return len(self._a)

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    # refused, as on CuPy (NumPy's protocols are refused too: see the module docstring)
    def __array__(self, dtype=None, copy=None):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. Please use `.get()` to construct a "
                        f"NumPy array explicitly (stand-in CuPy, at {_locate()[0]})")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        raise TypeError(f"numpy.{ufunc.__name__} applied to a CUDA array at {_locate()[0]}: call the array "
                        "module (xp) of the array instead of numpy (strict CuPy stand-in)")

    def __array_function__(self, func, types, args, kwargs):
        raise TypeError(f"numpy.{func.__name__} applied to a CUDA array at {_locate()[0]}: call the array "
                        "module (xp) of the array instead of numpy (strict CuPy stand-in)")

    # syncs
    def __float__(self):
        _sync("float")
        return float(self._a)

    def __int__(self):
        _sync("int")
        return int(self._a)

    def __index__(self):
        _sync("int")
        return self._a.__index__()

    def __bool__(self):
        _sync("bool")
        return bool(self._a)

    def __complex__(self):
        _sync("complex")
        return complex(self._a)

    def item(self, *args):
        _sync("item")
        return self._a.item(*args)

    def tolist(self):
        _sync("tolist")
        return self._a.tolist()

    def get(self, stream=None, order="C", out=None):
        _sync("get")
        copy = np.array(self._a, order=order)
        if out is not None:
            out[...] = copy
            return out
        return copy

    def __repr__(self) -> str:
        _sync("repr")
        return repr(self._a)

    def __str__(self) -> str:
        _sync("repr")
        return str(self._a)

    def __format__(self, spec: str) -> str:
        _sync("repr")
        return format(self._a, spec)

    def __contains__(self, value) -> bool:
        _sync("bool")
        return value in self._a

    # indexing
    def __getitem__(self, key):
        if not _plain_key(key):
            if _has_bool_mask(key):
                _sync("mask-index")
            key = _device_key(key)
        return _call(_getitem, (self, key), {}, "getitem")

    def __setitem__(self, key, value):
        if not _plain_key(key):
            if _has_bool_mask(key):
                _sync("mask-index")
            key = _device_key(key)
        if isinstance(value, np.ndarray) or isinstance(value, (list, tuple)):
            value = asarray(value)
        _call(_setitem, (self, key, value), {}, "setitem", writes=(self,))

    # everything else NumPy's ndarray has: a device operation
    def __getattr__(self, name: str):
        if name in _SYNC_METHODS or name.startswith("__"):
            raise AttributeError(name)
        method = getattr(np.ndarray, name, None)
        if method is None or not callable(method):
            raise AttributeError(f"stand-in cupy.ndarray has no attribute {name!r}")
        writes = (self,) if name in ("fill", "sort", "put", "resize", "partition", "itemset") else ()
        return lambda *args, **kwargs: _call(method, (self,) + args, kwargs, name, writes=writes)

    def __setattr__(self, name, value):
        if name == "shape":
            self._a.shape = value
            return
        raise AttributeError(f"stand-in cupy.ndarray attribute {name!r} is not writable")

    def __reduce__(self):
        raise TypeError("a CUDA array cannot be pickled without a sync: call .get() first (strict CuPy stand-in)")

    def __copy__(self):
        return _call(np.copy, (self,), {}, "copy")

    def __deepcopy__(self, memo):
        return self.__copy__()

    __hash__ = object.__hash__


def _make_method(name: str):
    method = getattr(np.ndarray, name)
    setattr(ndarray, name, lambda self, *args, **kwargs: _call(method, (self,) + args, kwargs, name))


for _name in ("reshape", "transpose", "astype", "sum", "copy", "ravel", "max", "min", "mean", "any", "all",
              "swapaxes", "squeeze", "view", "dot", "clip", "cumsum", "argmax", "argmin", "prod", "var", "std",
              "flatten", "repeat", "take", "round"):
    _make_method(_name)


def _getitem(a, key):
    return a[key]


def _setitem(a, key, value):
    a[key] = value


_PLAIN_KEYS = frozenset({int, slice, type(None), type(Ellipsis), np.int64, np.intp})


def _has_bool_mask(key) -> bool:
    keys = key if type(key) is tuple else (key,)
    return any(isinstance(k, (ndarray, np.ndarray)) and k.dtype == np.bool_ and k.ndim > 0 for k in keys)


def _device_key(key):
    """Index arrays given on the host are copied to the device (as CuPy does)."""
    if type(key) is tuple:
        return tuple([_device_key(k) for k in key])
    if isinstance(key, np.ndarray) or (isinstance(key, list) and key and not isinstance(key[0], slice)):
        return asarray(key)
    return key


def _plain_key(key) -> bool:
    if type(key) is tuple:
        for k in key:
            if type(k) not in _PLAIN_KEYS:
                return False
        return True
    return type(key) in _PLAIN_KEYS


def _make_binary(op: str):
    fwd, rev = f"__{op}__", f"__r{op}__"
    np_fwd, np_rev = getattr(np.ndarray, fwd), getattr(np.ndarray, rev, None)

    def forward(self, other):
        if isinstance(other, np.ndarray):
            raise _refuse_host_array(fwd)
        return _call(np_fwd, (self, other), {}, op)

    def reverse(self, other):
        if isinstance(other, np.ndarray):
            raise _refuse_host_array(rev)
        return _call(np_rev, (self, other), {}, op)

    setattr(ndarray, fwd, forward)
    if np_rev is not None:
        setattr(ndarray, rev, reverse)


def _make_inplace(name: str, ufunc):
    def inplace(self, other):
        if isinstance(other, np.ndarray):
            raise _refuse_host_array(name)
        _call(ufunc, (self, other), {"out": self}, name.strip("_"))
        return self

    setattr(ndarray, name, inplace)


for _op in _BINARY:
    _make_binary(_op)
for _name, _ufunc in _INPLACE.items():
    _make_inplace(_name, _ufunc)
for _op in _UNARY:
    setattr(ndarray, f"__{_op}__",
            (lambda m, n: lambda self: _call(m, (self,), {}, n))(getattr(np.ndarray, f"__{_op}__"), _op))


# ----------------------------------------------------------------------------- module functions
newaxis = None
_HOST_HELPERS = {"dtype", "result_type", "promote_types", "can_cast", "finfo", "iinfo", "broadcast_shapes",
                 "issubdtype", "isscalar", "ndim", "shape", "min_scalar_type", "obj2sctype", "format_parser"}
_NO_LAUNCH = {"empty", "empty_like"}


def asarray(a, dtype=None, order=None, *, blocking=False):
    """A device array of `a`: no work for a device array of the right dtype, a host->device copy for host data."""
    if isinstance(a, ndarray):
        return a if dtype is None or np.dtype(dtype) == a.dtype else a.astype(dtype)
    _copy("asarray")
    return ndarray(np.array(a, dtype=dtype, order=order or "K"))


def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0, *, blocking=False):
    if isinstance(obj, ndarray):
        return _call(np.array, (obj,), dict(dtype=dtype, copy=copy, order=order, ndmin=ndmin), "array")
    _copy("array")
    return ndarray(np.array(obj, dtype=dtype, order=order, ndmin=ndmin))


def ascontiguousarray(a, dtype=None):
    if not isinstance(a, ndarray):
        return asarray(a, dtype=dtype, order="C")
    return _call(np.ascontiguousarray, (a,), dict(dtype=dtype), "ascontiguousarray")


asanyarray = asarray


def asnumpy(a, stream=None, order="C", out=None, *, blocking=True):
    if isinstance(a, ndarray):
        return a.get(order=order, out=out)
    return np.asarray(a, order=order)


def get_array_module(*args):
    return sys.modules[__spec__.name] if any(isinstance(a, ndarray) for a in args) else np


def copyto(dst, src, casting="same_kind", where=True):
    if isinstance(src, np.ndarray):
        src = asarray(src)
    _call(np.copyto, (dst, src), dict(casting=casting, where=where), "copyto", writes=(dst,))


class _Ufunc:
    """A NumPy ufunc applied to device arrays, with its methods (``at``, ``reduce``, ``outer``)."""

    def __init__(self, ufunc: np.ufunc):
        self._ufunc, self.__name__ = ufunc, ufunc.__name__
        self.nin, self.nout = ufunc.nin, ufunc.nout

    def __call__(self, *args, **kwargs):
        return _call(self._ufunc, args, kwargs, self.__name__)

    def at(self, a, indices, b=None):
        args = (a, _device_key(indices)) + (() if b is None else (b,))
        _call(self._ufunc.at, args, {}, f"{self.__name__}.at", writes=(a,))

    def reduce(self, *args, **kwargs):
        return _call(self._ufunc.reduce, args, kwargs, f"{self.__name__}.reduce")

    def outer(self, *args, **kwargs):
        return _call(self._ufunc.outer, args, kwargs, f"{self.__name__}.outer")


def _function(name: str, fn: Callable):
    def run(*args, **kwargs):
        if name not in _NO_LAUNCH:
            return _call(fn, args, kwargs, name)
        out = _wrap(fn(*_unwrap(args, name), **_unwrap(kwargs, name)))
        if _capture is not None:
            _capture.allocated.add(id(out._a))
        return out

    run.__name__ = name
    return run


def _namespace(source, prefix: str, names) -> types.SimpleNamespace:
    return types.SimpleNamespace(**{n: _function(f"{prefix}{n}", getattr(source, n)) for n in names})


def __getattr__(name: str):
    """Any other NumPy name: dtypes and constants as they are, functions and ufuncs as device operations."""
    if name.startswith("__"):
        raise AttributeError(name)
    value = getattr(np, name, None)
    if value is None:
        raise AttributeError(f"the CuPy stand-in has no attribute {name!r}")
    if isinstance(value, np.ufunc):
        wrapped = _Ufunc(value)
    elif name in _HOST_HELPERS or isinstance(value, type) or not callable(value):
        wrapped = value
    else:
        wrapped = _function(name, value)
    globals()[name] = wrapped
    return wrapped


linalg = _namespace(np.linalg, "linalg.", ["norm", "svd", "qr", "inv", "solve", "det", "eigh", "cholesky"])
lib = types.SimpleNamespace(stride_tricks=_namespace(np.lib.stride_tricks, "", ["as_strided"]))
cupyx = types.ModuleType("cupyx")
cupyx.scatter_add = lambda a, slices, value: _call(  # type: ignore[attr-defined]
    np.add.at, (a, _device_key(slices), value), {}, "scatter_add", writes=(a,))


# ----------------------------------------------------------------------------- random (cuRAND: not capturable)
class _Generator:
    """cupy.random.Generator: NumPy's PCG64 stream standing in for cuRAND (different numbers, same API)."""

    def __init__(self, seed=None):
        self._gen = np.random.default_rng(seed)

    def __getattr__(self, name: str):
        method = getattr(self._gen, name)

        def draw(*args, **kwargs):
            if _capture is not None:
                _capture.invalid = f"cupy.random.{name}"
                raise cuda.runtime.CUDARuntimeError(
                    f"cudaErrorStreamCaptureUnsupported: cupy.random.{name} (cuRAND) at {_locate()[0]} cannot run "
                    "while a stream is capturing; draw from minigrad.Philox on the device instead")
            _count_launch(f"random.{name}")
            return _wrap(method(*_unwrap(args, name), **_unwrap(kwargs, name)))

        return draw


random = types.SimpleNamespace(default_rng=_Generator, Generator=_Generator)


# ----------------------------------------------------------------------------- custom kernels
def fuse(*fargs, kernel_name: str | None = None):
    """cupy.fuse: the function's device operations run as one launch (its body evaluated by NumPy)."""

    def decorate(fn):
        name = kernel_name or fn.__name__

        def numpy_body(*raw):
            global _fusing
            _fusing += 1
            try:
                return _unwrap(fn(*_wrap(raw)), name)
            finally:
                _fusing -= 1

        def fused(*args):
            return _call(numpy_body, args, {}, f"fuse:{name}")

        fused.__name__ = name
        return fused

    return decorate(fargs[0]) if fargs and callable(fargs[0]) else decorate


_C_FUNCTIONS = {"sqrt": np.sqrt, "exp": np.exp, "log": np.log, "log1p": np.log1p, "expm1": np.expm1,
                "tanh": np.tanh, "fabs": np.abs, "abs": np.abs, "fmax": np.fmax, "fmin": np.fmin, "max": np.maximum,
                "min": np.minimum, "sin": np.sin, "cos": np.cos, "pow": np.power, "floor": np.floor,
                "rsqrt": lambda x: 1 / np.sqrt(x), "isfinite": np.isfinite, "isnan": np.isnan, "isinf": np.isinf,
                "where": np.where}
_C_TYPES = {"float": np.float32, "double": np.float64, "int": np.int32, "bool": np.bool_, "float32": np.float32}
_STATEMENT = re.compile(r"^\s*(?:const\s+)?(?:(\w+)\s+)?(\w+)\s*(=|\+=|-=|\*=|/=)\s*(.+?)\s*$", re.S)
_CAST = re.compile(r"\((float|double|int|bool|T|[A-Z]\w*)\)\s*")


def _matching_paren(expr: str, start: int) -> int:
    depth = 0
    for i in range(start, len(expr)):
        depth += expr[i] == "("
        depth -= expr[i] == ")"
        if depth == 0:
            return i
    return -1


def _c_expression_to_python(expr: str) -> str:
    """A C expression of the supported subset as Python: casts dropped, ``a ? b : c`` -> where(a, b, c)."""
    expr = _CAST.sub("", expr).replace("&&", " & ").replace("||", " | ")
    expr = re.sub(r"!(?!=)", " ~", expr)
    expr = re.sub(r"(\d+\.\d*|\.\d+|\d+)[fF]\b", r"\1", expr)
    expr = expr.strip()
    if expr.startswith("(") and _matching_paren(expr, 0) == len(expr) - 1:  # wholly parenthesised
        return "(" + _c_expression_to_python(expr[1:-1]) + ")"
    depth, question = 0, -1
    for i, ch in enumerate(expr):  # the outermost ternary, right-associative as in C
        depth += ch == "("
        depth -= ch == ")"
        if ch == "?" and depth == 0:
            question = i
            break
    if question < 0:
        return re.sub(r"\(([^()?]*\?[^()]*)\)", lambda m: "(" + _c_expression_to_python(m.group(1)) + ")", expr)
    depth = 0
    for j in range(question + 1, len(expr)):
        depth += expr[j] == "("
        depth -= expr[j] == ")"
        if expr[j] == ":" and depth == 0:
            cond, yes, no = expr[:question], expr[question + 1:j], expr[j + 1:]
            return (f"where({_c_expression_to_python(cond)}, {_c_expression_to_python(yes)}, "
                    f"{_c_expression_to_python(no)})")
    raise ValueError(f"ElementwiseKernel stand-in: unbalanced ?: in {expr!r}")


def _params(spec: str) -> list[tuple[str, str, bool]]:
    """'raw T x, float32 y' -> [(type, name, raw)]."""
    out = []
    for item in filter(None, (s.strip() for s in spec.split(","))):
        words = item.split()
        out.append((words[-2], words[-1], words[0] == "raw"))
    return out


class ElementwiseKernel:
    """cupy.ElementwiseKernel whose C body (minigrad's subset) is evaluated by NumPy as one launch."""

    def __init__(self, in_params: str, out_params: str, operation: str, name: str = "kernel", **kwargs):
        self.in_params, self.out_params, self.name = _params(in_params), _params(out_params), name
        self._specs = (in_params, out_params)
        statements = [s for s in operation.split(";") if s.strip()]
        self._program = []
        for statement in statements:
            match = _STATEMENT.match(statement)
            if match is None:
                raise ValueError(f"ElementwiseKernel stand-in ({name}): unsupported statement {statement.strip()!r}")
            ctype, target, op, expr = match.groups()
            code = compile(_c_expression_to_python(expr), f"<{name}>", "eval")
            self._program.append((ctype, target, op, code))

    def __call__(self, *args, size=None):
        n_in = len(self.in_params)
        if len(args) not in (n_in, n_in + len(self.out_params)):
            raise TypeError(f"{self.name}: expected {n_in} or {n_in + len(self.out_params)} arguments, got {len(args)}")
        inputs, outputs = list(args[:n_in]), list(args[n_in:])
        for value in inputs + outputs:
            if isinstance(value, np.ndarray):
                raise _refuse_host_array(self.name)
        if _form_log is not None:
            _form_log.elementwise(self.name, *self._specs, inputs, outputs)
        typevars = {}
        for (ctype, _, _), value in zip(self.in_params, inputs):
            if len(ctype) == 1 and ctype.isupper() and isinstance(value, ndarray):
                typevars.setdefault(ctype, value.dtype)
        arrays = [v for v in inputs + outputs if isinstance(v, ndarray)]
        shape = np.broadcast_shapes(*[a.shape for a in arrays]) if arrays else ()
        if not outputs:
            outputs = [empty(shape, typevars.get(t, _C_TYPES.get(t, np.float32))) for t, _, _ in self.out_params]
        body = self._body(typevars)
        _call(body, tuple(inputs) + tuple(outputs), {}, f"kernel:{self.name}", writes=tuple(outputs))
        return outputs[0] if len(outputs) == 1 else tuple(outputs)

    def _body(self, typevars: dict):
        def run(*raw):
            env: dict[str, Any] = dict(_C_FUNCTIONS)
            names = [n for _, n, _ in self.in_params + self.out_params]
            env.update(zip(names, raw))
            out_names = {n for _, n, _ in self.out_params}
            for ctype, target, op, code in self._program:
                value = eval(code, {"__builtins__": {}}, env)
                if op != "=":
                    value = {"+=": np.add, "-=": np.subtract, "*=": np.multiply, "/=": np.true_divide}[op](
                        env[target], value)
                if target in out_names:
                    env[target][...] = value
                else:
                    dtype = typevars.get(ctype, _C_TYPES.get(ctype)) if ctype else None
                    env[target] = np.asarray(value, dtype=dtype) if dtype is not None else value
            return None

        return run


class ReductionKernel:
    """cupy.ReductionKernel for sums: the map expression, a NumPy sum over `axis`, the post-map statements
    (minigrad's C subset, as `ElementwiseKernel`), evaluated by NumPy as one launch."""

    def __init__(self, in_params: str, out_params: str, map_expr: str, reduce_expr: str, post_map_expr: str,
                 identity: str | None, name: str = "reduce_kernel", reduce_type=None, **kwargs):
        self.in_params, self.out_params, self.name = _params(in_params), _params(out_params), name
        self._specs = (in_params, out_params)
        if reduce_expr.replace(" ", "") != "a+b" or (identity or "0").strip() != "0":
            raise ValueError(f"ReductionKernel stand-in ({name}): only sums (reduce 'a + b', identity '0') are "
                             f"emulated, got {reduce_expr!r} with identity {identity!r}")
        self._map = compile(_c_expression_to_python(map_expr), f"<{name} map>", "eval")
        self._post = ElementwiseKernel("T a", out_params, post_map_expr, name)._program

    def __call__(self, *args, axis=None, keepdims=False):
        if len(args) != len(self.in_params):
            raise TypeError(f"{self.name}: expected {len(self.in_params)} arguments, got {len(args)}")
        for value in args:
            if isinstance(value, np.ndarray):
                raise _refuse_host_array(self.name)
        if _form_log is not None:
            _form_log.reduction(self.name, *self._specs, args, axis, keepdims)
        dtypes = {}
        for (ctype, _, _), value in zip(self.in_params, args):
            if len(ctype) == 1 and ctype.isupper() and isinstance(value, ndarray):
                dtypes.setdefault(ctype, value.dtype)

        def body(*raw):
            env: dict[str, Any] = dict(_C_FUNCTIONS)
            env.update(zip([n for _, n, _ in self.in_params], raw))
            mapped = eval(self._map, {"__builtins__": {}}, env)
            env["a"] = np.sum(mapped, axis=axis, keepdims=keepdims)
            for ctype, target, _op, code in self._post:
                value = eval(code, {"__builtins__": {}}, env)
                dtype = dtypes.get(ctype, _C_TYPES.get(ctype)) if ctype else None
                env[target] = np.asarray(value, dtype=dtype) if dtype is not None else value
            (out_type, out_name, _), = self.out_params
            return np.asarray(env[out_name], dtype=dtypes.get(out_type, _C_TYPES.get(out_type)))

        return _call(body, args, {}, f"kernel:{self.name}")


class _RawFunction:
    """A kernel of a RawModule: ``f(grid, block, args)`` runs minigrad's twin of kernel `name` as one launch."""

    def __init__(self, name: str):
        from minigrad.kernels import twin_of

        self.name, self._twin = name, twin_of(name)

    def __call__(self, grid, block, args, shared_mem=0, stream=None):
        for what, dims in (("grid", grid), ("block", block)):
            if type(dims) is not tuple or not dims or not all(type(d) is int and d > 0 for d in dims):
                raise ValueError(f"{self.name}: {what} must be a tuple of positive ints, got {dims!r}")
        if type(args) is not tuple:
            raise TypeError(f"{self.name}: args must be a tuple, got {type(args).__name__}")
        for a in args:
            if isinstance(a, np.ndarray):
                raise _refuse_host_array(self.name)
            if type(a) is not ndarray and not isinstance(a, np.generic):
                raise TypeError(f"{self.name}: kernel argument {a!r} is neither a device array nor a NumPy scalar "
                                "(a Python number's C type is ambiguous; pass e.g. numpy.uint64(n))")

        def body(*raw):
            global _fusing
            _fusing += 1
            try:
                self._twin(*[ndarray(a) if isinstance(a, np.ndarray) else a for a in raw])
            finally:
                _fusing -= 1

        _call(body, args, {}, f"kernel:{self.name}", writes=tuple(a for a in args if type(a) is ndarray))


class RawModule:
    """cupy.RawModule: the C code is kept, not compiled; ``get_function`` gives kernels that run their twins."""

    def __init__(self, code: str | None = None, path: str | None = None, options=(), **kwargs):
        if code is None and path is None:
            raise TypeError("RawModule: code or path is required")
        self.code = code

    def get_function(self, name: str) -> _RawFunction:
        if self.code is not None and name not in self.code:
            raise AttributeError(f"RawModule.get_function: no kernel {name!r} in the module's code")
        return _RawFunction(name)


class RawKernel:
    """cupy.RawKernel(code, name): runs minigrad's twin of kernel `name` as one launch."""

    def __init__(self, code: str, name: str, options=(), **kwargs):
        self.code, self.name = code, name
        self._function = RawModule(code=code).get_function(name)

    def __call__(self, grid, block, args, **kwargs):
        self._function(grid, block, args, **kwargs)


def empty(shape, dtype=float, order="C"):
    """Allocation only: no kernel."""
    out = ndarray(np.empty(shape, dtype, order))
    if _capture is not None:
        _capture.allocated.add(id(out._a))
    return out


# ----------------------------------------------------------------------------- streams, events, graphs
class _Capture:
    def __init__(self, stream):
        self.stream = stream
        self.tape: list = []
        self.allocated: set[int] = set()
        self.backups: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.invalid: str | None = None

    def before_write(self, a: np.ndarray) -> None:
        root = _root(a)
        if id(root) not in self.allocated and id(root) not in self.backups:
            self.backups[id(root)] = (root, root.copy())


class _Graph:
    """A captured tape; ``launch`` replays it (one launch, ``num_nodes`` kernels)."""

    def __init__(self, tape: list):
        self._tape = tape
        self.num_nodes = len(tape)

    def launch(self, stream=None) -> None:
        global _records
        _count_launch("graph.launch")
        saved, _records = _records, []  # the replayed kernels are one graph launch, not new launches
        try:
            for entry in self._tape:
                _replay_one(*entry)
        finally:
            _records = saved

    def upload(self, stream=None) -> None:
        pass


class _Event:
    def __init__(self, *args, **kwargs):
        pass

    def record(self, stream=None):
        return self

    def synchronize(self):
        _sync("synchronize")


class _Stream:
    null: _Stream

    def __init__(self, null=False, non_blocking=False, ptds=False):
        self.ptr = 0 if null else id(self)

    def __enter__(self):
        _stream_stack.append(self)
        return self

    def __exit__(self, *exc):
        _stream_stack.pop()
        return False

    def use(self):
        return self

    def record(self, event=None):
        return event or _Event()

    def wait_event(self, event):
        pass

    def synchronize(self):
        _sync("synchronize")

    def is_capturing(self) -> bool:
        return _capture is not None and _capture.stream is self

    def begin_capture(self, mode=None):
        global _capture
        if _capture is not None:
            raise cuda.runtime.CUDARuntimeError("cudaErrorIllegalState: a stream is already capturing")
        _capture = _Capture(self)

    def end_capture(self):
        global _capture
        capture, _capture = _capture, None
        if capture is None or capture.stream is not self:
            raise cuda.runtime.CUDARuntimeError("cudaErrorIllegalState: this stream is not capturing")
        for root, backup in capture.backups.values():
            np.copyto(root, backup)
        for entry in capture.tape:  # what the capture allocated holds nothing until a launch
            for out in _buffers(entry[4], []):
                if out.dtype.kind == "f":
                    _root(out).fill(np.nan)
        if capture.invalid is not None:
            raise cuda.runtime.CUDARuntimeError(
                f"cudaErrorStreamCaptureInvalidated: the capture was invalidated by {capture.invalid}")
        return _Graph(capture.tape)


_stream_stack: list = []
_Stream.null = _Stream(null=True)


class _MemoryPool:
    def malloc(self, size):
        return None

    def used_bytes(self) -> int:
        return 0

    def total_bytes(self) -> int:
        return 0

    def free_all_blocks(self) -> None:
        pass


class _Device:
    def __init__(self, device=0):
        self.id = int(device) if not isinstance(device, _Device) else device.id

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def use(self):
        return self

    def synchronize(self):
        _sync("synchronize")

    def __eq__(self, other):
        return isinstance(other, _Device) and other.id == self.id

    __hash__ = object.__hash__


class _CUDARuntimeError(RuntimeError):
    """cupy.cuda.runtime.CUDARuntimeError (only there: CuPy has no top-level name for it)."""


def _get_current_stream():
    return _stream_stack[-1] if _stream_stack else _Stream.null


cuda = types.SimpleNamespace(
    Device=_Device, Stream=_Stream, Event=_Event, Graph=_Graph, MemoryPool=_MemoryPool,
    get_current_stream=_get_current_stream,
    using_allocator=lambda allocator=None: contextlib.nullcontext(),
    get_elapsed_time=lambda start, end: 0.0,
    runtime=types.SimpleNamespace(getDeviceCount=lambda: 1, CUDARuntimeError=_CUDARuntimeError,
                                  deviceSynchronize=lambda: _sync("synchronize"),
                                  getDeviceProperties=lambda i: {"name": b"CuPy stand-in (NumPy)"}),
)


# ----------------------------------------------------------------------------- installing
def install() -> Callable[[], None]:
    """Make this module minigrad's CUDA array module (and `cupyx`'s stand-in); returns the undo."""
    from minigrad import backend

    module = sys.modules[__spec__.name]
    previous_cupy, previous_cupyx = backend._cupy, sys.modules.get("cupyx")
    backend._cupy = module
    sys.modules["cupyx"] = cupyx
    backend._generators.pop("cuda", None)

    def uninstall() -> None:
        backend._cupy = previous_cupy
        backend._generators.pop("cuda", None)
        if previous_cupyx is None:
            sys.modules.pop("cupyx", None)
        else:
            sys.modules["cupyx"] = previous_cupyx

    return uninstall


def is_standin(xp) -> bool:
    return getattr(xp, "__version__", "").endswith("-standin")
