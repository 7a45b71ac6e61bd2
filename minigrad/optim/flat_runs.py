"""Flat-buffer runs: the members of a flat buffer (`minigrad.nn.flat`) that one parameter group updates together.

A `Run` covers members ``start:stop`` of a buffer, all in one group. When every member is bound to
the buffer and has its gradient in it (`Run.ready`), the optimizer updates the whole run with one set
of array calls over ``run.data`` and ``run.grad`` (the run's slices of the buffer's arrays), and the
members' state entries are views into the run's flat state arrays (``run.state``; member j's part of
entry ``name`` is ``run.views[name][j]``), all sharing one step count. `Scratch` hands out the
temporaries an update needs, kept between steps for a run.

Per-parameter state lives in the optimizer's ``state`` (a dict from parameter to its entries); the
functions here that touch it take it as an argument.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from minigrad import backend
from minigrad.nn import flat
from minigrad.tensor import Tensor

State = dict[Tensor, dict[str, Any]]  # an optimizer's per-parameter state


class Scratch:
    """Scratch arrays shaped like `like`, ``scratch[i]``: kept between steps in `keep` (a buffer's), else fresh."""

    def __init__(self, like, keep: list | None = None):
        self.like = like
        self.keep = [] if keep is None else keep

    def __getitem__(self, i: int):
        while len(self.keep) <= i:
            self.keep.append(backend.array_module(self.like).empty_like(self.like))
        return self.keep[i]


class Run:
    """The members ``start:stop`` of a flat buffer that belong to one parameter group, with the
    optimizer's state for them as flat arrays (``state``; ``views[name][j]`` is member j's part)."""

    def __init__(self, buffer: flat.FlatBuffer, start: int, stop: int):
        self.buffer, self.start, self.stop = buffer, start, stop
        self.params: list[Tensor] = [p for p in buffer.params[start:stop] if p is not None]  # all, at creation
        self.lo, self.hi = buffer.offsets[start], buffer.offsets[stop]
        self.state: dict[str, Any] = {}
        self.views: dict[str, list] = {}
        self.scratch: list = []
        self.version = buffer.version
        self.data, self.grad = buffer.data[self.lo:self.hi], buffer.grad[self.lo:self.hi]

    def bounds(self) -> list[tuple[int, int]]:
        offsets = self.buffer.offsets
        return [(offsets[i] - self.lo, offsets[i + 1] - self.lo) for i in range(self.start, self.stop)]

    def slice_views(self, name: str) -> None:
        array = self.state[name]
        self.views[name] = [array[a:b].reshape(p.shape) for (a, b), p in zip(self.bounds(), self.params)]

    def ready(self) -> bool:
        """All members bound to the buffer, each with its gradient in the buffer."""
        buffer = self.buffer
        params, views, grad_views = buffer.params, buffer.views, buffer.grad_views
        for i in range(self.start, self.stop):
            p = params[i]
            if p is None or p.data is not views[i]:
                return False
            g = p.grad
            if g is None or g.data is not grad_views[i]:
                return False
        return True

    def bound(self) -> bool:
        return all(self.buffer.is_bound(i) for i in range(self.start, self.stop))

    def mode(self, state: State, keys: set[str]) -> str | None:
        """"fresh" when no member has state yet, "uniform" when every member's state is the run's
        (views of its flat arrays and its one step count), None otherwise (update one by one)."""
        if not keys:
            return "uniform"
        states = [state.get(p) for p in self.params]
        if not any(states):
            return "fresh"
        step = self.state.get("step")
        for j, entries in enumerate(states):
            if not entries or set(entries) != keys:
                return None
            for key in keys:
                if key == "step":
                    if step is None or entries[key] is not step:
                        return None
                elif key not in self.views or entries[key] is not self.views[key][j]:
                    return None
        return "uniform"

    def ensure_arrays(self, keys: Iterable[str]) -> None:
        """Create the flat state arrays named `keys` that the run does not have yet (zeros)."""
        xp = backend.array_module(self.data)
        for key in keys:
            if key in self.state:
                continue
            if key == "step":
                self.state[key] = xp.zeros((), np.float64)
            else:
                self.state[key] = xp.zeros_like(self.data)
                self.slice_views(key)

    def init_state(self, state: State, keys: set[str]) -> None:
        """Zero the run's state arrays and make each member's state entries views of them."""
        xp = backend.array_module(self.data)
        self.ensure_arrays(keys)
        for key in keys:
            xp.copyto(self.state[key], 0)
        if not keys:
            return
        for j, p in enumerate(self.params):
            state[p] = {key: self.state[key] if key == "step" else self.views[key][j] for key in keys}

    def refresh(self, state: State) -> None:
        """Re-slice the run after its buffer changed; move its state along when the buffer moved."""
        buffer = self.buffer
        if self.version == buffer.version:
            return
        previous = self.data  # the buffer's arrays were replaced (moved) or a member left
        self.data, self.grad = buffer.data[self.lo:self.hi], buffer.grad[self.lo:self.hi]
        self.version = buffer.version
        device, dtype = backend.device_of(self.data), self.data.dtype
        if backend.device_of(previous) == device and previous.dtype == dtype:
            return
        self.scratch.clear()
        for key, array in list(self.state.items()):
            moved = backend.to_device(array, device)
            if key != "step":
                moved = moved.astype(dtype, copy=False)
            old_views = self.views.get(key, [])
            self.state[key] = moved
            if key == "step":
                for p in self.params:
                    if state.get(p, {}).get(key) is array:
                        state[p][key] = moved
                continue
            self.slice_views(key)
            for p, old_view, view in zip(self.params, old_views, self.views[key]):
                if state.get(p, {}).get(key) is old_view:
                    state[p][key] = view

    def share_step(self, state: State) -> None:
        """After loading: give the members one step count again when they all have the same one."""
        states = [state.get(p) or {} for p in self.params]
        if not all("step" in s for s in states):
            return
        steps = {float(s["step"]) for s in states}
        if len(steps) != 1:
            return
        self.ensure_arrays(["step"])
        shared = self.state["step"]
        backend.array_module(shared).copyto(shared, steps.pop())
        for s in states:
            s["step"] = shared
