"""Optimizers by name: the registry ``TrainConfig.optimizer`` is resolved in, like the algorithms'.

Built in, each with PyTorch's formulas (`minigrad.optim`) and the config fields it reads::

    adam      minigrad.optim.Adam      lr_g / lr_d, betas
    rmsprop   minigrad.optim.RMSprop   lr_g / lr_d, rmsprop_alpha, rmsprop_eps
    sgd       minigrad.optim.SGD       lr_g / lr_d

An optimizer of your own is selected by

- an import path ``"mypkg.optim:Lion"``: a subclass of `minigrad.optim.Optimizer` (built as
  ``Lion(params, lr=lr)``) or a function ``build(params, lr, config) -> Optimizer`` that reads what it needs
  from the resolved config; found by any process that can import ``mypkg`` (``wgan train``, sweep workers), or
- a name registered from Python: ``register("lion", build)``, ``@register("lion")`` on a build function or on
  an Optimizer subclass. Another process finds the name when it imports the registering module (a sweep's
  ``imports = ["mypkg.optim"]``), or through an entry point in the group ``wgan.optimizers``.

An Optimizer subclass follows ``torch.optim``'s contract (`minigrad.optim.Optimizer`): ``__init__(params,
lr=..., **hyperparameters)`` calls ``super().__init__(params, defaults)``, and ``step()`` updates every
parameter with a ``grad`` in place; its state dict is what checkpoints save.
"""
from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from minigrad import optim
from wgan.validation import ConfigError

__all__ = ["OptimizerEntry", "OPTIMIZERS", "register", "get_optimizer", "make_optimizer", "optimizer_names"]

ENTRY_POINT_GROUP = "wgan.optimizers"


@dataclass(frozen=True)
class OptimizerEntry:
    """One optimizer: its ``name``, ``build(params, lr, config) -> Optimizer``, the config ``fields`` that
    ``build`` reads besides the learning rate (for the help and the docs) and a one-line ``help``."""

    name: str
    build: Callable[[list, float, Any], optim.Optimizer]
    fields: tuple[str, ...] = ()
    help: str = ""


def _adam(params: list, lr: float, config) -> optim.Optimizer:
    return optim.Adam(params, lr=lr, betas=config.betas)


def _rmsprop(params: list, lr: float, config) -> optim.Optimizer:
    return optim.RMSprop(params, lr=lr, alpha=config.rmsprop_alpha, eps=config.rmsprop_eps)


def _sgd(params: list, lr: float, config) -> optim.Optimizer:
    return optim.SGD(params, lr=lr)


_BUILTIN = (OptimizerEntry("adam", _adam, ("betas",), "Adam (Kingma and Ba 2015)"),
            OptimizerEntry("rmsprop", _rmsprop, ("rmsprop_alpha", "rmsprop_eps"), "RMSprop (Tieleman and Hinton)"),
            OptimizerEntry("sgd", _sgd, (), "plain gradient descent"))
#: The built-in optimizers' names.
OPTIMIZERS: tuple[str, ...] = tuple(entry.name for entry in _BUILTIN)
_REGISTRY: dict[str, OptimizerEntry] = {entry.name: entry for entry in _BUILTIN}


def _entry(name: str, obj: Any, where: str) -> OptimizerEntry:
    """The entry of an Optimizer subclass or a build function found at `where`."""
    if isinstance(obj, type) and issubclass(obj, optim.Optimizer):
        cls: Any = obj  # a subclass: its __init__ takes lr (the base class's takes defaults)
        return OptimizerEntry(name, lambda params, lr, config: cls(params, lr=lr), (), (cls.__doc__ or "").strip()
                              .split("\n")[0])
    if callable(obj) and not isinstance(obj, type):
        try:
            inspect.signature(obj).bind(None, None, None)
        except (TypeError, ValueError):
            raise ConfigError(f"optimizer: {where} must take (params, lr, config)") from None
        return OptimizerEntry(name, obj, (), (obj.__doc__ or "").strip().split("\n")[0])
    raise ConfigError(f"optimizer: {where} is {obj!r}, neither a minigrad.optim.Optimizer subclass nor a function "
                      "build(params, lr, config)")


def register(name: str, build: Any = None, fields: tuple[str, ...] = (), help: str = ""):
    """Make `build` (an Optimizer subclass or ``build(params, lr, config)``) selectable as
    ``TrainConfig(optimizer=name)``; without `build`, a decorator. A built-in name cannot be replaced."""
    if not isinstance(name, str) or not name or ":" in name:
        raise ValueError(f"register: the optimizer name must be a non-empty string without ':', got {name!r}")
    if name in OPTIMIZERS:
        raise ValueError(f"register: {name!r} is a built-in optimizer; choose another name")

    def decorate(obj):
        entry = _entry(name, obj, f"register({name!r})'s argument")
        _REGISTRY[name] = OptimizerEntry(name, entry.build, tuple(fields), help or entry.help)
        return obj

    return decorate if build is None else decorate(build)


def optimizer_names() -> tuple[str, ...]:
    """The built-in names followed by those registered from Python."""
    return tuple(_REGISTRY)


def get_optimizer(spec: str) -> OptimizerEntry:
    """The entry `spec` names: a registered name, an entry point of ``wgan.optimizers``, or ``module:attr``."""
    if not isinstance(spec, str) or not spec:
        raise ConfigError(f"optimizer: expected a name or an import path module:attr, got {spec!r}")
    if spec in _REGISTRY:
        return _REGISTRY[spec]
    if ":" in spec:
        module_name, _, qualname = spec.partition(":")
        try:
            obj: Any = importlib.import_module(module_name)
        except ImportError as exc:
            raise ConfigError(f"optimizer: cannot import module {module_name!r} of {spec!r} ({exc})") from None
        for part in qualname.split("."):
            if not hasattr(obj, part):
                raise ConfigError(f"optimizer: module {module_name!r} has no attribute {qualname!r} (from {spec!r})")
            obj = getattr(obj, part)
        return _entry(spec, obj, repr(spec))
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry_point.name == spec:
            register(spec, entry_point.load())
            return _REGISTRY[spec]
    raise ConfigError(f"optimizer: {spec!r} is not one of {', '.join(optimizer_names())} (nor a name registered "
                      "with wgan.optimizers.register, or an import path module:attr)")


def make_optimizer(config, params, lr: float) -> optim.Optimizer:
    """The optimizer a resolved config names, over `params` with learning rate `lr`."""
    optimizer = get_optimizer(config.optimizer).build(list(params), lr, config)
    if not isinstance(optimizer, optim.Optimizer):
        raise ConfigError(f"optimizer: {config.optimizer!r} built {type(optimizer).__name__}, not a "
                          "minigrad.optim.Optimizer")
    return optimizer
