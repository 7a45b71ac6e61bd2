"""Flat parameter buffers: many Parameters stored as views into one contiguous array.

A `FlatBuffer` holds parameters of one dtype on one device. Their values live in
``buffer.data`` (1-d), each parameter's ``data`` being a reshaped view of its slice;
their gradients live the same way in ``buffer.grad``. An optimizer, weight clipping and
gradient zeroing can then work on the whole buffer with a few array calls instead of a
loop over parameters (PyTorch's foreach/fused optimizers do the same for speed; on a GPU
every call is a kernel launch).

Optimizers create the buffers (`partition`), from the Parameters of each parameter group
that allow it (``Parameter.flat``, True by default). Nothing else changes for the user:
``p.data`` and ``p.grad`` are ordinary arrays and Tensors; assigning ``p.grad`` copies into
the buffer. A parameter whose ``data`` is rebound to another array, or that is released
(``p.flat = False``), is no longer *bound* and is then updated on its own.
"""
from __future__ import annotations

from itertools import accumulate
from collections.abc import Iterable

import numpy as np

from minigrad import backend
from minigrad.nn.parameter import Parameter
from minigrad.tensor import Tensor


class FlatBuffer:
    """Parameters of one dtype and device as views into ``data`` (values) and ``grad`` (gradients).

    Attributes: ``data`` and ``grad`` (1-d arrays of ``sum(p.size)`` elements), ``params``
    (the members in buffer order; None where a member was released), ``offsets`` (member i
    holds elements ``offsets[i]:offsets[i + 1]``), ``views`` and ``grad_views`` (member i's
    value and gradient views, shaped like it), ``version`` (bumped whenever the arrays are
    replaced or a member leaves, so holders of slices know to refresh them).
    """

    def __init__(self, params: list[Parameter]):
        first = params[0]
        xp = backend.array_module(first.data)
        self.offsets = [0, *accumulate(p.size for p in params)]
        self.params: list[Parameter | None] = list(params)
        self.data = xp.empty(self.offsets[-1], first.dtype)
        self.grad = xp.zeros(self.offsets[-1], first.dtype)
        self.version = 0
        self._slice_views()
        for i, (p, view) in enumerate(zip(params, self.views)):
            xp.copyto(view, p.data)
            old_grad = p.grad
            p.data = view
            p._flat_buffer, p._flat_index = self, i
            if old_grad is not None:
                p.grad = old_grad  # copied into its grad view when it is a plain gradient of the same kind

    def _slice_views(self) -> None:
        shapes = [p.shape if p is not None else (b - a,) for p, a, b in
                  zip(self.params, self.offsets, self.offsets[1:])]
        bounds = list(zip(self.offsets, self.offsets[1:]))
        self.views = [self.data[a:b].reshape(s) for (a, b), s in zip(bounds, shapes)]
        self.grad_views = [self.grad[a:b].reshape(s) for (a, b), s in zip(bounds, shapes)]

    @property
    def members(self) -> list[Parameter]:
        """The parameters still in the buffer."""
        return [p for p in self.params if p is not None]

    def is_bound(self, i: int) -> bool:
        """Whether member i is present and its ``data`` is still its view (not rebound)."""
        p = self.params[i]
        return p is not None and p.data is self.views[i]

    def has_flat_grad(self, i: int) -> bool:
        """Whether member i's ``.grad`` is its view into ``grad``."""
        p = self.params[i]
        g = None if p is None else p.grad
        return g is not None and g.data is self.grad_views[i]

    def adopt_grad(self, i: int, value: Tensor) -> Tensor:
        """What member i stores as ``.grad`` when assigned `value`: a view of ``grad`` holding a
        copy of `value`, when `value` is a plain gradient (no graph) of the member's shape, dtype
        and device; `value` itself otherwise (a gradient that is part of a graph stays one)."""
        view = self.grad_views[i]
        array = value.data
        if array is view:
            return value
        if (value.creator is None and not value.requires_grad and backend.device_of(array) == backend.device_of(view)
                and array.shape == view.shape and array.dtype == view.dtype):
            backend.array_module(view).copyto(view, array)
            return Tensor._make(view, False)
        return value

    def release(self, p: Parameter) -> None:
        """Move member `p` out of the buffer, into a copy of its values and gradient."""
        i = p._flat_index
        grad = p.grad
        p._flat_buffer, p._flat_index = None, -1
        if p.data is self.views[i]:
            p.data = self.views[i].copy()
        if grad is not None and grad.data is self.grad_views[i]:
            p.grad = Tensor._make(grad.data.copy(), False)
        self.params[i] = None
        self.version += 1

    def to(self, device: str | None, dtype) -> None:
        """Move the whole buffer to `device` and/or cast it to the floating `dtype` (one copy each);
        the bound members' ``data`` and flat gradients become views of the new arrays."""
        data, grad = self.data, self.grad
        if device is not None:
            data, grad = backend.to_device(data, device), backend.to_device(grad, device)
        if dtype is not None:
            data, grad = data.astype(dtype, copy=False), grad.astype(dtype, copy=False)
        if data is self.data and grad is self.grad:
            return
        bound = [self.is_bound(i) for i in range(len(self.params))]
        flat_grad = [b and self.has_flat_grad(i) for i, b in enumerate(bound)]
        self.data, self.grad = data, grad
        self._slice_views()
        self.version += 1
        for i, p in enumerate(self.params):
            if p is None:
                continue
            if bound[i]:
                p.data = self.views[i]
            if flat_grad[i]:
                p.grad = Tensor._make(self.grad_views[i], False)


def buffer_of(p: Tensor) -> FlatBuffer | None:
    """The flat buffer `p` is a member of (None for a plain Tensor or a parameter with its own arrays)."""
    return getattr(p, "_flat_buffer", None)


def partition(params: Iterable[Tensor], create: bool = False) -> tuple[list[tuple[FlatBuffer, int, int]], list]:
    """Split `params` into runs held contiguously by flat buffers and the rest.

    Returns ``(runs, loose)``: each run ``(buffer, start, stop)`` covers members
    ``start:stop`` of `buffer`, all in `params`; ``loose`` lists the others, in order.
    With ``create``, the Parameters of `params` that allow it (``flat``, requiring grad,
    in no buffer yet) are first moved into one new buffer per dtype and device.
    """
    params = list(params)
    if create:
        fresh: dict[tuple, list] = {}
        for p in params:
            if isinstance(p, Parameter) and p.flat and p.requires_grad and p._flat_buffer is None and p.size:
                fresh.setdefault((backend.device_of(p.data), np.dtype(p.dtype)), []).append(p)
        for group in fresh.values():
            FlatBuffer(group)
    indices: dict[int, tuple[FlatBuffer, list[int]]] = {}
    loose = []
    for p in params:
        buffer = buffer_of(p)
        if buffer is None or not isinstance(p, Parameter):
            loose.append(p)
        else:
            indices.setdefault(id(buffer), (buffer, []))[1].append(p._flat_index)
    runs = []
    for buffer, members in indices.values():
        members.sort()
        start = members[0]
        for a, b in zip(members, members[1:] + [-1]):
            if b != a + 1:
                runs.append((buffer, start, a + 1))
                start = b
    return runs, loose


def whole_buffers(params: Iterable[Tensor]) -> tuple[list[FlatBuffer], list]:
    """The buffers all of whose remaining members are in `params` and bound, and the other params.

    What clipping, zeroing and moving can do to the whole buffer at once (a released
    member's slice is unused, so it may be touched too).
    """
    params = list(params)
    chosen = {id(p) for p in params}
    buffers: dict[int, FlatBuffer] = {}
    for p in params:
        buffer = buffer_of(p)
        if buffer is not None and id(buffer) not in buffers:
            if all(q is None or (id(q) in chosen and buffer.is_bound(i)) for i, q in enumerate(buffer.params)):
                buffers[id(buffer)] = buffer
    rest = [p for p in params if id(buffer_of(p)) not in buffers]
    return list(buffers.values()), rest
