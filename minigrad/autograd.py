"""The autodiff core: `Function`, grad mode, and the reverse-mode graph walk behind
`backward` and `grad`.

A `Function` turns input Tensors into output Tensors. Its `forward` works on raw
arrays (numpy or cupy); its `backward` receives the output gradients as Tensors and
returns the input gradients as Tensors built from minigrad ops. When a gradient is
taken with ``create_graph=True`` those ops are recorded too, so the gradient can be
differentiated again, to any order.

Ownership: a Tensor holds its creator Function strongly, a Function holds its inputs
strongly and its outputs weakly, so the graph is a DAG with no reference cycles and
is freed by reference counting as soon as the last output is dropped.
"""
from __future__ import annotations

import weakref
from typing import Any, Literal, TypeVar, overload
from collections.abc import Callable, Sequence

from minigrad import gradients
from minigrad.backend import device_of
from minigrad.tensor import Tensor, TensorLike, is_floating
from minigrad.tracing import TracedArray

F = TypeVar("F", bound=Callable[..., Any])


class GradMode:
    """Whether new operations are recorded for differentiation (a process-wide flag)."""

    enabled = True


class _SetGradMode:
    """Context manager and decorator that sets GradMode.enabled inside its scope."""

    def __init__(self, mode: bool):
        self.mode = mode
        self._previous: list[bool] = []

    def __enter__(self) -> None:
        self._previous.append(GradMode.enabled)
        GradMode.enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        GradMode.enabled = self._previous.pop()

    def __call__(self, fn: F) -> F:
        mode = self.mode

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with _SetGradMode(mode):
                return fn(*args, **kwargs)

        wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
        return wrapper  # type: ignore[return-value]  # it takes and returns what fn does


def no_grad() -> _SetGradMode:
    """Record nothing inside: ``with no_grad(): ...`` or ``@no_grad()``."""
    return _SetGradMode(False)


def enable_grad() -> _SetGradMode:
    """Record operations inside, even within ``no_grad``."""
    return _SetGradMode(True)


def is_grad_enabled() -> bool:
    """Whether operations are being recorded (False inside ``no_grad``)."""
    return GradMode.enabled


class Function:
    """One differentiable operation. Subclasses define `forward` and `backward`.

    ``forward(*arrays) -> array | tuple[array, ...]`` computes on raw arrays.
    ``backward(*grad_outputs: Tensor) -> Tensor | None | tuple`` returns one gradient
    per input (None where an input needs none; ``self.needs_input_grad`` says which
    are wanted). The default `backward` raises: such an op has no derivative.
    """

    __slots__ = ("inputs", "outputs", "generation", "needs_input_grad", "__dict__")
    inputs: tuple[Tensor, ...]  # set to None by `release` once the graph below is freed
    # weakref.ref[Tensor] each, called to get the output; typed Any because an output whose gradient
    # is being computed is alive (the walk holds it), so the None a dead reference gives never reaches a backward
    outputs: tuple[Any, ...]
    generation: int
    needs_input_grad: tuple[bool, ...]

    def __call__(self, *inputs: Tensor) -> Any:
        # The hot path of every op: kept free of generator expressions and helper calls.
        if len(inputs) == 1:
            x = inputs[0]
            outputs = self.forward(x.data)
            record = x.requires_grad and GradMode.enabled
            generation = x.generation
        else:
            arrays = [x.data for x in inputs]
            first = type(arrays[0])
            record, generation = False, 0
            for x in inputs:
                if type(x.data) is not first:
                    _raise_device_mismatch(self, arrays)
                if x.requires_grad:
                    record = True
                if x.generation > generation:
                    generation = x.generation
            outputs = self.forward(*arrays)
            record = record and GradMode.enabled
        make = Tensor._make
        result: Tensor | tuple[Tensor, ...]
        if not record:
            return tuple([make(y) for y in outputs]) if type(outputs) is tuple else make(outputs)
        # Record: the outputs are made with this Function as their creator, one generation deeper; the
        # Function holds its inputs strongly and its outputs weakly (see the module docstring).
        child = generation + 1
        if type(outputs) is tuple:
            result = tuple([make(y, True, self, child) for y in outputs])
            self.outputs = tuple([weakref.ref(y) for y in result])
        else:
            result = make(outputs, True, self, child)
            self.outputs = (weakref.ref(result),)
        self.inputs = inputs
        self.generation = generation
        return result

    @property
    def name(self) -> str:
        return type(self).__name__

    def forward(self, *arrays: Any, **unused: Any) -> Any:  # subclasses name their arrays
        raise NotImplementedError(f"{self.name}.forward is not defined")

    def backward(self, *grad_outputs: Any, **unused: Any) -> Any:  # subclasses name their gradients
        raise RuntimeError(f"{self.name} has no derivative: it cannot be differentiated (differentiating a gradient "
                           "through it needs a second derivative it does not have)")

    def release(self) -> None:
        """Drop the inputs and saved arrays: the graph below is freed."""
        self.inputs = None  # type: ignore[assignment]  # freed: the graph walk checks for it
        if self.__dict__:
            self.__dict__.clear()


def _raise_device_mismatch(fn: Function, arrays: Sequence[Any]) -> None:
    devices = sorted({device_of(x) for x in arrays})
    if len(devices) == 1 and any(isinstance(x, TracedArray) for x in arrays):
        return  # a CPU array beside a traced one that something kept from a capture (minigrad.tracing)
    raise RuntimeError(f"{fn.name}: inputs are on different devices ({' and '.join(devices)}); "
                       "move them with .to(device) first")


# ----------------------------------------------------------------------------- graph walk
def _reachable(roots: Sequence[Tensor], allow_freed: bool = False) -> list[Function]:
    """Every Function reachable from `roots`, each once. A Function whose graph a backward pass
    freed raises, or with `allow_freed` is listed without what lies behind it."""
    seen: set[int] = set()
    found: list[Function] = []
    stack = [r.creator for r in roots if r.creator is not None]
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        found.append(fn)
        if fn.inputs is None:
            if allow_freed:
                continue
            raise RuntimeError(f"{fn.name}: trying to backward through a graph that was already freed. Pass "
                               "retain_graph=True (or create_graph=True) to the first backward/grad call if you "
                               "need to differentiate the same graph twice.")
        stack.extend(x.creator for x in fn.inputs if x.creator is not None)
    return found


def _ordered_functions(roots: Sequence[Tensor]) -> list[Function]:
    """Every Function reachable from `roots`, latest generation first.

    A Function's generation exceeds that of every Function producing its inputs, so
    this order visits each Function after all the Functions that consume its outputs.
    """
    order = _reachable(roots)
    order.sort(key=lambda f: f.generation, reverse=True)
    return order


def _needed_functions(functions: list[Function], targets: dict[int, Tensor]) -> set[Function]:
    """The Functions from which some target can be reached (only these are walked)."""
    needed: set[Function] = set()
    for fn in reversed(functions):  # earliest generation first
        for x in fn.inputs:
            if id(x) in targets or (x.creator is not None and x.creator in needed):
                needed.add(fn)
                break
    return needed


def run_backward(roots: Sequence[Tensor], root_grads: Sequence[Tensor], targets: dict[int, Tensor] | None,
                 retain_graph: bool, create_graph: bool, to_buffers: bool = False) -> dict[int, tuple[Tensor, Tensor]]:
    """Propagate `root_grads` from `roots` back through the graph.

    With `targets` (a dict id -> Tensor) only the paths that reach a target are walked,
    and the result maps each reached target to its gradient. With targets None every
    tensor that requires grad is reached and the result maps each leaf to its gradient.
    Both maps are {id(tensor): (tensor, gradient)}. The walk hands every gradient to a
    `minigrad.gradients.Sink`, which sums them; with `to_buffers` a leaf's gradient may be
    summed straight into its flat gradient buffer there.
    """
    functions = _ordered_functions(roots)
    needed = None
    if targets is not None:
        needed = _needed_functions(functions, targets)
        functions = [fn for fn in functions if fn in needed]
    sink = gradients.Sink(list(roots), list(root_grads), functions, targets, to_buffers)
    keep, take, put = sink.keep, sink.take, sink.put
    with _SetGradMode(create_graph):
        for fn in functions:  # each after every Function that consumes its outputs
            gys = take(fn)
            if gys is None:
                continue  # no gradient reached its outputs
            inputs = fn.inputs
            if needed is None:
                wanted = tuple([x.requires_grad for x in inputs])
            else:
                wanted = tuple([x.requires_grad and (id(x) in keep or x.creator in needed) for x in inputs])
            fn.needs_input_grad = wanted
            gxs = fn.backward(*gys)
            if type(gxs) is not tuple:
                gxs = (gxs,)
            for x, gx, want in zip(inputs, gxs, wanted):
                if want and gx is not None:
                    if gx.data.shape != x.data.shape:
                        raise RuntimeError(f"{fn.name}.backward returned a gradient of shape {gx.shape} "
                                           f"for an input of shape {x.shape}")
                    put(x, gx)
            if not retain_graph:
                fn.release()
    return sink.result()


# ----------------------------------------------------------------------------- the public entry points
def backward(output: Tensor, gradient: TensorLike = None, retain_graph: bool | None = None,
             create_graph: bool = False) -> None:
    """Accumulate d(output)/d(leaf) into every leaf's ``.grad`` (``output.backward()``).

    ``gradient`` is the upstream gradient (required unless `output` has one element).
    The graph is freed afterwards unless ``retain_graph`` or ``create_graph``.
    """
    if retain_graph is None:
        retain_graph = create_graph
    if not output.requires_grad:
        raise RuntimeError(f"backward(): tensor of shape {output.shape} does not require grad and has no grad_fn")
    root_grad = _root_gradient(output, gradient, "backward()")
    grads = run_backward([output], [root_grad], None, retain_graph, create_graph, to_buffers=not create_graph)
    owned: set[int] = {id(root_grad.data)}
    for leaf, g in grads.values():
        gradients.store(leaf, g, owned, create_graph)


TensorOrTensors = Tensor | Sequence[Tensor]  # what `grad` takes as outputs and as inputs


@overload  # without allow_unused every input gets a gradient (an unused one raises)
def grad(outputs: TensorOrTensors, inputs: TensorOrTensors, grad_outputs: TensorLike | Sequence[TensorLike] = None,
         retain_graph: bool | None = None, create_graph: bool = False,
         allow_unused: Literal[False] = False) -> tuple[Tensor, ...]: ...
@overload
def grad(outputs: TensorOrTensors, inputs: TensorOrTensors, grad_outputs: TensorLike | Sequence[TensorLike] = None,
         retain_graph: bool | None = None, create_graph: bool = False,
         allow_unused: bool = False) -> tuple[Tensor | None, ...]: ...
def grad(outputs: TensorOrTensors, inputs: TensorOrTensors, grad_outputs: TensorLike | Sequence[TensorLike] = None,
         retain_graph: bool | None = None, create_graph: bool = False,
         allow_unused: bool = False) -> tuple[Tensor | None, ...]:
    """The gradients of `outputs` with respect to `inputs`, as in ``torch.autograd.grad``.

    Walks only the paths from `outputs` that reach `inputs` and writes no ``.grad``.
    Returns a tuple with one Tensor per input (None for an unused input when
    ``allow_unused``). With ``create_graph=True`` the result can be differentiated again.
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    grad_outputs = [grad_outputs] if isinstance(grad_outputs, Tensor) else list(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    if retain_graph is None:
        retain_graph = create_graph
    _check_grad_arguments(outputs, inputs)
    root_grads = [_root_gradient(y, g, "grad") for y, g in zip(outputs, grad_outputs)]
    targets = {id(x): x for x in inputs}
    grads = run_backward(outputs, root_grads, targets, retain_graph, create_graph)
    result: list[Tensor | None] = []
    owned = {id(g.data) for g in root_grads}
    for i, x in enumerate(inputs):
        g = grads[id(x)][1] if id(x) in grads else None
        if g is None and not allow_unused:
            raise RuntimeError(f"grad: inputs[{i}] (shape {x.shape}) was not used to compute the outputs; "
                               "pass allow_unused=True to get None for it")
        result.append(None if g is None else gradients.handed_out(g, owned, create_graph))
    return tuple(result)


def backward_order(outputs: TensorOrTensors) -> list[Function]:
    """The Functions in the graph behind `outputs`, in the order a backward pass runs them.

    Latest generation first, so every Function comes after all the Functions that consume
    its outputs. For reading and drawing graphs: it computes nothing and frees nothing.
    Raises RuntimeError if part of the graph was already freed by a backward pass.
    """
    roots = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    for i, root in enumerate(roots):
        if not isinstance(root, Tensor):
            raise TypeError(f"backward_order: outputs[{i}] is a {type(root).__name__}, not a Tensor")
    return _ordered_functions(roots)


def _check_grad_arguments(outputs: list[Tensor], inputs: list[Tensor]) -> None:
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor):
            raise TypeError(f"grad: inputs[{i}] is a {type(x).__name__}, not a Tensor")
        if not is_floating(x.dtype):
            raise TypeError(f"grad: inputs[{i}] has dtype {x.dtype}; only floating-point tensors have gradients")
        if not x.requires_grad:
            raise RuntimeError(f"grad: inputs[{i}] (shape {x.shape}) does not require grad")
    for i, y in enumerate(outputs):
        if not y.requires_grad:
            raise RuntimeError(f"grad: outputs[{i}] (shape {y.shape}) does not require grad and has no grad_fn")


def _root_gradient(output: Tensor, gradient: TensorLike, where: str) -> Tensor:
    if gradient is None:
        if output.size != 1:
            raise RuntimeError(f"{where}: grad can be implicitly created only for an output with one element, "
                               f"got shape {output.shape}; pass a gradient of that shape")
        return gradients.implicit_root_gradient(output)
    if not isinstance(gradient, Tensor):
        gradient = Tensor(gradient, dtype=output.dtype, device=output.device)
    if gradient.shape != output.shape:
        raise RuntimeError(f"{where}: gradient has shape {gradient.shape} but the output has shape {output.shape}")
    if gradient.device != output.device:
        raise RuntimeError(f"{where}: gradient is on {gradient.device} but the output is on {output.device}")
    return gradient

