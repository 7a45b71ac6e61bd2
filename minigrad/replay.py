"""A recorded tape (`minigrad.tracing`) bound to planned buffers: the replay of a captured CPU step.

Binding a tape does, once:

1. **Constants.** An array made in the step (zeros, a number turned into an array) that nothing
   writes afterwards is the same at every step: it keeps the array of the capture, and its fill goes.
2. **Dead calls.** A call whose results nothing reads (and that writes no array kept outside the
   step, draws no random numbers and calls no host code) is dropped.
3. **Buffers by liveness.** Each temporary lives from the call that makes it to the last call that
   reads it or a view of it. Walking the calls in order, a temporary takes a free buffer of its
   size (or a new one) and frees it after its last use, so a buffer serves many temporaries and
   the replay's memory is about the eager step's peak. A temporary that outlives the step (a
   returned tensor, an array something kept) keeps the memory it was captured in.
4. **Views** (``x.T``, reshapes, slices) are made once, on the planned buffers.
5. **Calls** become argument-free callables writing into the planned buffers: a ufunc with
   ``out=``, a reduction or method with ``out=``, ``astype`` and ``copy`` as ``np.copyto``,
   ``where`` as two ``np.copyto``, a reshape that had to copy as ``np.copyto`` into the buffer
   seen in the input's shape, fancy indexing as ``np.take``, ``linalg.norm`` of a vector as the
   ``dot`` and ``sqrt`` NumPy computes it with; a draw with ``out=`` where NumPy can draw into a
   buffer. The rest compute a fresh array that is copied in (each is listed in ``Replay.allocating``).
   Each of these is the same arithmetic as the recorded call, and the check after a capture
   (`minigrad.capture`) compares every result bit for bit.

``Replay.run`` then calls them in order: no Tensor, no Function, no graph.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from minigrad.tracing import DRAWS_INTO_BUFFERS, CaptureError, Entry, Ref, Tape, Value, _nothing

#: ndarray methods that take out=
_METHODS_WITH_OUT = frozenset({"sum", "prod", "max", "min", "mean", "var", "std", "any", "all", "clip", "cumsum",
                               "cumprod", "round", "take", "dot", "argmax", "argmin", "ptp", "trace"})
#: NumPy functions that take out=
_FUNCTIONS_WITH_OUT = frozenset({np.concatenate, np.stack, np.sum, np.prod, np.mean, np.var, np.std, np.clip,
                                 np.take, np.dot, np.einsum, np.cumsum, np.max, np.min, np.amax, np.amin, np.any,
                                 np.all, np.round, np.around, np.matmul})
#: calls that copy or cast an array: replayed as np.copyto(out, source, casting="unsafe")
_COPIES = frozenset({np.copy, np.ndarray.copy, np.ndarray.astype, np.array, np.asarray, np.ascontiguousarray})


class Replay:
    """The calls of a tape on planned buffers (see the module docstring).

    Attributes: ``calls`` (argument-free callables, in order), ``arrays`` (value -> the array the
    replay uses for it, until `release`), ``nbytes`` and ``buffers`` (the planned buffers' bytes and
    number), ``allocating`` (the calls that allocate at every replay, by name), ``n_recorded`` (after
    `release`: how many calls the tape recorded, before constants and dead calls were dropped).
    """

    def __init__(self, tape: Tape):
        self.tape = tape
        entries = _fold_constants(tape)
        entries = _drop_dead(tape, entries)
        self.entries = entries
        self.arrays: dict[Value, np.ndarray] = {}
        self.nbytes = 0
        self.buffers = 0
        self._plan(entries)
        self.allocating: list[str] = []
        binding = Binding(self.arrays)
        compiled = [(entry, _compile(entry, binding, self.allocating)) for entry in entries]
        self._compiled: list[tuple[Entry, Callable[[], Any]]] = [(e, c) for e, c in compiled if c is not None]
        self.calls = [call for _, call in self._compiled]

    # ------------------------------------------------------------------ buffers
    def _plan(self, entries: list[Entry]) -> None:
        tape = self.tape
        last: dict[Value, int] = {}  # root -> the last entry that touches it or a view of it
        for i, entry in enumerate(entries):
            for value in entry.values():
                last[value.root] = i
        for value in tape.values:
            if value.kind == "external" or (value.kind == "root" and value.pinned):
                array = value.array
                if array is None:
                    raise CaptureError(f"internal: the array of {value} was freed")
                self.arrays[value] = array
        ending: dict[int, list[Value]] = {}
        for value, i in last.items():
            ending.setdefault(i, []).append(value)
        free: dict[int, list[np.ndarray]] = {}  # nbytes -> buffers free now
        raw_of: dict[Value, np.ndarray] = {}
        for i, entry in enumerate(entries):
            for root in entry.outs:
                if root in self.arrays:
                    continue
                if not root.nbytes:
                    self.arrays[root] = np.empty(root.shape, root.dtype)
                    continue
                if not root.dense:  # broadcast or overlapping: only the memory it was captured in will do
                    array = root.array
                    if array is None:
                        raise CaptureError(f"a temporary of shape {root.shape} with strides {root.strides} (not "
                                           "dense) cannot be given a buffer")
                    self.arrays[root] = array
                    continue
                pool = free.get(root.nbytes)
                raw = pool.pop() if pool else self._new_buffer(root.nbytes)
                raw_of[root] = raw
                self.arrays[root] = np.ndarray(root.shape, root.dtype, buffer=raw, strides=root.strides)
            for root in ending.get(i, ()):
                if root in raw_of:
                    raw = raw_of.pop(root)
                    free.setdefault(raw.nbytes, []).append(raw)

    def _new_buffer(self, nbytes: int) -> np.ndarray:
        self.nbytes += nbytes
        self.buffers += 1
        return np.empty(nbytes, np.uint8)

    def checking_calls(self, shadow: dict[Value, np.ndarray]) -> list[Callable[[], Any]]:
        """The calls as the check after a capture runs them: with the arrays of `shadow` in place of
        those values' (views of them made again), and no host call made again (its captured result is
        copied in and the generators are set to their states after it)."""
        roots = {v.root for v in shadow}
        arrays = {v: a for v, a in self.arrays.items() if v.kind != "view" or v.root not in roots}
        arrays.update(shadow)
        binding = Binding(arrays)
        generators = self.tape.generators
        calls: list[Callable[[], Any]] = []
        for entry, _ in self._compiled:
            if entry.kind == "host":
                calls.append(partial(_saved_host, [binding.array(v) for v in entry.outs], entry.saved, generators))
            else:
                call = _compile(entry, binding, [])
                if call is not None:
                    calls.append(call)
        return calls

    def release(self) -> None:
        """Forget the recording once bound (the capture's temporaries); the calls keep what they use."""
        self.n_recorded = len(self.tape.entries)
        self.tape = None  # type: ignore[assignment]
        self.entries = []
        self._compiled = []
        self.arrays = {}

    def run(self) -> None:
        """One step: every call, in order."""
        for call in self.calls:
            call()


class Binding:
    """Which array the replay uses for each value: ``arrays`` (externals and planned buffers), and the
    views made again on them when first asked for (`bound`)."""

    def __init__(self, arrays: dict[Value, np.ndarray]):
        self.arrays = arrays

    def bound(self, obj: Any) -> Any:
        """`obj` (an argument template) with each Ref replaced by the array the replay uses."""
        kind = type(obj)
        if kind is Ref:
            return self.array(obj.value)
        if kind is tuple or kind is list:
            return kind(self.bound(item) for item in obj)
        if kind is dict:
            return {k: self.bound(v) for k, v in obj.items()}
        return obj

    def array(self, value: Value) -> np.ndarray:
        array = self.arrays.get(value)
        if array is None:
            if value.kind != "view":
                raise CaptureError(f"internal: no array planned for {value}")
            array = self.arrays[value] = self._derive(value)
        return array

    def _derive(self, value: Value) -> np.ndarray:
        """A view value made again on the array its parent is bound to."""
        assert value.parent is not None  # a view has a parent
        parent = self.array(value.parent)
        recipe = value.recipe
        if recipe[0] == "alias":
            _, offset, shape, strides = recipe
            owner = parent
            while isinstance(owner.base, np.ndarray):
                owner = owner.base
            start = parent.__array_interface__["data"][0] - owner.__array_interface__["data"][0]
            view = np.ndarray(shape, value.dtype, buffer=owner, offset=start + offset, strides=strides)
        else:
            fn, args, kwargs, index = recipe
            view = fn(*self.bound(args), **self.bound(kwargs))
            if index is not None:
                view = view[index]
            if type(view) is not np.ndarray:
                view = np.ndarray.view(view, np.ndarray)
        if view.shape != value.shape or view.strides != value.strides or not np.may_share_memory(view, parent):
            raise CaptureError(f"a view ({getattr(recipe[0], '__name__', recipe[0])}) does not come out the same "
                               "on the planned buffer")
        return view


# ----------------------------------------------------------------------------- before planning
def _writers(tape: Tape, entries: list[Entry]) -> dict[Value, list[Entry]]:
    found: dict[Value, list[Entry]] = {}
    for entry in entries:
        for value in entry.outs + entry.writes:
            found.setdefault(value.root, []).append(entry)
    return found


def _fold_constants(tape: Tape) -> list[Entry]:
    """Drop the fill of every array made in the step that nothing writes afterwards: it keeps its
    captured contents (an array that is the same every step)."""
    writers = _writers(tape, tape.entries)
    kept = []
    for entry in tape.entries:
        if entry.kind == "fill" and len(writers.get(entry.outs[0], ())) == 1:
            root = entry.outs[0]
            root.kind = "external"  # a constant: replayed as the array it is
            continue
        kept.append(entry)
    return kept


def _drop_dead(tape: Tape, entries: list[Entry]) -> list[Entry]:
    """Drop the calls whose results nobody reads (walking backwards from what must happen)."""
    needed: set[Value] = {v.root for v in tape.values if v.pinned}
    kept = []
    for entry in reversed(entries):
        touched = [v.root for v in entry.outs + entry.writes]
        keep = entry.kind in ("draw", "host") or any(v.kind == "external" or v in needed for v in touched)
        if not keep:
            continue
        kept.append(entry)
        for value in entry.values():
            needed.add(value.root)
    kept.reverse()
    return kept


# ----------------------------------------------------------------------------- calls
def _compile(entry: Entry, binding: Binding, allocating: list[str]) -> Callable[[], Any] | None:
    """The argument-free callable that replays `entry` into the arrays of `binding` (the calls NumPy cannot
    write into a buffer are named in `allocating`)."""
    args, kwargs = binding.bound(entry.args), binding.bound(entry.kwargs)
    outs = [binding.array(v) for v in entry.outs]
    fn, kind = entry.fn, entry.kind
    if kind == "fill":
        return None if fn is _nothing else partial(np.copyto, outs[0], args[1])
    if kind == "host":
        return _host_call(fn, args, kwargs, outs)
    if not outs:  # writes in place only (out= given, copyto, setitem, ufunc.at)
        return partial(fn, *args, **kwargs)
    if kind == "draw":
        if getattr(fn, "__name__", "") in DRAWS_INTO_BUFFERS and outs[0].dtype == entry.outs[0].dtype:
            return partial(fn, *args, out=outs[0], **kwargs)
        return _copied(fn, args, kwargs, outs, allocating, f"Generator.{getattr(fn, '__name__', '?')}")
    if isinstance(fn, np.ufunc):
        given = kwargs.pop("out", None)
        out = tuple(outs) if given is None else tuple(o if o is not None else outs.pop(0) for o in given)
        if not kwargs and fn is not np.maximum and fn is not np.minimum:  # (those two want out= by name)
            return partial(fn, *args, *out)
        return partial(fn, *args, out=out, **kwargs)
    name = getattr(fn, "__name__", "")
    if kind == "ufunc" and name in ("reduce", "accumulate", "reduceat", "outer"):
        return partial(fn, *args, out=outs[0], **kwargs)
    if fn in _COPIES and len(outs) == 1:
        return partial(np.copyto, outs[0], args[0], casting="unsafe")
    if fn is np.where and len(args) == 3:
        return partial(_where, outs[0], *args)
    if fn in (np.ndarray.reshape, np.reshape) and len(outs) == 1 and kwargs.get("order", "C") == "C" \
            and outs[0].flags.c_contiguous and isinstance(args[0], np.ndarray):
        # a reshape that had to copy (its input not contiguous): the same elements, in C order, into the buffer
        return partial(np.copyto, outs[0].reshape(args[0].shape), args[0])
    if fn is np.linalg.norm and len(args) == 1 and not kwargs and args[0].dtype.kind == "f" and outs[0].ndim == 0:
        return partial(_norm, outs[0], args[0].ravel(order="K"), np.empty((), args[0].dtype))
    if fn is np.ndarray.__getitem__ and isinstance(args[1], np.ndarray) and args[1].dtype.kind in "iu":
        return partial(np.take, args[0], args[1], 0, outs[0])  # x[indices]: the same gather, into the buffer
    if (fn in _FUNCTIONS_WITH_OUT or (name in _METHODS_WITH_OUT and getattr(np.ndarray, name, None) is fn)) \
            and len(outs) == 1 and "out" not in kwargs:
        return partial(fn, *args, out=outs[0], **kwargs)
    return _copied(fn, args, kwargs, outs, allocating, name or repr(fn))


def _norm(out: np.ndarray, flat: np.ndarray, square: np.ndarray) -> None:
    """np.linalg.norm of a real vector as NumPy computes it (sqrt(x . x)), into `out`."""
    np.dot(flat, flat, out=square)
    np.sqrt(square, out=out)


def _where(out: np.ndarray, cond: Any, a: Any, b: Any) -> None:
    np.copyto(out, b)
    np.copyto(out, a, where=cond)


def _copied(fn: Callable, args: tuple, kwargs: dict, outs: list[np.ndarray], allocating: list[str],
            name: str) -> Callable[[], None]:
    """A call NumPy cannot write into a buffer: its fresh result is copied in (allocates each replay)."""
    allocating.append(name)
    if len(outs) == 1:
        out = outs[0]

        def copied() -> None:
            np.copyto(out, fn(*args, **kwargs), casting="unsafe")
    else:
        def copied() -> None:
            for o, r in zip(outs, fn(*args, **kwargs)):
                np.copyto(o, r, casting="unsafe")
    return copied


def _saved_host(outs: list[np.ndarray], saved: tuple, generators: dict) -> None:
    result, states = saved
    if outs:
        np.copyto(outs[0], result)
    for key, state in states.items():
        generators[key][0].bit_generator.state = state


def _host_call(fn: Callable, args: tuple, kwargs: dict, outs: list[np.ndarray]) -> Callable[[], None]:
    if not outs:
        return partial(fn, *args, **kwargs)
    out = outs[0]

    def host() -> None:
        np.copyto(out, fn(*args, **kwargs), casting="unsafe")
    return host
