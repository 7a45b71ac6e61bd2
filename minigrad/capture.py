"""Capture a training step once, replay it every step after: `graphed`, on the CPU and on CUDA.

One design for both devices. A step function takes no arguments, reads its inputs from arrays that
stay alive (refilled in place between calls), keeps everything that changes from step to step in
arrays (step counts, learning rates: `minigrad.optim` does), and returns Tensors. ``graphed(step)``
runs it eagerly for `warmup` calls, records the next call, and from then on replays the recording:

- **CUDA** (`minigrad.cuda.graphed`): the recording is a CUDA graph, launched in one call.
- **CPU** (`CapturedStep`): the recording is a tape of NumPy calls (`minigrad.tracing`). During the
  capture call, ops see a tracing array type and every array call is recorded with its inputs and
  outputs; the tape is then bound to buffers planned by liveness (`minigrad.replay`), and each
  replay runs it as NumPy calls with ``out=``: no Tensor, no Function, no graph.

The rules a step must follow (both devices):

1. **No host reads inside the step.** ``float(loss)``, ``loss.item()``, ``if (x > 0).any():`` read a
   value that a replay would not read again. Keep statistics as Tensors and read them after the call.
2. **Python runs once.** The step's Python code runs at capture; a replay only repeats its array
   calls. Python numbers computed in the step are frozen (a learning rate set inside it, a counter);
   set them between calls, or keep them in arrays (`minigrad.optim.lr_scheduler` does).
3. **Inputs stay put.** Refill input arrays in place (``x.data[...] = batch``); rebinding one
   (``x.data = new``) leaves the replay reading the old one (optimizers raise when a parameter or
   state array was rebound).
4. **Arrays outside the ops go through the array module.** Code that touches ``.data`` directly
   (in-place updates, clipping, moving averages) calls ``xp = minigrad.backend.array_module(a)``
   and ``xp.add(a, b, out=a)``, not ``a += b`` on a parameter's array: the capture sees the former.
5. **Random numbers** come from `minigrad.randn` and friends (minigrad's generator), from a NumPy
   generator wrapped by `generator`, or on CUDA from a `minigrad.Philox`. A host function (a data
   sampler written in NumPy) is wrapped by `host`: on the CPU it runs at its place in every replay
   and its result is copied into the captured buffer.

On the CPU the capture is checked before it is used: the tape is replayed from the state the step
started in and must reproduce the eager step bit for bit (every array it wrote, the returned
Tensors, the generators' states). A step that breaks a rule, or that NumPy cannot replay exactly,
stays eager: ``step.eager_reason`` says why (`graphed` warns with it when asked to).
"""
from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import numpy as np

from minigrad import backend, tracing
from minigrad.autograd import Function
from minigrad.replay import Replay
from minigrad.tensor import Tensor
from minigrad.tracing import CaptureError, RecordingGenerator, Tape, _address, _owner

# ----------------------------------------------------------------------------- capture state (both devices)
_replay_hooks: list[list[Callable[[], None]]] = []  # one list per capture in progress


def is_capturing() -> bool:
    """True while a step is being captured (CPU tape or CUDA graph): Python values read now are frozen."""
    return bool(_replay_hooks)


def on_replay(hook: Callable[[], None]) -> None:
    """While capturing, run ``hook()`` before every later replay of the step being captured.

    (The call that captures needs none: the step's Python code has just run.) Optimizers use it
    to refuse replays after their arrays were rebound and to copy a learning rate set between
    replays to the device. A hook equal to one already registered for this capture is not added again.
    """
    if not _replay_hooks:
        raise RuntimeError("on_replay: no step is being captured")
    if hook not in _replay_hooks[-1]:
        _replay_hooks[-1].append(hook)


@contextmanager
def capturing() -> Iterator[list[Callable[[], None]]]:
    """Mark the code inside as a capture; yields the list of `on_replay` hooks it registers."""
    hooks: list[Callable[[], None]] = []
    _replay_hooks.append(hooks)
    try:
        yield hooks
    finally:
        _replay_hooks.pop()


# ----------------------------------------------------------------------------- what a step calls
def host(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``, a host function (NumPy code, a data sampler) called inside a step.

    Eagerly it is just the call. While a CPU step is captured, the call is recorded as it is: every
    replay calls `fn` again at this point (so its random draws keep their order) and copies its
    array result into the captured buffer. A CUDA graph cannot call the host: there, refill an
    input array before each replay instead (this raises during a CUDA capture).
    """
    tape = tracing.recording()
    if tape is not None:
        return tape.host(fn, args, kwargs)
    if is_capturing() and tracing.active() is None:
        raise RuntimeError(f"capture.host: {getattr(fn, '__name__', 'fn')} is host code and cannot run inside a "
                           "CUDA graph; copy its result into an input array before each replay")
    return fn(*args, **kwargs)


def generator(rng: np.random.Generator) -> Any:
    """`rng` as a step should draw from it: while a CPU step is captured, a recording of it (each replay
    makes the same draws, into the captured buffers), else `rng` itself.

    minigrad's own generator (`minigrad.randn`, ``backend.generator("cpu")``) is recorded without this.
    """
    tape = tracing.recording()
    if tape is None or isinstance(rng, RecordingGenerator):
        return rng
    return RecordingGenerator(rng, tape)


# ----------------------------------------------------------------------------- graphed
def graphed(step_fn: Callable[[], Any], warmup: int = 2, *, device: str = "cpu") -> Any:
    """Wrap a no-argument training step so that it is captured once and replayed after (see the
    module docstring for the design and the rules a step follows).

    The first `warmup` calls run `step_fn` eagerly (creating optimizer state), the next one
    captures it, and every later call replays the capture; each call is one step and returns what
    `step_fn` returns (Tensors, or None, or tuples/lists/dicts of them: the same objects at every
    replay, refreshed by it). On ``device="cuda"`` this is `minigrad.cuda.graphed`; on the CPU a
    `CapturedStep`.
    """
    if not isinstance(warmup, (int, np.integer)) or isinstance(warmup, bool) or warmup < 1:
        raise ValueError(f"graphed: warmup must be an int >= 1 (optimizer state is created during the eager "
                         f"warm-up calls, never during capture), got {warmup!r}")
    if not callable(step_fn):
        raise TypeError(f"graphed: step_fn must be callable, got {type(step_fn).__name__}")
    if backend.normalize_device(device) == "cuda":
        from minigrad import cuda
        return cuda.graphed(step_fn, int(warmup), device="cuda")
    return CapturedStep(step_fn, int(warmup))


class CapturedStep:
    """A CPU step run eagerly for `warmup` calls, recorded as a tape on the next two, replayed after.

    The two recordings (each an eager step) must make the same calls on the same arrays with the
    same constants: a value the tape cannot see that changes from step to step shows up there. The
    second is bound to planned buffers and checked by replaying it from the state it started in.

    Attributes: ``calls`` (steps run so far), ``replay`` (the bound tape, a `minigrad.replay.Replay`,
    once captured), ``outputs`` (what the captured call returned), ``eager_reason`` (why the step
    runs eagerly, once the capture was refused; None otherwise).
    """

    def __init__(self, step_fn: Callable[[], Any], warmup: int):
        self.step_fn, self.warmup = step_fn, warmup
        self.calls = 0
        self.replay: Replay | None = None
        self.outputs: Any = None
        self.eager_reason: str | None = None
        self._hooks: list[Callable[[], None]] = []
        self._first: Tape | None = None  # the first of the two recordings, until the second

    @property
    def captured(self) -> bool:
        return self.replay is not None

    def __call__(self) -> Any:
        if self.replay is not None:
            for hook in self._hooks:
                hook()
            self.replay.run()
            self.calls += 1
            return self.outputs
        if self.eager_reason is not None or self.calls < self.warmup:
            out = self.step_fn()
        else:
            out = self._capture()
        self.calls += 1
        return out

    def _capture(self) -> Any:
        """Record this call; on the second recording, compare the two, bind the later one and check it."""
        first = self._first  # the second recording is checked: it copies what the step reads before writing
        tape = Tape(keep_contents=first is not None,
                    overwritten=tracing.overwritten_first(first) if first is not None else frozenset())
        with _recording(tape) as hooks:
            out = self.step_fn()
        tensors = _output_tensors(out, tape)
        self._first = tape
        if tape.invalid is None and first is None:  # the first of the two recordings
            _rebind(tensors, None)
            return out
        self._first = None
        if tape.invalid is None and first is not None:
            different = tracing.difference(first, tape)
            if different is not None:
                tape.invalidate(different)
        del first
        replay = None
        if tape.invalid is None:
            gc.collect()  # what the step kept alive (outputs, arrays held by objects) keeps its memory
            for ref in tape.wrappers:
                wrapper = ref()
                if wrapper is not None and wrapper._value is not None:
                    wrapper._value.root.pinned = True
            try:
                replay = Replay(tape)
                _check(tape, replay)
            except CaptureError as exc:
                tape.invalidate(str(exc))
        if tape.invalid is not None or replay is None:
            self.eager_reason = tape.invalid
            _rebind(tensors, None)
            return out
        _rebind(tensors, replay)
        replay.release()
        kept = [(ref, data) for ref, data in tape.tensors.values() if ref() is not None]
        self.replay, self.outputs, self._hooks = replay, out, [*hooks, partial(_check_tensors, kept)]
        return out

    def __repr__(self) -> str:
        name = getattr(self.step_fn, "__name__", "step_fn")
        if self.replay is not None:
            state = f"captured: {len(self.replay.calls)} calls"
        elif self.eager_reason is not None:
            state = f"eager: {self.eager_reason}"
        elif self.calls < self.warmup:
            state = f"warming up ({self.calls}/{self.warmup})"
        else:
            state = f"recording ({self.calls - self.warmup + 1}/2)"
        return f"CapturedStep({name}, {state})"


# ----------------------------------------------------------------------------- recording
_EAGER_CALL = Function.__call__


def _recording_call(self: Function, *inputs: Tensor) -> Any:
    """Function.__call__ during a capture: the inputs' arrays are lifted into the tape for the call."""
    tape = tracing.recording()
    if tape is None:
        return _EAGER_CALL(self, *inputs)
    swapped = []
    for x in inputs:
        data = x.data
        if type(data) is np.ndarray:
            tracing.note_tensor(x)
            x.data = tape.lift(data)
            swapped.append((x, data))
    try:
        return _EAGER_CALL(self, *inputs)
    finally:
        for x, data in swapped:
            x.data = data


@contextmanager
def _recording(tape: Tape) -> Iterator[list[Callable[[], None]]]:
    """Record the CPU step run inside onto `tape`: ops lift their inputs, ``array_module`` of a CPU
    array is the tracing NumPy, minigrad's generator records its draws."""
    generator = backend.generator("cpu")
    tracing.start(tape)
    Function.__call__ = _recording_call  # type: ignore[method-assign]  # restored below
    backend._host = tracing.TracingNumpy(tape)
    backend._generators["cpu"] = RecordingGenerator(generator, tape)
    try:
        with capturing() as hooks:
            yield hooks
    finally:
        Function.__call__ = _EAGER_CALL  # type: ignore[method-assign]
        backend._host = np
        if isinstance(backend._generators.get("cpu"), RecordingGenerator):
            backend._generators["cpu"] = generator
        tracing.stop()


def _check_tensors(tensors: list[tuple[Any, np.ndarray]]) -> None:
    """Before a replay: raise if a Tensor the step reads was rebound to another array since the capture."""
    for ref, data in tensors:
        t = ref()
        if t is not None and t.data is not data:
            raise RuntimeError(
                f"graphed: a tensor of shape {t.shape} that the captured step reads was rebound to another array "
                "after the capture (x.data = ...); the replay would keep reading the old one. Copy new values in "
                "place (x.data[...] = v, Module.load_state_dict), or capture the step again")


def _output_tensors(out: Any, tape: Tape, where: str = "step_fn's result") -> list[Tensor]:
    """The Tensors `out` holds; anything else the step returns (a number) makes the tape invalid."""
    if out is None:
        return []
    if isinstance(out, (tuple, list)):
        return [t for i, item in enumerate(out) for t in _output_tensors(item, tape, f"{where}[{i}]")]
    if isinstance(out, dict):
        return [t for key, item in out.items() for t in _output_tensors(item, tape, f"{where}[{key!r}]")]
    if isinstance(out, Tensor):
        if isinstance(out.data, tracing.TracedArray) and out.data._value is not None:
            out.data._value.root.pinned = True
        return [out]
    tape.invalidate(f"{where} is a {type(out).__name__}; a captured step returns Tensors (a number would be the "
                    "same at every replay)")
    return []


def _rebind(tensors: list[Tensor], replay: Replay | None) -> None:
    """Give the returned Tensors plain arrays: the replay's (its captured memory), or the values."""
    for t in tensors:
        data = t.data
        if type(data) is tracing.TracedArray:
            value = data._value
            if replay is not None and value in replay.arrays:
                t.data = replay.arrays[value]
            else:
                t.data = np.ndarray.view(data, np.ndarray)


def _check(tape: Tape, replay: Replay) -> None:
    """Replay the tape from the state the step started in, into copies, and compare with what the eager
    step left: every array it wrote, the returned and kept temporaries, the generators' states.

    The copies are those the tape took of each external array's memory when the step first touched it
    (an array the step only reads must still hold those contents). Host calls are not called again: their
    captured results are copied in and the generators set to their states after them.
    """
    written = {id(_owner(_held(v.root))) for entry in replay.entries for v in entry.outs + entry.writes
               if v.root.kind == "external"}
    for key, (owner, contents) in tape.owners.items():
        if key not in written and owner.tobytes() != contents.tobytes():
            raise CaptureError(f"an array of shape {owner.shape} that the step reads was changed in the step by code "
                               "the capture does not see (see the rules in minigrad.capture)")
    shadow: dict[Any, np.ndarray] = {}
    overwritten = {}  # written wholly before being read: the replay writes the arrays themselves, compared by digest
    for v in tape.values:
        if v.kind != "external":
            continue
        owner = _owner(_held(v))
        if id(owner) in written and id(owner) not in tape.owners:
            overwritten[id(owner)] = owner
        elif id(owner) in written:
            if not owner.flags.c_contiguous:
                raise CaptureError(f"an array of shape {owner.shape} the step writes is not contiguous (no check)")
            copy = tape.owners[id(owner)][1]
            shadow[v] = np.ndarray(v.shape, v.dtype, buffer=copy, offset=v.address - _address(owner),
                                   strides=v.strides)
    kept = {v: replay.arrays[v] for v in tape.values if v.kind == "root" and v.pinned}
    shadow.update({v: np.empty_like(a) for v, a in kept.items()})
    after = [(gen, gen.bit_generator.state) for gen, _ in tape.generators.values()]
    eager = {key: tracing._digest(owner) for key, owner in overwritten.items()}
    for gen, state in tape.generators.values():
        gen.bit_generator.state = state
    try:
        for call in replay.checking_calls(shadow):
            call()
        compared = [(owner, tape.owners[key][1]) for key, (owner, _) in tape.owners.items() if key in written]
        mismatch = _first_difference(compared + [(a, shadow[v]) for v, a in kept.items()], after)
        for key, owner in overwritten.items():
            if mismatch is None and tracing._digest(owner) != eager[key]:
                mismatch = (f"the replay differs from the eager step in an array of shape {owner.shape} "
                            f"({owner.dtype}); something in the step is not recorded (see minigrad.capture's rules)")
    except Exception as exc:  # any failure of the replay means it cannot be used
        mismatch = f"the replay failed ({type(exc).__name__}: {exc})"
    finally:
        for gen, state in after:
            gen.bit_generator.state = state
    if mismatch is not None:
        raise CaptureError(mismatch)


def _held(value: Any) -> np.ndarray:
    """The array of an external value (the tape holds it)."""
    array = value.array
    assert array is not None  # externals are held
    return array


def _first_difference(expected: list[tuple[np.ndarray, np.ndarray]], generators: list) -> str | None:
    """Where the eager step's arrays and generators (first of each pair) differ from the replay's."""
    for array, value in expected:
        if array.tobytes() != value.tobytes():
            return (f"the replay differs from the eager step in an array of shape {array.shape} ({array.dtype}); "
                    "something in the step is not recorded (see minigrad.capture's rules)")
    for gen, state in generators:
        if gen.bit_generator.state != state:
            return "the replay draws differently from the eager step (a generator used outside minigrad.capture)"
    return None
