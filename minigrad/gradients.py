"""Where gradients are kept: the implicit root gradient, leaf gradients summed into flat buffers, hand-outs.

`minigrad.autograd`'s graph walk calls these so that a step makes as few device operations as the math
needs (on a GPU each is a kernel launch):

- The implicit gradient of a one-element output (``loss.backward()``) is one shared ``ones`` array per
  (array module, dtype, shape) instead of a fill per call. Gradients are never written in place, and a
  shared ones handed out as a result (an output among the inputs) is copied first; on NumPy it is also
  read-only. One made while a step is being captured is not kept (the graph, or the tape, owns its memory).
- A parameter in a flat buffer (`minigrad.nn.flat`) has its ``.grad`` in a view of the buffer's gradient.
  ``backward`` writes the last of two or more contributions' sum straight into that view, copies a single
  contribution into it, and adds into an existing buffer gradient in place (as PyTorch accumulates), where
  assigning ``.grad`` would otherwise copy each sum again. The values are the same sums, in the same order.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import tracing
from minigrad.backend import array_module, is_numpy
from minigrad.tensor import Tensor

#: (array module, dtype, shape) -> the ones array every implicit root gradient of that kind shares
_SHARED_ONES: dict[tuple[int, str, tuple], Any] = {}


def implicit_root_gradient(output: Tensor) -> Tensor:
    """ones like the one-element `output`: the shared array of its kind (see the module docstring)."""
    xp = array_module(output.data)
    key = (id(np) if is_numpy(xp) else id(xp), str(output.dtype), output.shape)
    ones = _SHARED_ONES.get(key)
    if ones is None:
        ones = xp.ones(output.shape, output.dtype)
        if tracing.recording() is not None:  # made in a CPU step being captured: the tape's, not kept
            return Tensor._make(ones)
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
    return (buffer is not None and array_module(buffer) is array_module(g.data) and buffer.shape == g.shape
            and buffer.dtype == g.dtype)


def pending_contributions(functions: list) -> dict[int, int]:
    """For each leaf with a gradient buffer and no gradient yet: how many graph edges may bring it a
    gradient (an edge that brings none leaves the count above zero, and the sum is then copied)."""
    pending: dict[int, int] = {}
    for fn in functions:
        for x in fn.inputs:
            if x.creator is None and x.requires_grad and x.grad is None and buffer_of(x) is not None:
                pending[id(x)] = pending.get(id(x), 0) + 1
    return pending


class Sink:
    """Where a backward walk puts the gradients it computes (`minigrad.autograd.run_backward`).

    The walk hands each gradient to `put`, which sums the contributions to one tensor, and asks
    `take` for the gradients of a Function's outputs before calling its backward. ``grads`` maps
    ``id(tensor)`` to ``(tensor, gradient)`` (holding the tensor keeps its id unique); `result`
    gives the part the caller wants: each reached target's gradient when the walk has `targets`
    (a dict id -> Tensor, whose gradients are kept rather than taken), else every reached leaf's.
    With `into_buffers` the last of two or more contributions to a leaf with a flat gradient
    buffer is summed straight into that buffer (see the module docstring).
    """

    __slots__ = ("grads", "keep", "reached", "leaves_only", "pending", "taken")

    def __init__(self, roots: list[Tensor], root_grads: list[Tensor], functions: list,
                 targets: dict[int, Tensor] | None, into_buffers: bool):
        self.grads: dict[int, tuple[Tensor, Tensor]] = {}
        self.keep = targets if targets is not None else {}
        self.leaves_only = targets is None
        self.reached: dict[int, Tensor] = {} if targets is None else dict(targets)
        self.pending = None  # the roots' gradients never go into a buffer
        self.taken: Any = None
        for root, g in zip(roots, root_grads):
            self.put(root, g)
        self.pending = pending_contributions(functions) if into_buffers else None

    def put(self, x: Tensor, g: Tensor) -> None:
        """Add `g` to the gradient of `x`."""
        key = id(x)
        if self.leaves_only and x.creator is None:
            self.reached[key] = x
        grads = self.grads
        previous = grads.get(key)
        pending = self.pending
        if pending is not None and key in pending:
            pending[key] -= 1
            buffer = buffer_of(x)
            if not pending[key] and previous is not None and _fits(buffer, g) and previous[1].dtype == g.dtype:
                array_module(buffer).add(previous[1].data, g.data, out=buffer)
                grads[key] = (x, Tensor._make(buffer))
                return
        grads[key] = (x, g if previous is None else previous[1] + g)

    def take(self, fn: Any) -> tuple[Tensor, ...] | None:
        """The gradients of `fn`'s outputs (zeros for an output that got none; a target's is kept, the
        others removed), or None when no output got one."""
        outputs = fn.outputs
        grads, keep = self.grads, self.keep
        if len(outputs) == 1:
            key = id(outputs[0]())
            entry = grads.get(key) if key in keep else grads.pop(key, None)
            self.taken = entry  # holds the output alive while its Function's backward runs
            return None if entry is None else (entry[1],)
        entries = []
        for ref in outputs:
            key = id(ref())
            entries.append(grads.get(key) if key in keep else grads.pop(key, None))
        self.taken = entries
        gys = [None if entry is None else entry[1] for entry in entries]
        if all(g is None for g in gys):
            return None
        return tuple(_zeros_like(ref()) if g is None else g for g, ref in zip(gys, outputs))

    def result(self) -> dict[int, tuple[Tensor, Tensor]]:
        """{id(tensor): (tensor, gradient)} for each reached target, or each reached leaf."""
        grads = self.grads
        return {key: grads[key] for key in self.reached if key in grads}


def _zeros_like(y: Tensor) -> Tensor:
    return Tensor._make(array_module(y.data).zeros(y.shape, y.dtype))


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
