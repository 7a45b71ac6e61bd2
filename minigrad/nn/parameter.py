"""`Parameter`: a leaf Tensor that a `Module` registers as one of its learnable weights.

A Parameter may live in a flat buffer (`minigrad.nn.flat`): its ``data`` and its
gradient are then views into one contiguous array shared with the other parameters of
its optimizer's group, so that the optimizer, clipping and zeroing touch the whole
buffer in a few array calls. Assigning ``p.grad = g`` then copies ``g`` into the
buffer's gradient view (the Tensor stored is a view, not ``g`` itself). ``flat=False``
opts a parameter out: it keeps arrays of its own and is updated on its own.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from minigrad.tensor import Tensor

if TYPE_CHECKING:
    from minigrad.nn.flat import FlatBuffer

_GRAD_SLOT: Any = Tensor.__dict__["grad"]  # Tensor's slot descriptor; Parameter wraps it in a property


class Parameter(Tensor):
    """A Tensor that requires grad and is registered by a Module when assigned as an attribute.

    ``Parameter(data)`` shares ``data``'s array (no copy) when it is a Tensor, as in PyTorch.
    Operations on a Parameter return plain Tensors. ``flat`` (default True) lets an optimizer
    move the parameter into a flat buffer; set it to False (here, as ``p.flat = False``, or
    with ``Module.flat_(False)``) to keep the parameter's own arrays.
    """

    __slots__ = ("_flat_ok", "_flat_buffer", "_flat_index")

    def __init__(self, data: Any = None, requires_grad: bool = True, *, flat: bool = True):
        self._flat_buffer: FlatBuffer | None = None
        self._flat_index = -1
        self.flat = flat
        if data is None:
            data = np.zeros((0,), np.float32)
        if isinstance(data, Tensor):
            self._set_fields(data.data)
            self.requires_grad_(requires_grad)
        else:
            super().__init__(data, requires_grad=requires_grad)

    # ------------------------------------------------------------------ flat buffers
    @property
    def flat(self) -> bool:
        """Whether an optimizer may keep this parameter in a flat buffer (True by default).

        Setting it to False moves a parameter that is in a buffer out of it, into arrays
        of its own (a copy of its values and gradient).
        """
        return self._flat_ok

    @flat.setter
    def flat(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise TypeError(f"Parameter.flat must be a bool, got {value!r}")
        self._flat_ok = value
        if not value and self._flat_buffer is not None:
            self._flat_buffer.release(self)

    @property
    def grad(self) -> Tensor | None:
        return _GRAD_SLOT.__get__(self)

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        buffer = self._flat_buffer
        if buffer is not None and value is not None:
            value = buffer.adopt_grad(self._flat_index, value)
        _GRAD_SLOT.__set__(self, value)

    def _grad_buffer(self) -> Any:
        """This parameter's view of its flat buffer's gradient, where ``backward`` sums its gradient
        (`minigrad.autograd.grad_buffer`); None outside a buffer."""
        buffer = self._flat_buffer
        return None if buffer is None else buffer.grad_views[self._flat_index]

    # ------------------------------------------------------------------ copying
    def __getstate__(self):
        """Copies (``copy.deepcopy``) are not in any flat buffer: they own their arrays."""
        return {"data": self.data, "requires_grad": self.requires_grad, "grad": self.grad,
                "flat": self._flat_ok}

    def __setstate__(self, state) -> None:
        self._flat_buffer, self._flat_index, self._flat_ok = None, -1, state["flat"]
        self.data, self.requires_grad, self.grad = state["data"], state["requires_grad"], state["grad"]
        self.creator, self.generation = None, 0

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
