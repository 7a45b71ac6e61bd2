"""`Optimizer`: parameter groups, the step and checkpoints (the state dict), as in ``torch.optim``.

An update works on the raw arrays (``p.data``, ``p.grad.data``) with the array module
that owns them, so it records no graph and runs on NumPy and CuPy alike. It takes one
of two paths, with the same arithmetic:

- **whole buffer**: building an optimizer moves each group's Parameters into flat
  buffers (`minigrad.nn.flat`, one per dtype and device). A buffer's parameters are then
  updated by one set of array calls over the buffer, and their state entries are views
  into flat state arrays (as PyTorch's foreach/fused optimizers do): `minigrad.optim.flat_runs`;
- **per parameter**: plain Tensors, Parameters with ``flat=False``, and a buffer's
  parameters whenever one of them has no gradient in the buffer (``grad`` None, or part
  of a graph), was rebound to another array, or was stepped on its own before.

**Capturable.** Everything a step derives from its own progress lives on the device and
is updated by the step itself (step counts, Adam's bias corrections, each group's learning
rate), so a step captured into a graph replays as eager steps would; while a step is being
captured, the optimizer guards what the graph depends on: `minigrad.optim.capture_guard`.

A subclass validates its hyperparameters (`_check_hyperparameters`), names the state
entries it keeps (`_state_keys`) and updates arrays in place (`_update`).
"""
from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from minigrad import backend, capture
from minigrad.autograd import enable_grad
from minigrad.nn import flat
from minigrad.optim.capture_guard import CaptureGuard, DeviceLR, device_lr, refuse_while_capturing
from minigrad.optim.flat_runs import Run, Scratch
from minigrad.tensor import Tensor, is_floating

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]]


class Optimizer:
    """The base of every optimizer.

    ``params`` is an iterable of Tensors, or of dicts (parameter groups) each with a
    ``"params"`` entry and optional per-group hyperparameters overriding ``defaults``.
    Attributes: ``defaults``, ``param_groups`` (a list of dicts) and ``state`` (a dict
    from parameter to its state dict: ``"step"`` is a float64 0-d array of the
    parameter's device, every other entry an array shaped like the parameter).
    Parameters (``nn.Parameter`` with ``flat`` True) are moved into flat buffers here.
    """

    def __init__(self, params: ParamsT, defaults: dict[str, Any]):
        self._check_hyperparameters(defaults)
        self.defaults = defaults
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        self._layout: list[tuple[list[Run], list[Tensor]]] = []  # per group: flat runs, other params
        self._run_of: dict[int, tuple[Run, int]] = {}  # id(param) -> (its run, its index in it)
        self._lrs: list[DeviceLR] = []  # per group: its learning rate on the device
        self._guard = CaptureGuard(self)
        if isinstance(params, Tensor):
            raise TypeError(
                f"{self.name}: params must be an iterable of Tensors or dicts, got a single Tensor "
                f"of shape {params.shape}; wrap it in a list"
            )
        self._reject_set(params)
        groups = list(params)
        if not groups:
            raise ValueError(f"{self.name}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)  # type: ignore[arg-type]  # add_param_group rejects a non-dict

    @property
    def name(self) -> str:
        return type(self).__name__

    # ------------------------------------------------------------------ for subclasses
    def _check_hyperparameters(self, group: dict[str, Any]) -> None:
        """Raise ValueError naming the optimizer and the argument for a bad hyperparameter."""
        raise NotImplementedError(f"{self.name} does not define _check_hyperparameters")

    def _state_keys(self, group: dict[str, Any]) -> set[str]:
        """The state entries a parameter of `group` has once it has been stepped."""
        raise NotImplementedError(f"{self.name} does not define _state_keys")

    def _update(self, xp, x, g, state: dict[str, Any], group: dict[str, Any], lr, first: bool,
                scratch: Scratch) -> None:
        """Update `x` (a parameter's array, or a buffer's) in place from its gradient `g`.

        `state` holds the state entries (arrays shaped like `x`; ``"step"`` a float64 0-d
        array), zero when ``first``; `lr` is the group's learning rate as a float64 0-d
        array; `scratch` gives temporaries shaped like `x`. Every array operation goes
        through `xp` with ``out=`` (no Python number computed from array values), so that a
        captured replay does exactly what an eager step does.
        """
        raise NotImplementedError(f"{self.name} does not define _update")

    # ------------------------------------------------------------------ public API
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Append a group: its own hyperparameters win, the missing ones come from ``defaults``."""
        if not isinstance(param_group, dict):
            raise TypeError(f"{self.name}: a param group must be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{self.name}: a param group needs a 'params' entry")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        self._reject_set(params)
        params = list(params)
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{self.name}: can only optimize Tensors, but params[{i}] is a {type(p).__name__}")
            if not is_floating(p.dtype):
                raise TypeError(f"{self.name}: params[{i}] has dtype {p.dtype}; only floating-point tensors "
                                "can be optimized")
            if not p.is_leaf:
                raise ValueError(f"{self.name}: params[{i}] (shape {p.shape}) is not a leaf tensor; "
                                 "can't optimize a non-leaf Tensor")
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{self.name}: a param group contains the same parameter more than once")
        devices = sorted({p.device for p in params})
        if len(devices) > 1:
            raise ValueError(f"{self.name}: a param group's parameters must be on one device, got "
                             f"{' and '.join(devices)}; put each device's parameters in a group of its own")
        taken = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in taken for p in params):
            raise ValueError(f"{self.name}: some parameters appear in more than one parameter group")
        group = dict(param_group, params=params)
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self._check_hyperparameters(group)
        self.param_groups.append(group)
        if params:
            runs, loose = flat.partition(params, create=True)
        else:
            runs, loose = [], []
        self._layout.append(([Run(*run) for run in runs], loose))
        for run in self._layout[-1][0]:
            for j, p in enumerate(run.params):
                self._run_of[id(p)] = (run, j)
        self._lrs.append(DeviceLR())

    def _reject_set(self, params) -> None:
        if isinstance(params, (set, frozenset)):
            raise TypeError(
                f"{self.name}: parameters must be an ordered collection (the order of a set changes "
                "between runs); use a list"
            )

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop every parameter's gradient (``set_to_none``), or zero it in place.

        In place, each flat buffer's gradients are zeroed by one call. A gradient that is
        part of a graph (from ``backward(create_graph=True)``) is replaced by fresh zeros
        rather than zeroed, so the graph it belongs to stays intact.
        """
        zeroed: set[int] = set()
        if not set_to_none:
            for runs, _ in self._layout:
                for run in runs:
                    run.refresh(self.state)
                    if run.bound():
                        backend.array_module(run.grad).copyto(run.grad, 0)
                        buffer = run.buffer
                        zeroed.update(id(buffer.grad_views[i]) for i in range(run.start, run.stop))
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                elif id(g.data) in zeroed:
                    continue
                elif g.creator is not None or g.requires_grad:
                    p.grad = Tensor._make(backend.array_module(g.data).zeros_like(g.data), False)
                else:
                    backend.array_module(g.data).copyto(g.data, 0)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; parameters whose grad is None are skipped.

        ``closure`` (optional) re-evaluates the model and returns the loss; it runs with
        gradient recording on, before the update, and its loss is returned.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        capturing = capture.is_capturing()
        for i, group in enumerate(self.param_groups):
            self._step_group(i, group, capturing)
        if capturing:
            self._guard.record()
            capture.on_replay(self._guard.check_replay)
        return loss

    # ------------------------------------------------------------------ the two update paths
    def _step_group(self, i: int, group: dict[str, Any], capturing: bool) -> None:
        params = group["params"]
        if not params:
            return
        xp = backend.array_module(params[0].data)
        lr = device_lr(self, i, xp, capturing)
        keys = self._state_keys(group)
        runs, loose = self._layout[i]
        for run in runs:
            run.refresh(self.state)
            mode = run.mode(self.state, keys) if run.ready() else None
            if mode is None:
                for j, p in enumerate(run.params):
                    self._step_param(p, group, lr, keys, capturing, run, j)
                continue
            if mode == "fresh":
                refuse_while_capturing(self, capturing, f"its state for a flat buffer of {len(run.params)} parameters")
                run.init_state(self.state, keys)
            self._update(xp, run.data, run.grad, run.state, group, lr, mode == "fresh", Scratch(run.data, run.scratch))
        for p in loose:
            self._step_param(p, group, lr, keys, capturing)

    def _step_param(self, p: Tensor, group: dict[str, Any], lr, keys: set[str], capturing: bool,
                    run: Run | None = None, j: int = 0) -> None:
        g = p.grad
        if g is None:
            return
        if g.shape != p.shape:
            raise RuntimeError(f"{self.name}: a parameter of shape {p.shape} has a gradient of shape {g.shape}")
        xp = backend.array_module(p.data)
        state = self.state.get(p)
        first = not state and bool(keys)
        if first:
            refuse_while_capturing(self, capturing, f"the state of a parameter of shape {p.shape}")
            state = self.state[p] = self._new_param_state(p, keys, run, j)
        elif state and run is not None and state.get("step") is not None and state["step"] is run.state.get("step"):
            refuse_while_capturing(self, capturing, f"a step count of its own for a parameter of shape {p.shape} "
                                                       "(updated apart from its flat buffer)")
            state["step"] = xp.copy(state["step"])
        self._update(xp, p.data, g.data, state if state is not None else {}, group, lr, first, Scratch(p.data))

    def _new_param_state(self, p: Tensor, keys: set[str], run: Run | None, j: int) -> dict[str, Any]:
        xp = backend.array_module(p.data)
        state: dict[str, Any] = {}
        if run is not None:
            run.ensure_arrays(keys - {"step"})
        for key in sorted(keys):
            if key == "step":
                state[key] = xp.zeros((), np.float64)
            elif run is not None:
                state[key] = view = run.views[key][j]
                xp.copyto(view, 0)
            else:
                state[key] = xp.zeros_like(p.data)
        return state

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        """``{"state": {index: {...}}, "param_groups": [{hyperparameters..., "params": [indices]}]}``.

        Parameters are numbered in order across the groups. The state arrays are
        copies, so the result is a snapshot that later steps do not change; ``lr`` is
        the host-side value (a float).
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            if hasattr(packed.get("lr"), "dtype"):
                packed["lr"] = float(packed["lr"])
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if self.state.get(p):
                    state[index[id(p)]] = {k: _copy_value(v) for k, v in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyperparameters and state from `state_dict` (as made by `state_dict`).

        The saved groups must match this optimizer's groups in number and size, each saved
        state must have the entries its group's hyperparameters call for, and each state
        array the shape of its parameter. Arrays are copied to the parameter's device and
        floating dtype, into the existing state arrays where there are some (so a captured
        step keeps working). Raises ValueError on any mismatch, changing nothing.
        """
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= state_dict.keys():
            raise ValueError(f"{self.name}.load_state_dict: expected a dict with 'state' and 'param_groups'")
        saved_groups = copy.deepcopy(list(state_dict["param_groups"]))
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{self.name}.load_state_dict: the state dict has {len(saved_groups)} parameter groups "
                f"but the optimizer has {len(self.param_groups)}"
            )
        owner: dict[Any, tuple[Tensor, dict]] = {}
        new_groups = []
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(saved.get("params", ())) != len(group["params"]):
                raise ValueError(
                    f"{self.name}.load_state_dict: parameter group {i} has {len(saved.get('params', ()))} "
                    f"parameters in the state dict but {len(group['params'])} in the optimizer"
                )
            missing = sorted(set(self.defaults) - saved.keys())
            if missing:
                raise ValueError(
                    f"{self.name}.load_state_dict: parameter group {i} lacks the hyperparameters {missing} "
                    f"(was the state dict saved from another optimizer?)"
                )
            self._check_hyperparameters(saved)
            new_group = dict(saved, params=group["params"])
            new_groups.append(new_group)
            for key, p in zip(saved["params"], group["params"]):
                owner[key] = (p, new_group)
        loaded: dict[Tensor, dict[str, Any]] = {}
        for key, saved in state_dict["state"].items():
            if key not in owner:
                raise ValueError(f"{self.name}.load_state_dict: state for parameter {key!r}, "
                                 "which no parameter group lists")
            p, group = owner[key]
            loaded[p] = self._load_param_state(key, p, group, saved)
        self.param_groups = new_groups
        self._commit_state(loaded)

    def _load_param_state(self, key, p: Tensor, group: dict, saved: dict) -> dict[str, Any]:
        """Validated, converted copies of one parameter's saved state ("step" as a Python number)."""
        expected = self._state_keys(group)
        if set(saved) != expected:
            raise ValueError(
                f"{self.name}.load_state_dict: parameter {key} has state entries {sorted(saved)} "
                f"but its group's hyperparameters call for {sorted(expected)}"
            )
        xp = backend.array_module(p.data)
        state = {}
        for name, value in saved.items():
            if name == "step":
                state[name] = value.item() if hasattr(value, "item") else value
                continue
            shape = getattr(value, "shape", None)
            if shape != p.shape:
                raise ValueError(
                    f"{self.name}.load_state_dict: state {name!r} of parameter {key} has shape {shape} "
                    f"but the parameter has shape {p.shape}"
                )
            array = backend.to_device(value, p.device)
            state[name] = xp.array(array, dtype=p.dtype if is_floating(array.dtype) else None)
        return state

    def _commit_state(self, loaded: dict[Tensor, dict[str, Any]]) -> None:
        """Make `loaded` the state, copying into the existing arrays (flat views included) where possible."""
        old = dict(self.state)
        self.state.clear()
        for p, values in loaded.items():
            xp = backend.array_module(p.data)
            run, j = self._run_of.get(id(p), (None, 0))
            if run is not None:
                run.ensure_arrays(set(values) - {"step"})
            state: dict[str, Any] = {}
            for name, value in values.items():
                if name == "step":  # into the parameter's own count; Run.share_step may share it again
                    previous = old.get(p, {}).get(name)
                    own = previous is not None and (run is None or previous is not run.state.get("step"))
                    state[name] = previous if own else xp.zeros((), np.float64)
                    xp.copyto(state[name], value)
                    continue
                target = run.views[name][j] if run is not None else old.get(p, {}).get(name)
                if target is None or target.shape != value.shape or target.dtype != value.dtype:
                    target = value
                else:
                    xp.copyto(target, value)
                state[name] = target
            self.state[p] = state
        for runs, _ in self._layout:
            for run in runs:
                run.share_step(self.state)

    def __repr__(self) -> str:
        lines = [self.name + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines) + "\n)"


def _copy_value(value):
    return value.copy() if hasattr(value, "copy") else value


def check_non_negative(optimizer: str, name: str, value) -> None:
    """Raise ValueError unless ``value >= 0`` (NaN fails too)."""
    if not 0.0 <= value:
        raise ValueError(f"{optimizer}: invalid {name}={value!r} (must be >= 0)")


def check_unit_interval(optimizer: str, name: str, value) -> None:
    """Raise ValueError unless ``0 <= value < 1``."""
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{optimizer}: invalid {name}={value!r} (must be in [0, 1))")


def as_dtype_of(xp, scalar, like):
    """A float64 0-d device scalar cast to `like`'s dtype, for elementwise use (as PyTorch casts its
    double scalars to the tensor's type)."""
    return scalar if scalar.dtype == like.dtype else xp.asarray(scalar, dtype=like.dtype)


def grad_with_decay(xp, x, g, weight_decay: float, maximize: bool, out):
    """The gradient an update follows: ``(-g if maximize else g) + weight_decay * x``.

    Returns `g` itself when there is nothing to add (it must not be written to), else
    `out` holding the result.
    """
    if weight_decay != 0:
        d = xp.multiply(x, weight_decay, out=out)
        return xp.subtract(d, g, out=d) if maximize else xp.add(d, g, out=d)
    if maximize:
        return xp.negative(g, out=out)
    return g


def lerp_(xp, start, end, weight: float, tmp):
    """``start += weight * (end - start)`` in place, rounded as ``torch.lerp_`` rounds it.

    Below weight 0.5 that is ``start + weight * (end - start)``, from 0.5 on
    ``end - (end - start) * (1 - weight)``; weight 1 copies `end` (one pass instead of
    three; Adam with beta1 = 0, as in WGAN-GP). `tmp` is scratch shaped like `start`.
    """
    if weight == 1:
        xp.copyto(start, end)
        return start
    diff = xp.subtract(end, start, out=tmp)
    if weight < 0.5:
        xp.multiply(diff, weight, out=diff)
        return xp.add(start, diff, out=start)
    xp.multiply(diff, 1 - weight, out=diff)
    return xp.subtract(end, diff, out=start)
