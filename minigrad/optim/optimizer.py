"""`Optimizer`: parameter groups, per-parameter state and checkpoints, as in ``torch.optim``.

A subclass validates its hyperparameters (`_check_hyperparameters`), names the state
it keeps for a group (`_state_keys`) and updates one group in place (`_update_group`).
Updates work on the raw arrays (``p.data``, ``p.grad.data``) with the array module
that owns them, so they record no graph and run on NumPy and CuPy alike.
"""
from __future__ import annotations

import copy
from collections import defaultdict
from typing import Any, Callable, Iterable

from minigrad import backend
from minigrad.autograd import enable_grad
from minigrad.tensor import Tensor, is_floating

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]]


class Optimizer:
    """The base of every optimizer.

    ``params`` is an iterable of Tensors, or of dicts (parameter groups) each with a
    ``"params"`` entry and optional per-group hyperparameters overriding ``defaults``.
    Attributes: ``defaults``, ``param_groups`` (a list of dicts) and ``state`` (a dict
    from parameter to its state dict: ``"step"`` is a count, every other entry an
    array shaped like the parameter).
    """

    def __init__(self, params: ParamsT, defaults: dict[str, Any]):
        self._check_hyperparameters(defaults)
        self.defaults = defaults
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
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
            self.add_param_group(group)

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

    def _update_group(self, group: dict[str, Any]) -> None:
        """Update, in place, every parameter of `group` that has a gradient."""
        raise NotImplementedError(f"{self.name} does not define _update_group")

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
        taken = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in taken for p in params):
            raise ValueError(f"{self.name}: some parameters appear in more than one parameter group")
        group = dict(param_group, params=params)
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self._check_hyperparameters(group)
        self.param_groups.append(group)

    def _reject_set(self, params) -> None:
        if isinstance(params, (set, frozenset)):
            raise TypeError(
                f"{self.name}: parameters must be an ordered collection (the order of a set changes "
                "between runs); use a list"
            )

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop every parameter's gradient (``set_to_none``), or zero it in place.

        A gradient that is part of a graph (from ``backward(create_graph=True)``) is
        replaced by fresh zeros rather than zeroed, so the graph it belongs to stays intact.
        """
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                elif g.creator is not None or g.requires_grad:
                    p.grad = Tensor._make(backend.array_module(g.data).zeros_like(g.data), False)
                else:
                    g.data.fill(0)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; parameters whose grad is None are skipped.

        ``closure`` (optional) re-evaluates the model and returns the loss; it runs with
        gradient recording on, before the update, and its loss is returned.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._update_group(group)
        return loss

    def state_dict(self) -> dict[str, Any]:
        """``{"state": {index: {...}}, "param_groups": [{hyperparameters..., "params": [indices]}]}``.

        Parameters are numbered in order across the groups. The state arrays are
        copies, so the result is a snapshot that later steps do not change.
        """
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
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
        floating dtype. Raises ValueError on any mismatch, changing nothing.
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
        new_state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for key, saved in state_dict["state"].items():
            if key not in owner:
                raise ValueError(f"{self.name}.load_state_dict: state for parameter {key!r}, "
                                 "which no parameter group lists")
            p, group = owner[key]
            new_state[p] = self._load_param_state(key, p, group, saved)
        self.param_groups = new_groups
        self.state = new_state

    def _load_param_state(self, key, p: Tensor, group: dict, saved: dict) -> dict[str, Any]:
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


def grad_with_decay(p, g, weight_decay: float, maximize: bool, xp):
    """The gradient an update follows: ``(-g if maximize else g) + weight_decay * p``.

    Returns ``(array, owned)``: `g` itself when there is nothing to add (``owned`` False,
    it must not be written to), else a fresh array the caller may overwrite.
    """
    if weight_decay != 0:
        d = xp.multiply(p, weight_decay)
        return (xp.subtract(d, g, out=d) if maximize else xp.add(d, g, out=d)), True
    if maximize:
        return xp.negative(g), True
    return g, False


def lerp_(start, end, weight: float, tmp, xp):
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
        diff *= weight
        start += diff
        return start
    diff *= 1 - weight
    return xp.subtract(end, diff, out=start)


def params_with_grad(optimizer: str, group: dict):
    """(parameter, its array, its gradient array, array module) for each parameter of `group` that
    has a gradient; checks each gradient's shape against its parameter's."""
    for p in group["params"]:
        g = p.grad
        if g is None:
            continue
        if g.shape != p.shape:
            raise RuntimeError(f"{optimizer}: a parameter of shape {p.shape} has a gradient of shape {g.shape}")
        yield p, p.data, g.data, backend.array_module(p.data)
