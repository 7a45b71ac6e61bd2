"""Recording one step on the CPU as a tape of NumPy calls (what `minigrad.capture` replays).

While a step is being captured, ops see `TracedArray`s: NumPy arrays (a subclass, so every op,
``isinstance`` check and array-module lookup works unchanged) that record every call made on
them. Ops use raw operators (``a + b``), which NumPy routes to ``__array_ufunc__``; NumPy functions
reach ``__array_function__``; the ndarray methods are overridden one by one. Code outside the ops
reaches arrays through the array module (``xp = minigrad.backend.array_module(x)``), which during a
capture is `TracingNumpy`, a stand-in for ``numpy`` that wraps plain arrays before calling NumPy;
random draws go through a `RecordingGenerator`.

Each recorded call runs for real (the capture call is an eager step) and is kept as an `Entry`:
the function, its arguments with every array replaced by a `Ref` to a `Value`, and the values it
writes. A value is

- **external**: an array that existed before the call (a parameter, an optimizer's state, an
  input buffer) or a constant made during it; the replay uses that very array;
- **root**: an array a call made (a temporary); the replay writes it into a planned buffer;
- **view**: a view of another value (``x.T``, a reshape, a slice), which the replay re-derives
  once from the planned buffer, at no cost per step.

A step that reads an array's values into Python (``float(x)``, ``x.item()``, ``if x > 0``) cannot
be recorded: the value would be frozen into the tape. Such a read gets its value, so the step
finishes as the eager step it is, but it marks the tape invalid (``Tape.invalid`` says why), and
the step stays eager.

For the check that follows a capture, the tape keeps a copy of the memory of each external array
from the moment the step first touched it (``Tape.owners``: one copy per array that owns memory)
and each generator's state before its first draw, so that `minigrad.capture` can replay the step
from the same start, into those copies, and compare.
"""
from __future__ import annotations

import hashlib
import threading
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np


class CaptureError(RuntimeError):
    """The step cannot be captured (the message says why); it runs eagerly instead."""


class Ref:
    """An array argument of a recorded call: the value it stands for."""

    __slots__ = ("value",)

    def __init__(self, value: Value):
        self.value = value


class Value:
    """One array the tape knows: external, root or view (see the module docstring).

    A value keeps its array's layout (``shape``, ``dtype``, ``strides``, ``address``) and the array itself
    weakly, so that the step's temporaries are freed as the eager step frees them: ``array`` is None once
    a temporary is gone (an external, an array made from constants and a host call's result are held).
    A view has its ``parent`` value and ``recipe`` ``(fn, args, kwargs, index)``, the call that made it,
    to redo on the planned buffer (or ``("alias", byte offset, shape, strides)``); ``root`` is the external
    or root it shares memory with.
    """

    __slots__ = ("kind", "shape", "dtype", "strides", "nbytes", "address", "dense", "_strong", "_weak", "parent",
                 "recipe", "root", "pinned", "number", "initial")

    def __init__(self, kind: str, array: np.ndarray, number: int, parent: Value | None = None, recipe: Any = None,
                 keep: bool = False):
        self.kind, self.number = kind, number
        self.shape, self.dtype, self.strides, self.nbytes = array.shape, array.dtype, array.strides, array.nbytes
        self.address, self.dense = _address(array), _dense(array)
        self._strong = array if keep else None
        self._weak = weakref.ref(array)
        self.parent, self.recipe = parent, recipe
        self.root: Value = self if parent is None else parent.root
        self.pinned = False  # kept alive by something after the step: it keeps the memory it was captured in
        self.initial: bytes | None = None  # a digest of an external's contents when the step first touched it

    @property
    def array(self) -> np.ndarray | None:
        """The array at capture (None for a temporary that has been freed)."""
        return self._strong if self._strong is not None else self._weak()

    def __repr__(self) -> str:
        return f"<{self.kind} {self.number} {self.dtype}{list(self.shape)}>"


def _address(array: np.ndarray) -> int:
    """Where an array's memory starts."""
    return array.__array_interface__["data"][0]


def _digest(array: np.ndarray) -> bytes:
    """A fingerprint of an array's contents (to compare a constant made in two steps without a copy)."""
    data = memoryview(array).cast("B") if array.flags.c_contiguous else np.ascontiguousarray(array).tobytes()  # type: ignore[arg-type]  # an ndarray is a buffer
    return hashlib.blake2b(data, digest_size=16).digest()


def _dense(array: np.ndarray) -> bool:
    """Whether `array`'s strides lay its elements out densely, in some order of its axes (then a
    buffer of ``array.nbytes`` holds an array of its shape and strides)."""
    if array.flags.c_contiguous or array.flags.f_contiguous:
        return True
    if any(s < 0 for s in array.strides):
        return False
    expected = array.itemsize
    for stride, n in sorted((s, n) for s, n in zip(array.strides, array.shape) if n > 1):
        if stride != expected:
            return False
        expected *= n
    return True


class Entry:
    """One recorded call: ``fn(*args, **kwargs)`` with `Ref` placeholders, the roots it makes
    (``outs``, in the order of its results) and the values it writes in place (``writes``).

    ``kind`` says how the replay runs it: "call" (a function or method), "ufunc", "fill"
    (``copyto(out, constant)``: an array made by zeros/ones/full), "draw" (a generator method),
    "host" (a host function whose array result is copied in).
    """

    __slots__ = ("kind", "fn", "args", "kwargs", "outs", "writes", "index", "saved")

    def __init__(self, kind: str, fn: Callable, args: tuple, kwargs: dict, outs: list[Value],
                 writes: list[Value], index: int):
        self.kind, self.fn, self.args, self.kwargs = kind, fn, args, kwargs
        self.outs, self.writes, self.index = outs, writes, index
        self.saved: Any = None  # a host call's (result, generator states after it), for the check

    def values(self) -> list[Value]:
        """Every value the entry reads or writes."""
        found: list[Value] = []
        _collect((self.args, self.kwargs), found)
        return found + self.outs

    def __repr__(self) -> str:
        name = getattr(self.fn, "__qualname__", None) or getattr(self.fn, "__name__", repr(self.fn))
        return f"<{self.kind} {name} -> {self.outs}>"


def _collect(obj: Any, found: list[Value]) -> None:
    kind = type(obj)
    if kind is Ref:
        found.append(obj.value)
    elif kind is tuple or kind is list:
        for item in obj:
            _collect(item, found)
    elif kind is dict:
        for item in obj.values():
            _collect(item, found)
    elif kind is slice:
        _collect((obj.start, obj.stop, obj.step), found)


#: The tape being recorded, if any (one capture at a time, on one thread).
_active: Tape | None = None


class Tape:
    """The values and entries of one step being captured."""

    def __init__(self, keep_contents: bool = True, overwritten: frozenset[int] = frozenset()):
        self.keep_contents = keep_contents  # copy each external's memory when first touched (for the check)
        self.overwritten = overwritten  # ids of arrays whose memory the step writes before reading: no copy
        self.values: list[Value] = []
        self.entries: list[Entry] = []
        self._lifted: dict[int, tuple[np.ndarray, Value, TracedArray | None]] = {}  # id(plain array) -> its external
        self._owners: dict[int, tuple[weakref.ref, Value]] = {}  # id(the ndarray owning a root's memory) -> the root
        self.wrappers: list[weakref.ref] = []  # every TracedArray handed out (alive after capture: escaped)
        self.generators: dict[int, tuple[Any, Any]] = {}  # id -> (a generator the step drew from, its state before)
        self.tensors: dict[int, tuple[weakref.ref, np.ndarray]] = {}  # id -> (a Tensor the step read, its array)
        # id(an array owning external memory) -> (it, its contents when the step first touched it), in that order
        self.owners: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.invalid: str | None = None  # why the tape cannot be replayed (the first reason found)
        self.paused = 0  # inside a host call: nothing is recorded
        self.thread = threading.get_ident()  # the thread running the step (other threads are not recorded)

    @property
    def recording(self) -> bool:
        """Whether a call made now, on this thread, is recorded."""
        return not self.paused and threading.get_ident() == self.thread

    def invalidate(self, reason: str) -> None:
        """Mark the tape as not replayable; the step itself goes on (it is an eager step)."""
        if self.invalid is None:
            self.invalid = reason

    # ------------------------------------------------------------------ values
    def _new(self, kind: str, array: np.ndarray, parent: Value | None = None, recipe: Any = None,
             keep: bool = False) -> Value:
        value = Value(kind, array, len(self.values), parent, recipe, keep)
        self.values.append(value)
        if kind == "root":
            owner = _owner(array)
            self._owners[id(owner)] = (weakref.ref(owner), value)
        return value

    def _root_holding(self, owner: np.ndarray, address: int) -> Value | None:
        """The root (a live temporary) whose memory `owner` is, or holds `address` (an array made from a
        traced one by code NumPy does not dispatch, e.g. ``as_strided``, whose base is not an ndarray)."""
        found = self._owners.get(id(owner))
        if found is not None and found[0]() is owner:
            return found[1]
        for key, (ref, root) in list(self._owners.items()):
            memory = ref()
            if memory is None:
                del self._owners[key]
            elif _address(memory) <= address < _address(memory) + memory.nbytes:
                return root
        return None

    def wrap(self, value: Value, plain: np.ndarray) -> TracedArray:
        """A TracedArray for `value`, a view of `plain` (its array)."""
        wrapper = plain.view(TracedArray)
        wrapper._value = value
        self.wrappers.append(weakref.ref(wrapper))
        return wrapper

    def value_of(self, array: np.ndarray) -> tuple[Value, np.ndarray]:
        """(the value of an array met in a call, its plain array): a TracedArray's own value; for a plain
        array, the external it is (lifted once per array object), or an alias view of a root whose memory it
        shares."""
        if type(array) is TracedArray:
            value = array._value
            plain = np.ndarray.view(array, np.ndarray)
            if value is not None and value.number < len(self.values) and self.values[value.number] is value:
                return value, plain
            array = plain  # made by NumPy, not the tape, or kept from another capture
        entry = self._lifted.get(id(array))
        if entry is not None:
            return entry[1], array
        owner = _owner(array)
        root = self._root_holding(owner, _address(array))
        if root is not None:  # a plain alias of a temporary (np.asarray, as_strided of a traced array)
            value = self._new("view", array, root, ("alias", _address(array) - root.address, array.shape,
                                                    array.strides))
        else:
            value = self._new("external", array, keep=True)
            value.initial = _digest(array)  # (a constant made anew each step is compared by contents)
            if (self.keep_contents and id(owner) not in self.owners and owner.flags.writeable
                    and id(owner) not in self.overwritten):
                self.owners[id(owner)] = (owner, owner.copy())
        self._lifted[id(array)] = (array, value, None)  # keeps the array alive, so its id stays its own
        return value, array

    def lift(self, array: np.ndarray) -> TracedArray:
        """A plain array as a TracedArray (the same one each time for the same array)."""
        if type(array) is TracedArray:
            return array
        value, plain = self.value_of(array)
        entry = self._lifted[id(array)]
        if entry[2] is not None:
            return entry[2]
        wrapper = plain.view(TracedArray)
        wrapper._value = value
        self._lifted[id(array)] = (array, value, wrapper)
        return wrapper

    # ------------------------------------------------------------------ calls
    def template(self, obj: Any, found: list[tuple[Value, np.ndarray]] | None = None) -> tuple[Any, Any]:
        """(`obj` with arrays replaced by Refs, `obj` with arrays replaced by their plain arrays); each
        (value, plain array) met is appended to `found`."""
        kind = type(obj)
        if kind is TracedArray or kind is np.ndarray or isinstance(obj, np.ndarray):
            value, plain = self.value_of(obj)
            if found is not None:
                found.append((value, plain))
            return Ref(value), plain
        if kind is tuple or kind is list:
            pairs = [self.template(item, found) for item in obj]
            return kind(p[0] for p in pairs), kind(p[1] for p in pairs)
        if kind is dict:
            items = {k: self.template(v, found) for k, v in obj.items()}
            return {k: p[0] for k, p in items.items()}, {k: p[1] for k, p in items.items()}
        if kind is slice and any(isinstance(x, np.ndarray) for x in (obj.start, obj.stop, obj.step)):
            self.invalidate(_host_read("a slice bound"))
        return obj, obj

    def call(self, fn: Callable, args: tuple, kwargs: dict, kind: str = "call", writes_first: bool = False) -> Any:
        """Run ``fn(*args, **kwargs)`` on plain arrays and record it; returns its result, traced."""
        written: list[tuple[Value, np.ndarray]] = []
        inputs: list[tuple[Value, np.ndarray]] = []
        originals: list[Any] = []
        if writes_first and args:
            targ0, parg0 = self.template(args[0], written)
            trest, prest = self.template(args[1:], inputs)
            targs, pargs = (targ0, *trest), (parg0, *prest)
            originals.append(args[0] if isinstance(args[0], np.ndarray) else None)
        else:
            targs, pargs = self.template(args, inputs)
        out = kwargs.get("out")
        tkwargs, pkwargs = self.template({k: v for k, v in kwargs.items() if k != "out"}, inputs)
        if out is not None:
            tkwargs["out"], pkwargs["out"] = self.template(out, written)
            originals.extend(o for o in (out if type(out) in (tuple, list) else [out]) if isinstance(o, np.ndarray))
        result = fn(*pargs, **pkwargs)
        several = type(result) in (tuple, list)
        outs: list[Value] = []
        wrapped: list[Any] = []
        for i, r in enumerate(result if several else [result]):
            if isinstance(r, np.generic):
                r = np.asarray(r)
            if not isinstance(r, np.ndarray):
                wrapped.append(r)
                continue
            if type(r) is not np.ndarray:
                r = np.ndarray.view(r, np.ndarray)
            same = next((j for j, (_, plain) in enumerate(written) if plain is r), None)
            if same is not None:  # an out= array, handed back as the caller passed it
                original = originals[same] if same < len(originals) else None
                wrapped.append(original if isinstance(original, np.ndarray) else self.wrap(written[same][0], r))
                continue
            same_input = next((v for v, plain in inputs if plain is r), None)
            if same_input is not None:
                wrapped.append(self.wrap(same_input, r))
                continue
            parent = next((v for v, plain in inputs if r.base is not None and np.may_share_memory(r, plain)), None)
            if parent is not None and parent.root.kind == "external":  # a view of an external is one too
                wrapped.append(self.lift(r))
                continue
            if parent is not None:  # a view: re-derived from the planned buffer, nothing to run
                view = self._new("view", r, parent, (fn, targs, tkwargs, i if several else None))
                wrapped.append(self.wrap(view, r))
                continue
            root = self._new("root", r)
            outs.append(root)
            wrapped.append(self.wrap(root, r))
        if outs or written:
            self._append(kind, fn, targs, tkwargs, outs, [v for v, _ in written])
        return type(result)(wrapped) if several else wrapped[0]

    def _append(self, kind: str, fn: Callable, args: tuple, kwargs: dict, outs: list[Value],
                writes: list[Value]) -> Entry:
        entry = Entry(kind, fn, args, kwargs, outs, writes, len(self.entries))
        self.entries.append(entry)
        return entry

    def made(self, array: np.ndarray, fill: Any) -> TracedArray:
        """An array made during the step from no traced input (zeros, ones, full, empty, arange, a constant):
        a root refilled with `fill` each replay (an array the same each time: ``np.copyto`` of it), or
        left as it is (``fill`` None, from ``empty``)."""
        root = self._new("root", array, keep=True)
        if fill is not None:
            self._append("fill", np.copyto, (Ref(root), fill), {}, [root], [])
        else:
            self._append("fill", _nothing, (Ref(root),), {}, [root], [])
        return self.wrap(root, array)

    def host(self, fn: Callable, args: tuple, kwargs: dict) -> Any:
        """Record a host call: ``fn(*args, **kwargs)`` runs at its place in every replay, untraced, and its
        array result is copied into a root."""
        targs, pargs = self.template(args)
        tkwargs, pkwargs = self.template(kwargs)
        self.paused += 1
        try:
            result = fn(*pargs, **pkwargs)
        finally:
            self.paused -= 1
        after = {key: gen.bit_generator.state for key, (gen, _) in self.generators.items()}
        if result is None:
            self._append("host", fn, targs, tkwargs, [], []).saved = (None, after)
            return None
        if not isinstance(result, (np.ndarray, np.generic)):
            self.invalidate(f"minigrad.capture.host: {getattr(fn, '__name__', fn)} returned a "
                            f"{type(result).__name__}, not an array (a replay can only copy arrays in)")
            return result
        array = np.array(result)  # its own memory: the function may hand out an array it keeps
        root = self._new("root", array)
        entry = self._append("host", fn, targs, tkwargs, [root], [])
        entry.saved = (array.copy(), after)  # what the check replays instead of calling fn again
        return self.wrap(root, array)


def difference(a: Tape, b: Tape) -> str | None:
    """How two recordings of the same step differ (None when they make the same calls on the same arrays
    with the same constants): a value computed outside the recorded calls that changes from step to step
    (a draw from a generator the capture does not see, a Python number, host data) shows up here."""
    if len(a.entries) != len(b.entries):
        return f"the step made {len(a.entries)} array calls in one step and {len(b.entries)} in the next"
    same = _Matcher()
    for x, y in zip(a.entries, b.entries):
        if x.kind != y.kind or not _same_function(x.fn, y.fn) or not same.values(x.outs + x.writes, y.outs + y.writes) \
                or not same.obj(x.args, y.args) or not same.obj(x.kwargs, y.kwargs):
            name = getattr(x.fn, "__name__", None) or repr(x.fn)
            return (f"the step's array call {x.index} ({name}) differs from one step to the next: a value made "
                    "outside the recorded calls changes (a draw from a NumPy generator not wrapped by "
                    "minigrad.capture.generator, a Python number computed in the step, host data not read through "
                    "minigrad.capture.host)")
    return None


#: calls whose first argument is only written (not read) when they write all of it
_FULL_WRITES = frozenset({np.copyto})


def overwritten_first(tape: Tape) -> frozenset[int]:
    """The ids of the external arrays owning memory that the step writes wholly before it reads any of
    it (a flat gradient buffer after ``zero_grad``): their contents before the step do not matter, so the
    check after a capture need not copy them."""
    covered: dict[int, list[tuple[int, int]]] = {}  # owner id -> byte ranges written so far
    read_first: set[int] = set()
    owners: dict[int, np.ndarray] = {}

    def span(value: Value) -> tuple[int, np.ndarray, int, int] | None:
        root = value.root
        array = root.array if root.kind == "external" else None
        if array is None or value.kind != "external":
            return None
        owner = _owner(array)
        owners[id(owner)] = owner
        start = value.address - _address(owner)
        return id(owner), owner, start, start + value.nbytes

    for entry in tape.entries:
        whole = entry.kwargs.get("where", True) is True and getattr(entry.fn, "__name__", "") != "at"
        only_written = entry.fn in _FULL_WRITES and whole
        reads: list[Value] = []
        _collect((entry.args[1:] if only_written else entry.args,
                  {k: v for k, v in entry.kwargs.items() if k != "out"}), reads)
        for value in reads:
            found = span(value)
            if found is not None and not _inside(covered.get(found[0], []), found[2], found[3]):
                read_first.add(found[0])
        for value in entry.writes:
            found = span(value)
            contiguous = value.strides == _contiguous_strides(value.shape, value.dtype.itemsize)
            if found is not None and contiguous and whole and (only_written or "out" in entry.kwargs):
                covered.setdefault(found[0], []).append((found[2], found[3]))
    return frozenset(key for key in owners if key not in read_first and key in covered
                     and _inside(covered[key], 0, owners[key].nbytes))


def _contiguous_strides(shape: tuple[int, ...], itemsize: int) -> tuple[int, ...]:
    strides, step = [], itemsize
    for n in reversed(shape):
        strides.append(step)
        step *= n
    return tuple(reversed(strides))


def _inside(ranges: list[tuple[int, int]], start: int, stop: int) -> bool:
    """Whether [start, stop) lies inside the union of `ranges`."""
    for a, b in sorted(ranges):
        if a > start:
            return start >= stop
        start = max(start, b)
    return start >= stop


def _same_function(f: Any, g: Any) -> bool:
    if f is g:
        return True
    try:
        if f == g:
            return True
    except Exception:  # an object whose == is not a truth value
        return False
    code_f, code_g = getattr(f, "__code__", None), getattr(g, "__code__", None)
    if code_f is None or code_f is not code_g:
        return False
    cells_f, cells_g = f.__closure__ or (), g.__closure__ or ()
    return len(cells_f) == len(cells_g) and all(c.cell_contents is d.cell_contents for c, d in zip(cells_f, cells_g))


class _Matcher:
    """Pairs the values of two tapes as their calls are walked side by side."""

    def __init__(self):
        self.pairs: dict[int, int] = {}

    def values(self, xs: list[Value], ys: list[Value]) -> bool:
        return len(xs) == len(ys) and all(self.value(x, y) for x, y in zip(xs, ys))

    def value(self, x: Value, y: Value) -> bool:
        if x.number in self.pairs:
            return self.pairs[x.number] == y.number
        if x.kind != y.kind or x.shape != y.shape or x.dtype != y.dtype or x.strides != y.strides:
            return False
        if x.kind == "external" and x.address != y.address:  # made anew each step: same contents, or differs
            if x.initial is None or x.initial != y.initial:
                return False
        if x.kind == "view":
            if x.parent is None or y.parent is None or not self.value(x.parent, y.parent):
                return False
            if x.recipe[0] == "alias" or y.recipe[0] == "alias":
                if x.recipe != y.recipe:
                    return False
            elif not (_same_function(x.recipe[0], y.recipe[0]) and self.obj(x.recipe[1:], y.recipe[1:])):
                return False
        self.pairs[x.number] = y.number
        return True

    def obj(self, x: Any, y: Any) -> bool:
        kind = type(x)
        if kind is not type(y):
            return False
        if kind is Ref:
            return self.value(x.value, y.value)
        if kind is tuple or kind is list:
            return len(x) == len(y) and all(self.obj(a, b) for a, b in zip(x, y))
        if kind is dict:
            return x.keys() == y.keys() and all(self.obj(x[k], y[k]) for k in x)
        if kind is slice:
            return self.obj((x.start, x.stop, x.step), (y.start, y.stop, y.step))
        if isinstance(x, (np.ndarray, np.generic)):
            return x.shape == y.shape and x.dtype == y.dtype and x.tobytes() == y.tobytes()
        if kind is float:
            return x == y or (x != x and y != y)
        try:
            return bool(x == y) or x is y
        except Exception:  # == gave an array or raised
            return x is y


def _nothing(array: np.ndarray) -> None:
    """What the replay does for an array made by ``empty``: nothing."""


def _owner(array: np.ndarray) -> np.ndarray:
    """The ndarray that owns `array`'s memory (itself, or the end of its chain of bases)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


# ----------------------------------------------------------------------------- the tracing array
def _dispatch(fn: Callable, args: tuple, kwargs: dict, kind: str = "call", writes_first: bool = False) -> Any:
    tape = _active
    if tape is None or not tape.recording:  # outside a capture (an array kept after one): a plain array
        result = fn(*_plain(args), **_plain(kwargs))
        return result
    return tape.call(fn, args, kwargs, kind, writes_first)


def _plain(obj: Any) -> Any:
    kind = type(obj)
    if kind is TracedArray:
        return np.ndarray.view(obj, np.ndarray)
    if kind is tuple or kind is list:
        return kind(_plain(o) for o in obj)
    if kind is dict:
        return {k: _plain(v) for k, v in obj.items()}
    return obj


def _host_read(what: str) -> str:
    import os
    import traceback
    package = os.path.dirname(os.path.abspath(__file__)) + os.sep
    frames = [f for f in traceback.extract_stack()[:-3] if os.path.abspath(f.filename) != os.path.abspath(__file__)]
    where = frames[-1] if frames else None
    origin = next((f for f in reversed(frames) if not os.path.abspath(f.filename).startswith(package)), None)
    place = ""
    if where is not None:
        place = f" at {where.filename}:{where.lineno}"
        if origin is not None and origin is not where:
            place += f", from {origin.filename}:{origin.lineno}"
    return (f"the step reads an array's value into Python ({what}{place}); a replay would reuse the value read "
            "at capture. Keep values in arrays inside the step (read them after it)")


#: methods that write into their array: the replay writes the same array again
_WRITING_METHODS = frozenset({"fill", "sort", "partition", "put", "itemset", "resize", "setfield", "byteswap"})
#: methods that read values into Python
_HOST_READS = frozenset({"item", "tolist", "tobytes", "tofile", "dump", "dumps", "__reduce__", "__reduce_ex__"})


class TracedArray(np.ndarray):
    """A NumPy array whose every call is recorded on the active `Tape` (see the module docstring).

    Outside a capture (one kept by the step's owner after it) it behaves as a plain array and
    returns plain arrays.
    """

    _value: Value | None = None

    def __array_finalize__(self, obj: Any) -> None:
        self._value = None  # made by NumPy itself (not through the tape): resolved by memory when used

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if method == "__call__":
            return _dispatch(ufunc, inputs, kwargs, "ufunc")
        return _dispatch(getattr(ufunc, method), inputs, kwargs, "ufunc", writes_first=method == "at")

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if func in _FILLS and recording() is not None:
            return _fill_like(func, args, kwargs)
        return _dispatch(func, args, kwargs, writes_first=func in _WRITING_FUNCTIONS)

    def __getitem__(self, key: Any) -> Any:
        return _dispatch(np.ndarray.__getitem__, (self, key), {})

    def __setitem__(self, key: Any, value: Any) -> None:
        _dispatch(np.ndarray.__setitem__, (self, key, value), {}, writes_first=True)

    @property
    def T(self) -> Any:
        return _dispatch(np.transpose, (self,), {})

    @property
    def mT(self) -> Any:
        return _dispatch(np.matrix_transpose, (self,), {})

    def __float__(self) -> float:
        return float(self._read("float"))

    def __int__(self) -> int:
        return int(self._read("int"))

    def __index__(self) -> int:
        return self._read("int").__index__()

    def __bool__(self) -> bool:
        return bool(self._read("bool"))

    def __complex__(self) -> complex:
        return complex(self._read("complex"))

    def __format__(self, spec: str) -> str:
        return format(self._read("format"), spec)

    def _read(self, what: str) -> np.ndarray:
        tape = recording()
        if tape is not None:
            tape.invalidate(_host_read(what))
        return np.ndarray.view(self, np.ndarray)

    def __reduce__(self) -> Any:
        return self._read("pickle").__reduce__()


def _method(name: str) -> Callable:
    method = getattr(np.ndarray, name)
    if name in _HOST_READS:
        def read(self: TracedArray, *args: Any, **kwargs: Any) -> Any:
            return method(self._read(name), *args, **kwargs)
        return read
    writes = name in _WRITING_METHODS

    def recorded(self: TracedArray, *args: Any, **kwargs: Any) -> Any:
        return _dispatch(method, (self,) + args, kwargs, writes_first=writes)
    recorded.__name__ = name
    return recorded


for _name in dir(np.ndarray):
    if not _name.startswith("_") and callable(getattr(np.ndarray, _name)) and _name not in TracedArray.__dict__:
        setattr(TracedArray, _name, _method(_name))


# ----------------------------------------------------------------------------- arrays made in a step
_WRITING_FUNCTIONS = frozenset({np.copyto, np.put, np.putmask, np.place, np.fill_diagonal})
_FILLS = {np.zeros_like: 0, np.ones_like: 1, np.empty_like: None, np.full_like: "full"}


def _fill_like(func: Any, args: tuple, kwargs: dict) -> TracedArray:
    tape = _active
    assert tape is not None
    _, plain_args = tape.template(args)
    _, plain_kwargs = tape.template(kwargs)
    array = func(*plain_args, **plain_kwargs)
    fill = _FILLS[func]
    if fill == "full":
        fill = plain_args[1] if len(plain_args) > 1 else plain_kwargs["fill_value"]
        if isinstance(fill, np.ndarray):
            fill = tape.template(args[1] if len(args) > 1 else kwargs["fill_value"])[0]
    return tape.made(array, fill)


class TracingNumpy:
    """``numpy`` as code outside the ops sees it during a capture (``minigrad.backend.array_module``).

    Every function lifts the plain arrays among its arguments into TracedArrays, so that NumPy
    dispatches the call to the tape; arrays made from no array (``zeros``, ``full``, ``asarray`` of
    a number) become roots refilled at every replay. Everything else (dtypes, constants, ``linalg``)
    is NumPy's own.
    """

    def __init__(self, tape: Tape):
        self._tape = tape
        self.linalg = _Namespace(np.linalg, tape)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(np, name)
        made = _MAKERS.get(name)
        if made is not None:
            value: Any = _maker(self._tape, attr, made)
        elif isinstance(attr, np.ufunc):
            value = _LiftingUfunc(attr, self._tape)
        elif callable(attr) and not isinstance(attr, type):
            value = _lifting(attr, self._tape)
        else:
            value = attr
        setattr(self, name, value)  # looked up once
        return value

    def asarray(self, a: Any, dtype: Any = None, **kwargs: Any) -> Any:
        return self._convert(a, dtype, copy=False)

    def array(self, a: Any, dtype: Any = None, copy: bool = True, **kwargs: Any) -> Any:
        return self._convert(a, dtype, copy=copy)

    def ascontiguousarray(self, a: Any, dtype: Any = None) -> Any:
        if isinstance(a, np.ndarray) and a.flags.c_contiguous and (dtype is None or np.dtype(dtype) == a.dtype):
            return self._tape.lift(a)
        return self._convert(a, dtype, copy=True)

    def _convert(self, a: Any, dtype: Any, copy: bool) -> Any:
        if isinstance(a, np.ndarray):
            traced = self._tape.lift(a)
            if copy or (dtype is not None and np.dtype(dtype) != a.dtype):
                return traced.astype(dtype if dtype is not None else a.dtype)
            return traced
        if isinstance(a, (list, tuple)) and any(isinstance(x, np.ndarray) for x in a):
            return np.stack([self._convert(x, dtype, False) for x in a])
        return self._tape.made(np.array(a, dtype=dtype), np.array(a, dtype=dtype))


class _Namespace:
    """A NumPy submodule (``linalg``) whose functions lift their arguments."""

    def __init__(self, module: Any, tape: Tape):
        self._module, self._tape = module, tape

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._module, name)
        return _lifting(attr, self._tape) if callable(attr) and not isinstance(attr, type) else attr


def _lift_all(tape: Tape, obj: Any) -> Any:
    kind = type(obj)
    if kind is np.ndarray:
        return tape.lift(obj)
    if kind is tuple or kind is list:
        return kind(_lift_all(tape, o) for o in obj)
    return obj


def _lifting(fn: Callable, tape: Tape) -> Callable:
    def lifted(*args: Any, **kwargs: Any) -> Any:
        if not tape.recording:
            return fn(*args, **kwargs)
        return fn(*_lift_all(tape, args), **{k: _lift_all(tape, v) for k, v in kwargs.items()})
    lifted.__name__ = getattr(fn, "__name__", "function")
    return lifted


class _LiftingUfunc:
    """A ufunc whose call and methods (``reduce``, ``at``, ...) lift their arguments."""

    def __init__(self, ufunc: np.ufunc, tape: Tape):
        self._ufunc, self._tape = ufunc, tape
        self.__name__ = ufunc.__name__

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _lifting(self._ufunc, self._tape)(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._ufunc, name)
        return _lifting(attr, self._tape) if callable(attr) else attr


_MAKERS = {"zeros": 0, "ones": 1, "empty": None, "full": "full", "arange": "constant", "eye": "constant",
           "linspace": "constant", "identity": "constant"}


def _maker(tape: Tape, fn: Callable, fill: Any) -> Callable:
    def make(*args: Any, **kwargs: Any) -> Any:
        array = fn(*args, **kwargs)
        if not tape.recording:
            return array
        value = fill
        if fill == "full":
            value = args[1] if len(args) > 1 else kwargs["fill_value"]
            if isinstance(value, np.ndarray):
                return np.broadcast_to(tape.lift(value), array.shape).astype(array.dtype)
        elif fill == "constant":
            value = array.copy()
        return tape.made(array, value)
    make.__name__ = fn.__name__
    return make


# ----------------------------------------------------------------------------- random draws
#: Generator methods that can write into a buffer (``out=``): the replay draws straight into it.
DRAWS_INTO_BUFFERS = frozenset({"random", "standard_normal", "standard_exponential", "standard_gamma"})


class RecordingGenerator:
    """A `numpy.random.Generator` whose draws are recorded: each replay makes the same generator call,
    into the planned buffer where NumPy can write one (`DRAWS_INTO_BUFFERS`), else as a fresh array
    copied in (``integers``, ``choice``, ``normal``, ...: a small allocation per draw)."""

    def __init__(self, generator: np.random.Generator, tape: Tape):
        self._generator, self._tape = generator, tape
        if id(generator) not in tape.generators:
            tape.generators[id(generator)] = (generator, generator.bit_generator.state)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._generator, name)
        if not callable(attr) or name in ("spawn", "bit_generator"):
            return attr
        tape = self._tape

        def draw(*args: Any, **kwargs: Any) -> Any:
            if not tape.recording:
                return attr(*args, **kwargs)
            targs, pargs = tape.template(args)
            tkwargs, pkwargs = tape.template(kwargs)
            result = attr(*pargs, **pkwargs)
            if "out" in kwargs:
                tape.invalidate(f"Generator.{name}(out=...) inside the step (draw without out=; the replay does)")
                return result
            if not isinstance(result, np.ndarray):
                tape.invalidate(f"Generator.{name} drew a Python number inside the step; a replay would reuse it. "
                                "Draw an array (pass size=)")
                return result
            root = tape._new("root", result)
            tape._append("draw", attr, targs, tkwargs, [root], [])
            return tape.wrap(root, result)
        draw.__name__ = name
        return draw


def start(tape: Tape) -> None:
    global _active
    if _active is not None:
        raise CaptureError("a step is already being captured (captures do not nest)")
    _active = tape


def stop() -> None:
    global _active
    _active = None


def note_tensor(t: Any) -> None:
    """While recording: remember that the step reads Tensor `t`'s array (a replay raises if it is rebound)."""
    tape = _active
    if tape is not None and tape.recording and id(t) not in tape.tensors and type(t.data) is np.ndarray:
        tape.tensors[id(t)] = (weakref.ref(t), t.data)


def recording() -> Tape | None:
    """The tape recording calls made on this thread now (None outside a capture, in a host call, or on
    another thread than the step's)."""
    tape = _active
    return tape if tape is not None and tape.recording else None


def active() -> Tape | None:
    """The tape being recorded (None outside a capture)."""
    return _active
