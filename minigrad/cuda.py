"""CUDA helpers: `is_available` and `graphed`, which replays a whole training step as one CUDA graph.

On a GPU a small CuPy kernel costs ~10 µs to launch from Python and ~1 µs inside a
captured graph, so a step of a few hundred small kernels is launch-bound; capturing
it once and replaying the graph removes the Python and launch overhead.

Nothing here imports CuPy unless a CUDA path is taken: on a CPU-only machine
`graphed` raises a RuntimeError that says what capture needs.

Status: the capture path (`GraphedStep`) was written without a GPU and is not yet
verified on one in this repository (issue 5); the CPU-side checks are tested.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from minigrad import backend
from minigrad.capture import capturing, is_capturing, on_replay  # the capture state, the same for both devices
from minigrad.tensor import Tensor

__all__ = ["is_available", "graphed", "GraphedStep", "is_capturing", "on_replay", "capturing"]

_CAPTURE_RULES = (
    "A captured step may not synchronise with the host (float(loss), .item(), .numpy(), printing a "
    "tensor), copy host data to the device, or change shapes between calls: do those outside the step "
    "(copy new data into the step's input tensors in place before calling it), or run the step eagerly."
)


def is_available() -> bool:
    """True when CuPy imports and sees at least one GPU."""
    return backend.cuda_is_available()


def graphed(step_fn: Callable[[], Any], warmup: int = 3, *, device: str = "cuda") -> GraphedStep:
    """Wrap a no-argument training step so that it runs as one CUDA graph.

    The first `warmup` calls run `step_fn` eagerly (compiling kernels and creating
    optimizer state), the next call captures it into a CUDA graph and launches the
    graph, and every later call only launches the graph: each call is one step.
    `step_fn` reads its inputs from tensors that stay alive (refill them in place
    between calls), draws its random numbers from a `minigrad.philox.Philox` on
    the device, and returns Tensors (or None, or tuples/lists/dicts of them); the
    call returns the same Tensor objects each time, refreshed by the replay.

    Raises RuntimeError for ``device="cpu"`` (capture needs CUDA tensors) and when
    no CUDA GPU with CuPy can be found.
    """
    if not isinstance(warmup, (int, np.integer)) or isinstance(warmup, bool) or warmup < 1:
        raise ValueError(f"graphed: warmup must be an int >= 1 (kernels compile during the eager "
                         f"warm-up calls, never during capture), got {warmup!r}")
    if not callable(step_fn):
        raise TypeError(f"graphed: step_fn must be callable, got {type(step_fn).__name__}")
    if backend.normalize_device(device) == "cpu":
        raise RuntimeError("graphed: capturing a step into a CUDA graph needs CUDA tensors (device='cuda'); "
                           "on the CPU there is nothing to capture, call the step function directly")
    try:
        backend.xp_for("cuda")
    except RuntimeError as exc:
        raise RuntimeError(f"graphed: capturing a step into a CUDA graph needs a CUDA GPU with CuPy: {exc}") from exc
    return GraphedStep(step_fn, int(warmup))


def _check_outputs(out: Any, where: str = "step_fn's result") -> None:
    """Raise unless `out` is None, a CUDA Tensor/array, or a tuple/list/dict of those."""
    if out is None:
        return
    if isinstance(out, (tuple, list)):
        for i, item in enumerate(out):
            _check_outputs(item, f"{where}[{i}]")
        return
    if isinstance(out, dict):
        for key, item in out.items():
            _check_outputs(item, f"{where}[{key!r}]")
        return
    device = out.device if isinstance(out, Tensor) else backend.device_of(out) if hasattr(out, "dtype") else None
    if device is None or isinstance(out, np.generic):
        raise TypeError(f"graphed: {where} is a {type(out).__name__}; a captured step must return Tensors "
                        "(a Python or NumPy number would not change between replays)")
    if device != "cuda":
        raise RuntimeError(f"graphed: {where} is a CPU {type(out).__name__} of shape {tuple(out.shape)}; "
                           "capturing a step into a CUDA graph needs CUDA tensors (move the models and data "
                           "to device='cuda')")


class GraphedStep:
    """A step function run eagerly for `warmup` calls, captured on the next, replayed after.

    Warm-up and capture run on a side stream (ordered after the caller's stream by
    events) with every allocation taken from a memory pool of their own, which only
    this step allocates from: the addresses baked into the graph are never handed
    to other code. Replays are launched on the caller's current stream.

    Everything the step reads from the host is frozen at capture: Python numbers
    computed per call replay with their capture-time values (minigrad's optimizers
    and `minigrad.optim.lr_scheduler` keep step counts and learning rates on the
    device for this reason). Python code in the step runs once during capture,
    executing no GPU work then; the `on_replay` hooks it registers run before every
    launch.

    Attributes: ``calls`` (steps run so far), ``graph`` (the cupy.cuda.Graph once
    captured, else None), ``outputs`` (what the captured call returned).
    Not yet verified on a GPU in this repository (issue 5).
    """

    def __init__(self, step_fn: Callable[[], Any], warmup: int):
        cp = backend.xp_for("cuda")
        self._cp = cp
        self.step_fn, self.warmup = step_fn, warmup
        self.calls = 0
        self.graph: Any = None
        self.outputs: Any = None
        self._stream = cp.cuda.Stream(non_blocking=True)
        self._pool = cp.cuda.MemoryPool()
        self._replay_hooks: list[Callable[[], None]] = []

    def __call__(self) -> Any:
        if self.graph is None:
            if self.calls < self.warmup:
                out = self._on_side_stream(self.step_fn)
                _check_outputs(out)
                self.calls += 1
                return out
            self._on_side_stream(self._capture)  # the step's Python code ran now: no hooks for this launch
        else:
            for hook in self._replay_hooks:
                hook()
        self.graph.launch()  # on the caller's current stream
        self.calls += 1
        return self.outputs

    def _on_side_stream(self, fn: Callable[[], Any]) -> Any:
        """Run fn on the side stream with the private pool, ordered after and before the caller's stream."""
        cp = self._cp
        caller = cp.cuda.get_current_stream()
        self._stream.wait_event(caller.record())
        try:
            with self._stream, cp.cuda.using_allocator(self._pool.malloc):
                return fn()
        finally:
            caller.wait_event(self._stream.record())

    def _capture(self) -> None:
        stream = self._stream
        stream.begin_capture()
        try:
            with capturing() as self._replay_hooks:
                out = self.step_fn()
        except Exception as exc:
            try:
                stream.end_capture()
            except Exception:
                pass
            raise RuntimeError(f"graphed: the step could not be captured into a CUDA graph "
                               f"({type(exc).__name__}: {exc}). {_CAPTURE_RULES}") from exc
        try:
            graph = stream.end_capture()
        except Exception as exc:
            raise RuntimeError(f"graphed: the capture was invalidated ({type(exc).__name__}: {exc}). "
                               f"{_CAPTURE_RULES}") from exc
        _check_outputs(out)
        self.graph, self.outputs = graph, out

    def __repr__(self) -> str:
        state = "captured" if self.graph is not None else f"warming up ({self.calls}/{self.warmup})"
        return f"GraphedStep({getattr(self.step_fn, '__name__', 'step_fn')}, {state})"
