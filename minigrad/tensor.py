"""`Tensor`: an n-d array on the CPU (NumPy) or a GPU (CuPy) that records how it was made."""
from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import autograd, backend

float32, float64, int32, int64, bool_ = np.float32, np.float64, np.int32, np.int64, np.bool_
_DEFAULT_FLOAT = np.dtype(np.float32)


def is_floating(dtype) -> bool:
    return np.dtype(dtype).kind == "f"


class Tensor:
    """An array plus the Function that produced it.

    Attributes: ``data`` (the numpy/cupy array), ``requires_grad``, ``grad`` (a Tensor
    filled in by ``backward``), ``creator`` (the producing Function, None for leaves).
    """

    __slots__ = ("data", "requires_grad", "grad", "creator", "generation", "__weakref__")
    __array_priority__ = 1000  # numpy defers `ndarray op Tensor` to the Tensor

    def __init__(self, data: Any, dtype=None, device=None, requires_grad: bool = False):
        if isinstance(data, Tensor):
            data = data.data
        if device is not None:
            device = backend.normalize_device(device)
        elif hasattr(data, "dtype"):
            device = backend.device_of(data)
        else:
            device = "cpu"
        xp = backend.xp_for(device)
        if hasattr(data, "dtype"):  # a numpy/cupy array or scalar keeps its dtype unless told
            array = xp.array(backend.to_device(data, device), dtype=dtype)
        else:  # Python numbers and nested lists: floats become the default float32
            array = np.array(data, dtype=dtype)
            if dtype is None and array.dtype.kind == "f":
                array = array.astype(_DEFAULT_FLOAT)
            array = xp.asarray(array)
        if array.dtype.kind not in "fiub":
            raise TypeError(f"tensor: unsupported dtype {array.dtype} (expected a float, int or bool array)")
        self.data = array
        self.grad: Tensor | None = None
        self.creator = None
        self.generation = 0
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, array, requires_grad: bool) -> "Tensor":
        """Wrap an array without copying (the hot path used by every op)."""
        t = object.__new__(cls)
        t.data = np.asarray(array) if isinstance(array, np.generic) else array
        t.requires_grad = requires_grad
        t.grad = None
        t.creator = None
        t.generation = 0
        return t

    # ------------------------------------------------------------------ properties
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def device(self) -> str:
        return backend.device_of(self.data)

    @property
    def is_leaf(self) -> bool:
        return self.creator is None

    @property
    def T(self) -> "Tensor":
        return _ops.transpose(self)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        if requires_grad and not is_floating(self.dtype):
            raise TypeError(
                f"only floating-point tensors can require gradients, got dtype {self.dtype} "
                f"(shape {self.shape}); convert with .float() first"
            )
        if not self.is_leaf and not requires_grad:
            raise RuntimeError("requires_grad_(False) on a non-leaf tensor: use .detach() instead")
        self.requires_grad = requires_grad
        return self

    # ------------------------------------------------------------------ conversion
    def detach(self) -> "Tensor":
        """The same data (shared, not copied), cut from the graph."""
        return Tensor._make(self.data, False)

    def item(self):
        if self.size != 1:
            raise ValueError(f"item(): only a tensor with one element can be converted, got shape {self.shape}")
        return self.data.item()

    def numpy(self) -> np.ndarray:
        """A NumPy array of the data (copied from the GPU for CUDA tensors)."""
        return backend.to_device(self.data, "cpu")

    def tolist(self):
        return self.numpy().tolist()

    def to(self, device=None, dtype=None) -> "Tensor":
        """Copy to another device and/or dtype; differentiable (the gradient comes back)."""
        out = self
        if dtype is not None and np.dtype(dtype) != self.dtype:
            out = _ops.astype(out, dtype)
        if device is not None and backend.normalize_device(device) != out.device:
            out = _ops.to_device(out, backend.normalize_device(device))
        return out

    def cpu(self) -> "Tensor":
        return self.to("cpu")

    def cuda(self) -> "Tensor":
        return self.to("cuda")

    def float(self) -> "Tensor":
        return self.to(dtype=np.float32)

    def double(self) -> "Tensor":
        return self.to(dtype=np.float64)

    def __array__(self, dtype=None, copy=None):
        if self.device != "cpu":
            raise TypeError("a CUDA tensor cannot be converted to a NumPy array implicitly: call .numpy()")
        return self.data if dtype is None else self.data.astype(dtype)

    def __repr__(self) -> str:
        body = np.array2string(self.numpy(), separator=", ", prefix="tensor(", precision=4, threshold=50)
        extras = []
        if self.dtype != _DEFAULT_FLOAT:
            extras.append(f"dtype={self.dtype}")
        if self.device != "cpu":
            extras.append(f"device='{self.device}'")
        if self.creator is not None:
            extras.append(f"grad_fn=<{self.creator.name}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    def __bool__(self) -> bool:
        if self.size != 1:
            raise RuntimeError(f"the truth value of a tensor with shape {self.shape} is ambiguous")
        return bool(self.data)

    __hash__ = object.__hash__

    # ------------------------------------------------------------------ autodiff
    def backward(self, gradient: "Tensor | None" = None, retain_graph: bool | None = None,
                 create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``.

        ``gradient`` is the upstream gradient (required unless self has one element).
        The graph is freed afterwards unless ``retain_graph`` or ``create_graph``.
        """
        if retain_graph is None:
            retain_graph = create_graph
        if not self.requires_grad:
            raise RuntimeError(
                f"backward(): tensor of shape {self.shape} does not require grad and has no grad_fn"
            )
        root_grad = _root_gradient(self, gradient, "backward()")
        grads = autograd.run_backward([self], [root_grad], None, retain_graph, create_graph)
        owned: set = {id(root_grad.data)}
        for leaf, g in grads.values():
            if leaf.grad is not None:
                leaf.grad = leaf.grad + g if create_graph else Tensor._make(leaf.grad.data + g.data, False)
            else:
                leaf.grad = g if create_graph else _unshared(g, owned)

    def zero_grad_(self) -> None:
        self.grad = None

    # operators are installed by minigrad.ops (see the bottom of minigrad/ops/__init__.py)


def _unshared(g: Tensor, owned: set) -> Tensor:
    """`g` detached, copied if its array is a view or already handed out (no aliasing)."""
    array = g.data
    if array.base is not None or id(array) in owned:
        array = array.copy()
    owned.add(id(array))
    return Tensor._make(array, False)


def _root_gradient(output: Tensor, gradient, where: str) -> Tensor:
    if gradient is None:
        if output.size != 1:
            raise RuntimeError(
                f"{where}: grad can be implicitly created only for an output with one element, "
                f"got shape {output.shape}; pass a gradient of that shape"
            )
        xp = backend.array_module(output.data)
        return Tensor._make(xp.ones(output.shape, output.dtype), False)
    if not isinstance(gradient, Tensor):
        gradient = Tensor(gradient, dtype=output.dtype, device=output.device)
    if gradient.shape != output.shape:
        raise RuntimeError(
            f"{where}: gradient has shape {gradient.shape} but the output has shape {output.shape}"
        )
    if gradient.device != output.device:
        raise RuntimeError(f"{where}: gradient is on {gradient.device} but the output is on {output.device}")
    return gradient


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool = False) -> tuple:
    """The gradients of `outputs` with respect to `inputs`, as in ``torch.autograd.grad``.

    Walks only the paths from `outputs` that reach `inputs` and writes no ``.grad``.
    Returns a tuple with one Tensor per input (None for an unused input when
    ``allow_unused``). With ``create_graph=True`` the result can be differentiated again.
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single_input = isinstance(inputs, Tensor)
    inputs = [inputs] if single_input else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    if retain_graph is None:
        retain_graph = create_graph
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
    root_grads = [_root_gradient(y, g, "grad") for y, g in zip(outputs, grad_outputs)]
    targets = {id(x): x for x in inputs}
    grads = autograd.run_backward(outputs, root_grads, targets, retain_graph, create_graph)
    result, owned = [], {id(g.data) for g in root_grads}
    for i, x in enumerate(inputs):
        g = grads[id(x)][1] if id(x) in grads else None
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: inputs[{i}] (shape {x.shape}) was not used to compute the outputs; "
                "pass allow_unused=True to get None for it"
            )
        if g is not None and not create_graph:
            g = _unshared(g, owned)
        result.append(g)
    return tuple(result)


autograd.TENSOR_TYPE.append(Tensor)
from minigrad import ops as _ops  # noqa: E402  (ops need Tensor defined first)
