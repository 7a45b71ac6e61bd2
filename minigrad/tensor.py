"""`Tensor`: an n-d array on the CPU (NumPy) or a GPU (CuPy) that records how it was made.

This module is the data container. The graph walk (``backward``, ``grad``) lives in
`minigrad.autograd` and the operations in `minigrad.ops`; the methods here are one-line
doors into them, declared on the class so that readers and type checkers see them.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import backend
from minigrad.types import Array, DeviceLike, DTypeLike, Scalar

float32, float64, int32, int64, bool_ = np.float32, np.float64, np.int32, np.int64, np.bool_
_DEFAULT_FLOAT = np.dtype(np.float32)

TensorLike = Any  # a Tensor, a Python number, or an array (scalars and arrays become constants)


def is_floating(dtype: DTypeLike) -> bool:
    return np.dtype(dtype).kind == "f"


def as_array(data: Any, dtype: DTypeLike = None, device: DeviceLike = None, copy: bool = True) -> Any:
    """`data` (a Tensor, array, number or nested list) as an array on `device`.

    Arrays keep their dtype unless told; Python floats become the default float32.
    With ``copy=False`` an array already of that dtype and device is returned as is.
    """
    if isinstance(data, Tensor):
        data = data.data
    if device is not None:
        device = backend.normalize_device(device)
    elif hasattr(data, "dtype"):
        device = backend.device_of(data)
    else:
        device = "cpu"
    xp = backend.xp_for(device)
    if hasattr(data, "dtype"):  # a numpy/cupy array or scalar
        moved = backend.to_device(data, device)
        xp = backend.array_module(moved)  # (the tracing NumPy while a CPU step is captured)
        array = xp.array(moved, dtype=dtype) if copy and moved is data else xp.asarray(moved, dtype=dtype)
    else:  # Python numbers and nested lists
        array = np.array(data, dtype=dtype)
        if dtype is None and array.dtype.kind == "f":
            array = array.astype(_DEFAULT_FLOAT)
        array = xp.asarray(array)
    if array.dtype.kind not in "fiub":
        raise TypeError(f"tensor: unsupported dtype {array.dtype} (expected a float, int or bool array)")
    return array


class Tensor:
    """An array plus the Function that produced it.

    Attributes: ``data`` (the numpy/cupy array), ``requires_grad``, ``grad`` (a Tensor
    filled in by ``backward``), ``creator`` (the producing Function, None for leaves) and
    ``generation`` (its depth in the graph, which orders the backward walk).
    """

    __slots__ = ("data", "requires_grad", "grad", "creator", "generation", "__weakref__")
    __array_priority__ = 1000  # numpy defers `ndarray op Tensor` to the Tensor

    def __init__(self, data: Any, dtype: DTypeLike = None, device: DeviceLike = None,
                 requires_grad: bool = False):
        self._set_fields(as_array(data, dtype, device))
        if requires_grad:
            self.requires_grad_(True)

    def _set_fields(self, array: Any, requires_grad: bool = False, creator: Any = None, generation: int = 0) -> None:
        """The one place a Tensor's fields are set up (`__init__`, `_make`, `Parameter`)."""
        self.data: Array = np.asarray(array) if isinstance(array, np.generic) else array
        self.requires_grad = requires_grad
        self.grad: Tensor | None = None
        self.creator: Any = creator  # the Function that made this tensor
        self.generation = generation

    @classmethod
    def _make(cls, array: Any, requires_grad: bool = False, creator: Any = None, generation: int = 0) -> Tensor:
        """Wrap an array without copying or checking (the hot path used by every op); a Function's
        outputs are made with it as their `creator`, one `generation` deeper than its inputs."""
        t = object.__new__(cls)
        t._set_fields(array, requires_grad, creator, generation)
        return t

    # ------------------------------------------------------------------ properties
    @property
    def shape(self) -> tuple[int, ...]: return self.data.shape
    @property
    def ndim(self) -> int: return self.data.ndim
    @property
    def size(self) -> int: return self.data.size
    @property
    def dtype(self) -> np.dtype: return self.data.dtype
    @property
    def device(self) -> str: return backend.device_of(self.data)
    @property
    def is_leaf(self) -> bool: return self.creator is None  # made by no Function: a leaf of the graph

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and not is_floating(self.dtype):
            raise TypeError(f"only floating-point tensors can require gradients, got dtype {self.dtype} "
                            f"(shape {self.shape}); convert with .float() first")
        if not self.is_leaf and not requires_grad:
            raise RuntimeError("requires_grad_(False) on a non-leaf tensor: use .detach() instead")
        self.requires_grad = requires_grad
        return self

    # ------------------------------------------------------------------ conversion
    def detach(self) -> Tensor:
        """The same data (shared, not copied), cut from the graph."""
        return Tensor._make(self.data)

    def item(self) -> Scalar:
        if self.size != 1:
            raise ValueError(f"item(): only a tensor with one element can be converted, got shape {self.shape}")
        return self.data.item()

    def numpy(self) -> np.ndarray:
        """A NumPy array of the data (copied from the GPU for CUDA tensors)."""
        return backend.to_device(self.data, "cpu")

    def tolist(self) -> Any:
        return self.numpy().tolist()

    def to(self, device: DeviceLike = None, dtype: DTypeLike = None) -> Tensor:
        """Copy to another device and/or dtype; differentiable (the gradient comes back)."""
        out = self
        if dtype is not None and np.dtype(dtype) != self.dtype:
            out = ops.astype(out, dtype)
        if device is not None and backend.normalize_device(device) != out.device:
            out = ops.copy_to_device(out, backend.normalize_device(device))
        return out

    def cpu(self) -> Tensor: return self.to("cpu")
    def cuda(self) -> Tensor: return self.to("cuda")
    def float(self) -> Tensor: return self.to(dtype=np.float32)
    def double(self) -> Tensor: return self.to(dtype=np.float64)

    def __array__(self, dtype: DTypeLike = None, copy: bool | None = None) -> np.ndarray:
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

    # ------------------------------------------------------------------ autodiff (minigrad.autograd)
    def backward(self, gradient: TensorLike = None, retain_graph: bool | None = None,
                 create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``; see `minigrad.autograd.backward`."""
        autograd.backward(self, gradient, retain_graph, create_graph)

    def zero_grad_(self) -> None:
        self.grad = None

    # ------------------------------------------------------------------ operators (minigrad.ops)
    def __add__(self, other: TensorLike) -> Tensor: return ops.add(self, other)
    def __radd__(self, other: TensorLike) -> Tensor: return ops.add(other, self)
    def __sub__(self, other: TensorLike) -> Tensor: return ops.sub(self, other)
    def __rsub__(self, other: TensorLike) -> Tensor: return ops.sub(other, self)
    def __mul__(self, other: TensorLike) -> Tensor: return ops.mul(self, other)
    def __rmul__(self, other: TensorLike) -> Tensor: return ops.mul(other, self)
    def __truediv__(self, other: TensorLike) -> Tensor: return ops.div(self, other)
    def __rtruediv__(self, other: TensorLike) -> Tensor: return ops.div(other, self)
    def __pow__(self, other: TensorLike) -> Tensor: return ops.pow(self, other)
    def __rpow__(self, other: TensorLike) -> Tensor: return ops.pow(other, self)
    def __matmul__(self, other: Tensor) -> Tensor: return ops.matmul(self, other)
    def __rmatmul__(self, other: Tensor) -> Tensor: return ops.matmul(other, self)
    def __neg__(self) -> Tensor: return ops.neg(self)
    def __pos__(self) -> Tensor: return self
    def __abs__(self) -> Tensor: return ops.abs(self)
    def __getitem__(self, index: Any) -> Tensor: return ops.getitem(self, index)
    # comparisons give boolean tensors that carry no gradient (so == and != override object's bool ones)
    def __lt__(self, other: TensorLike) -> Tensor: return ops.lt(self, other)
    def __le__(self, other: TensorLike) -> Tensor: return ops.le(self, other)
    def __gt__(self, other: TensorLike) -> Tensor: return ops.gt(self, other)
    def __ge__(self, other: TensorLike) -> Tensor: return ops.ge(self, other)
    def __eq__(self, other: TensorLike) -> Tensor: return ops.eq(self, other)  # type: ignore[override]
    def __ne__(self, other: TensorLike) -> Tensor: return ops.ne(self, other)  # type: ignore[override]

    def exp(self) -> Tensor: return ops.exp(self)
    def log(self) -> Tensor: return ops.log(self)
    def sqrt(self) -> Tensor: return ops.sqrt(self)
    def sin(self) -> Tensor: return ops.sin(self)
    def cos(self) -> Tensor: return ops.cos(self)
    def tanh(self) -> Tensor: return ops.tanh(self)
    def sigmoid(self) -> Tensor: return ops.sigmoid(self)
    def relu(self) -> Tensor: return ops.relu(self)
    def softplus(self, beta: Scalar = 1.0) -> Tensor: return ops.softplus(self, beta)
    def abs(self) -> Tensor: return ops.abs(self)
    def pow(self, exponent: TensorLike) -> Tensor: return ops.pow(self, exponent)
    def clamp(self, min: Scalar | None = None, max: Scalar | None = None) -> Tensor: return ops.clamp(self, min, max)
    clip = clamp
    def matmul(self, other: Tensor) -> Tensor: return ops.matmul(self, other)
    def astype(self, dtype: DTypeLike) -> Tensor: return ops.astype(self, dtype)

    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor: return ops.sum(self, axis, keepdims)
    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor: return ops.mean(self, axis, keepdims)
    def var(self, axis: Any = None, keepdims: bool = False, correction: int = 1) -> Tensor:
        return ops.var(self, axis, keepdims, correction)
    def max(self, axis: Any = None, keepdims: bool = False) -> Tensor: return ops.max(self, axis, keepdims)
    def min(self, axis: Any = None, keepdims: bool = False) -> Tensor: return ops.min(self, axis, keepdims)
    def logsumexp(self, axis: Any = None, keepdims: bool = False) -> Tensor: return ops.logsumexp(self, axis, keepdims)

    def reshape(self, *shape: Any) -> Tensor: return ops.reshape(self, *shape)
    view = reshape
    def transpose(self, *axes: int) -> Tensor: return ops.transpose(self, *axes)
    @property
    def T(self) -> Tensor: return ops.transpose(self)
    def permute(self, *axes: Any) -> Tensor: return ops.permute(self, *axes)
    def broadcast_to(self, shape: tuple[int, ...]) -> Tensor: return ops.broadcast_to(self, shape)
    def expand(self, *shape: Any) -> Tensor: return ops.expand(self, *shape)
    def squeeze(self, axis: Any = None) -> Tensor: return ops.squeeze(self, axis)
    def unsqueeze(self, axis: int) -> Tensor: return ops.unsqueeze(self, axis)
    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor: return ops.flatten(self, start_dim, end_dim)

    # ------------------------------------------------------------------ in place, outside the graph
    # For what is done to parameters and buffers under `minigrad.no_grad()` (weight clipping,
    # EMA, power-iteration vectors); see minigrad/ops/inplace.py. Each returns `self`.
    def add_(self, other: TensorLike, alpha: Scalar = 1.0) -> Tensor: return ops.inplace.add_(self, other, alpha)
    def sub_(self, other: TensorLike, alpha: Scalar = 1.0) -> Tensor: return ops.inplace.add_(self, other, -alpha)
    def mul_(self, other: TensorLike) -> Tensor: return ops.inplace.mul_(self, other)
    def div_(self, other: TensorLike) -> Tensor: return ops.inplace.div_(self, other)
    def lerp_(self, end: TensorLike, weight: Scalar) -> Tensor: return ops.inplace.lerp_(self, end, weight)
    def clamp_(self, min: Scalar | None = None, max: Scalar | None = None) -> Tensor:
        return ops.inplace.clamp_(self, min, max)
    def copy_(self, src: TensorLike) -> Tensor: return ops.inplace.copy_(self, src)
    def fill_(self, value: Scalar) -> Tensor: return ops.inplace.fill_(self, value)
    def zero_(self) -> Tensor: return ops.inplace.fill_(self, 0)


# The one late binding, and why: Tensor's methods above call the graph walk and the ops, and
# both of those modules are built on Tensor, so they can only be imported once the class
# exists. `minigrad/__init__.py` imports this module first; nothing else reaches back here.
from minigrad import autograd, ops  # noqa: E402
