"""Where gradients are kept: the implicit root gradient, leaf gradients summed into flat buffers, hand-outs.

`minigrad.autograd`'s graph walk calls these so that a step makes as few device operations as the math
needs (on a GPU each is a kernel launch):

- The implicit gradient of a one-element output (``loss.backward()``) is one shared ``ones`` array per
  (array module, dtype, shape) instead of a fill per call. Gradients are never written in place, and a
  shared ones handed out as a result (an output among the inputs) is copied first; on NumPy it is also
  read-only. One made while a CUDA graph is being captured is not kept (the graph owns its memory).
- A parameter in a flat buffer (`minigrad.nn.flat`) has its ``.grad`` in a view of the buffer's gradient.
  ``backward`` writes the last of two or more contributions' sum straight into that view, copies a single
  contribution into it, and adds into an existing buffer gradient in place (as PyTorch accumulates), where
  assigning ``.grad`` would otherwise copy each sum again. The values are the same sums, in the same order.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.backend import array_module
from minigrad.tensor import Tensor

#: (array module, dtype, shape) -> the ones array every implicit root gradient of that kind shares
_SHARED_ONES: dict[tuple[int, str, tuple], Any] = {}


def implicit_root_gradient(output: Tensor) -> Tensor:
    """ones like the one-element `output`: the shared array of its kind (see the module docstring)."""
    xp = array_module(output.data)
    key = (id(xp), str(output.dtype), output.shape)
    ones = _SHARED_ONES.get(key)
    if ones is None:
        ones = xp.ones(output.shape, output.dtype)
        if isinstance(ones, np.ndarray):
            ones.flags.writeable = False
        elif getattr(xp.cuda.get_current_stream(), "is_capturing", lambda: True)():
            return Tensor._make(ones)
        _SHARED_ONES[key] = ones
    return Tensor._make(ones)


def _is_shared_ones(array: Any) -> bool:
    return any(array is ones for ones in _SHARED_ONES.values())


def unshared(g: Tensor, owned: set[int]) -> Tensor:
    """`g` detached, copied if its array is a view or already handed out (no aliasing)."""
    array = g.data
    if array.base is not None or id(array) in owned:
        array = array.copy()
    owned.add(id(array))
    return Tensor._make(array)


def handed_out(g: Tensor, owned: set[int], create_graph: bool) -> Tensor:
    """A gradient as `grad` returns it: `unshared`, or with `create_graph` itself (never the shared ones)."""
    if not create_graph:
        return unshared(g, owned)
    return Tensor._make(g.data.copy()) if _is_shared_ones(g.data) else g


def buffer_of(leaf: Tensor) -> Any:
    """The array a leaf's ``.grad`` lives in when it has one of its own (a parameter in a flat buffer), else None."""
    view = getattr(leaf, "_grad_buffer", None)
    return None if view is None else view()


def _fits(buffer: Any, g: Tensor) -> bool:
    return buffer is not None and type(buffer) is type(g.data) and buffer.shape == g.shape and buffer.dtype == g.dtype


def pending_contributions(functions: list) -> dict[int, int]:
    """For each leaf with a gradient buffer and no gradient yet: how many graph edges may bring it a
    gradient (an edge that brings none leaves the count above zero, and the sum is then copied)."""
    pending: dict[int, int] = {}
    for fn in functions:
        for x in fn.inputs:
            if x.creator is None and x.requires_grad and x.grad is None and buffer_of(x) is not None:
                pending[id(x)] = pending.get(id(x), 0) + 1
    return pending


def accumulate(grads: dict, x: Tensor, g: Tensor, pending: dict[int, int] | None = None) -> None:
    """grads[id(x)] += g; with `pending` (see `pending_contributions`) the last of two or more contributions'
    sum is written into x's gradient buffer."""
    key = id(x)
    previous = grads.get(key)
    if pending is not None and key in pending:
        pending[key] -= 1
        buffer = buffer_of(x)
        if not pending[key] and previous is not None and _fits(buffer, g) and previous[1].dtype == g.dtype:
            array_module(buffer).add(previous[1].data, g.data, out=buffer)
            grads[key] = (x, Tensor._make(buffer))
            return
    grads[key] = (x, g if previous is None else previous[1] + g)


def store(leaf: Tensor, g: Tensor, owned: set[int], create_graph: bool) -> None:
    """Accumulate `g` into ``leaf.grad`` (what ``backward`` does for each leaf it reached)."""
    buffer = None if create_graph else buffer_of(leaf)
    if not _fits(buffer, g):
        buffer = None
    if buffer is not None and g.data is buffer:  # summed into the buffer already
        leaf.grad = g
    elif leaf.grad is not None:
        if create_graph:
            leaf.grad = leaf.grad + g
        elif buffer is not None and leaf.grad.data is buffer:  # in place
            array_module(buffer).add(buffer, g.data, out=buffer)
        else:
            leaf.grad = Tensor._make(leaf.grad.data + g.data)
    elif buffer is not None:  # one copy, straight into the buffer
        array_module(buffer).copyto(buffer, g.data)
        leaf.grad = Tensor._make(buffer)
    else:
        leaf.grad = handed_out(g, owned, create_graph)
