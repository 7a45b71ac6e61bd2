"""A CPU emulation of capturing a step into a CUDA graph and replaying it, for the optimizer tests.

While capturing, every call the step makes through the array module (`backend.array_module`
returns a recording proxy of NumPy) runs eagerly and is recorded with its arguments. A
replay runs the `minigrad.cuda.on_replay` hooks, then repeats each recorded call with the
same arguments: the same array objects (live: their current contents are read) and the
same Python numbers (frozen at capture, as a CUDA graph freezes kernel arguments). A call
that allocated its result writes into that same array again, as a graph reuses its
allocations. Work done outside the array module (operators on arrays, Python arithmetic on
host numbers) is not replayed, just as it would not be part of a CUDA graph.
"""
from __future__ import annotations

import numpy as np

from minigrad import backend, cuda


class RecordingNumPy:
    """NumPy, with every call recorded as (function, args, kwargs, result)."""

    def __init__(self):
        self.tape: list[tuple] = []

    def __getattr__(self, name):
        target = getattr(np, name)
        if not callable(target) or isinstance(target, type):
            return target

        def call(*args, **kwargs):
            result = target(*args, **kwargs)
            if isinstance(result, np.generic):  # NumPy hands back 0-d results as scalars; CuPy as device arrays
                result = np.asarray(result)
            self.tape.append((target, args, kwargs, result))
            return result

        return call

    def replay(self) -> None:
        for target, args, kwargs, result in self.tape:
            fresh = target(*args, **kwargs)
            if isinstance(result, np.ndarray) and fresh is not result:
                np.copyto(result, fresh)


class EmulatedGraph:
    """``capture(step_fn)`` records one call of `step_fn`; ``graph()`` replays it."""

    def __init__(self, monkeypatch, step_fn):
        self.recorder = RecordingNumPy()
        with monkeypatch.context() as patch, cuda.capturing() as hooks:
            patch.setattr(backend, "array_module", lambda array: self.recorder)
            step_fn()
        self.hooks = hooks

    def __call__(self) -> None:
        for hook in self.hooks:
            hook()
        self.recorder.replay()
