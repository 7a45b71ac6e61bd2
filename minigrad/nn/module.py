"""`Module`: the base class of layers, holding Parameters, buffers and submodules by attribute name.

Assigning a `Parameter` to an attribute registers it as a learnable weight, assigning a
`Module` registers a submodule, and `register_buffer` registers non-learnable state (the
running statistics of batch norm, the power-iteration vectors of spectral norm). All three
are found recursively by `named_parameters`, `named_buffers`, `named_modules` and saved by
`state_dict` under dotted names ("features.0.weight"), as in PyTorch.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, NamedTuple
from collections.abc import Callable, Iterator

import numpy as np

from minigrad import backend
from minigrad.autograd import no_grad
from minigrad.nn import flat
from minigrad.nn.parameter import Parameter
from minigrad.tensor import Tensor, is_floating


class IncompatibleKeys(NamedTuple):
    """What `Module.load_state_dict` did not match: keys the module lacked, keys the state lacked."""

    missing_keys: list
    unexpected_keys: list


class RemovableHandle:
    """Returned by `register_forward_pre_hook`; ``handle.remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks: dict):
        self._hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        self._hooks.pop(self.id, None)


class Module:
    """Base class of all layers. Subclasses call ``super().__init__()`` first and define `forward`."""

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())

    # ------------------------------------------------------------------ calling
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args, **kwargs):
        for hook in tuple(self._forward_pre_hooks.values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        return self.forward(*args, **kwargs)

    def register_forward_pre_hook(self, hook: Callable) -> RemovableHandle:
        """Run ``hook(module, args)`` before every forward; a non-None result replaces the args."""
        handle = RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle.id] = hook
        return handle

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {name!r} before Module.__init__() is called")
        params, buffers, modules = self._parameters, self._buffers, self._modules
        if isinstance(value, Parameter):
            self._forget(name)
            self.register_parameter(name, value)
        elif name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign a {type(value).__name__} as parameter {name!r} of {type(self).__name__} "
                    "(a Parameter or None is required)"
                )
            params[name] = None
        elif isinstance(value, Module):
            self._forget(name)
            modules[name] = value
        elif name in modules:
            if value is not None:
                raise TypeError(f"cannot assign a {type(value).__name__} as child module {name!r} (a Module or None)")
            modules[name] = None
        elif name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign a {type(value).__name__} as buffer {name!r} (a Tensor or None)")
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str) -> None:
        self.__dict__.pop(name, None)
        for table in (self._parameters, self._buffers, self._modules):
            table.pop(name, None)
        self._non_persistent_buffers.discard(name)

    def __getattr__(self, name: str) -> Any:
        # only called when normal lookup fails: look in the registries
        d = self.__dict__
        for table in ("_parameters", "_buffers", "_modules"):
            if table in d and name in d[table]:
                return d[table][name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        for table in (self._parameters, self._buffers, self._modules):
            if name in table:
                del table[name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def _check_name(self, name: str, kind: str) -> None:
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"{kind} name must be a non-empty string without '.', got {name!r}")
        if name in self.__dict__ or (hasattr(type(self), name)):
            raise KeyError(f"attribute {name!r} already exists on {type(self).__name__}; cannot register a {kind}")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register `param` (a Parameter, or None for an absent one such as ``bias=False``) as `name`."""
        if name not in self._parameters:
            self._check_name(name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be a Parameter or None, got {type(param).__name__}")
        self._forget(name)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register non-learnable state; persistent buffers are saved by `state_dict`."""
        if name not in self._buffers:
            self._check_name(name, "buffer")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: {name!r} must be a Tensor or None, got {type(tensor).__name__}")
        self._forget(name)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        if name not in self._modules:
            self._check_name(name, "module")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module or None, got {type(module).__name__}")
        self._forget(name)
        self._modules[name] = module

    register_module = add_module

    # ------------------------------------------------------------------ traversal
    def named_modules(self, memo: set | None = None, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and all below it, each once, as (dotted name, module); this one is named ``prefix``."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen: set = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def _named_members(self, table: str, prefix: str, recurse: bool) -> Iterator[tuple[str, Any]]:
        seen: set = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, table).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, Parameter) for each parameter, shared ones once."""
        return self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call ``fn(m)`` on every submodule (children first) and then on self, e.g. for custom init."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ modes and gradients
    def train(self, mode: bool = True) -> Module:
        """Set training mode (``mode=False`` is eval mode) here and in every submodule."""
        if not isinstance(mode, bool):
            raise ValueError(f"train: mode must be a bool, got {mode!r}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def flat_(self, flat: bool = True) -> Module:
        """Allow (default) or forbid optimizers to keep this module's parameters in flat buffers.

        ``flat_(False)`` sets ``p.flat = False`` on every parameter: each keeps arrays of its
        own (a parameter already in a buffer is copied out) and optimizers update it on its own.
        """
        if not isinstance(flat, bool):
            raise TypeError(f"flat_: flat must be a bool, got {flat!r}")
        for p in self.parameters():
            p.flat = flat
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's ``.grad``: drop it (default) or fill it with zeros in place
        (one call per flat buffer that holds only this module's parameters)."""
        params = list(self.parameters())
        if set_to_none:
            for p in params:
                p.grad = None
            return
        buffers, _ = flat.whole_buffers(params)
        zeroed: set[int] = set()
        for buffer in buffers:
            backend.array_module(buffer.grad).copyto(buffer.grad, 0)
            zeroed.update(id(view) for view in buffer.grad_views)
        for p in params:
            if p.grad is None or id(p.grad.data) in zeroed:
                continue
            p.grad = p.grad.detach()
            backend.array_module(p.grad.data).copyto(p.grad.data, 0)

    # ------------------------------------------------------------------ devices and dtypes
    def to(self, device=None, dtype=None) -> Module:
        """Move (and/or cast floating) parameters and buffers in place; every Parameter keeps its identity.

        A flat buffer holding only this module's parameters moves as a whole (its parameters
        stay views into it); a parameter whose buffer it shares with others leaves the buffer.
        Nothing is copied when the device and dtype are already right.
        """
        device = None if device is None else backend.normalize_device(device)
        dtype = None if dtype is None else np.dtype(dtype)
        if dtype is not None and dtype.kind != "f":
            raise TypeError(f"Module.to: dtype must be a floating type, got {dtype}")

        def convert(t: Tensor) -> None:
            array = t.data
            if device is not None:
                array = backend.to_device(array, device)
            if dtype is not None and is_floating(array.dtype):
                array = array.astype(dtype, copy=False)
            t.data = array

        buffers, loose = flat.whole_buffers(self.parameters())
        for buffer in buffers:
            buffer.to(device, dtype)
        for p in loose:
            shared = flat.buffer_of(p)
            moves = (device is not None and p.device != device) or (dtype is not None and p.dtype != dtype)
            if shared is not None and moves:
                shared.release(p)
            convert(p)
            if p.grad is not None:
                convert(p.grad)
        for b in self.buffers():
            convert(b)
        return self

    def cpu(self) -> Module:
        return self.to("cpu")

    def cuda(self) -> Module:
        return self.to("cuda")

    def float(self) -> Module:
        return self.to(dtype=np.float32)

    def double(self) -> Module:
        return self.to(dtype=np.float64)

    # ------------------------------------------------------------------ state dicts
    def state_dict(self, prefix: str = "", keep_vars: bool = False) -> OrderedDict[str, Tensor]:
        """Parameters and persistent buffers by dotted name, detached (sharing data) unless ``keep_vars``."""
        state: OrderedDict = OrderedDict()
        for module_prefix, module in self.named_modules(prefix=prefix):
            base = f"{module_prefix}." if module_prefix else ""
            for name, p in module._parameters.items():
                if p is not None:
                    state[base + name] = p if keep_vars else p.detach()
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent_buffers:
                    state[base + name] = b if keep_vars else b.detach()
        return state

    def load_state_dict(self, state_dict: dict, strict: bool = True) -> IncompatibleKeys:
        """Copy values (Tensors or numpy arrays) into the parameters and persistent buffers in place.

        Shapes must match exactly; values are cast to each target's dtype and device. With
        ``strict`` every key of ``state_dict()`` must be present and no other key may be.
        Raises RuntimeError listing all missing/unexpected keys and size mismatches at once.
        """
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            value = value.data if isinstance(value, Tensor) else value
            if not hasattr(value, "shape"):
                errors.append(f'While copying the parameter named "{key}", expected a Tensor or array '
                              f"but got {type(value).__name__}.")
            elif tuple(value.shape) != target.shape:
                errors.append(f"size mismatch for {key}: copying a param with shape {tuple(value.shape)} from "
                              f"checkpoint, the shape in current model is {target.shape}.")
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ".")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ".")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(errors))
        with no_grad():
            for key, target in own.items():
                if key in state_dict:
                    value = state_dict[key]
                    value = value.data if isinstance(value, Tensor) else value
                    target.data[...] = backend.to_device(value, target.device).astype(target.dtype, copy=False)
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ printing
    def extra_repr(self) -> str:
        """The constructor arguments shown inside the parentheses of ``repr``."""
        return ""

    def __repr__(self) -> str:
        children = [f"({name}): " + repr(child).replace("\n", "\n  ") for name, child in self._modules.items()]
        extra = self.extra_repr()
        if not children:
            return f"{type(self).__name__}({extra})"
        lines = ([extra] if extra else []) + children
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules))
