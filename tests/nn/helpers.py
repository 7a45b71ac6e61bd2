"""Helpers for layer tests: run a module with its parameters swapped for given tensors, and check
its first and second derivatives with respect to the input and every parameter."""
from __future__ import annotations

import minigrad
from minigrad.nn import Module


def functional(module: Module, names: list[str]):
    """fn(x, *params) that runs `module` on x with the named parameters replaced by `params`."""
    owners = []
    for name in names:
        *path, leaf = name.split(".")
        owner = module
        for part in path:
            owner = getattr(owner, part)
        owners.append((owner, leaf))

    def fn(x, *params):
        saved = [owner._parameters[leaf] for owner, leaf in owners]
        try:
            for (owner, leaf), p in zip(owners, params):
                owner._parameters[leaf] = p
            return module(x)
        finally:
            for (owner, leaf), p in zip(owners, saved):
                owner._parameters[leaf] = p

    return fn


def check_module_gradients(module: Module, x: minigrad.Tensor, device: str = "cpu", before=None) -> None:
    """gradcheck and gradgradcheck of module(x) in float64 w.r.t. x and all parameters.

    `before` (optional) is called before every evaluation, e.g. to reseed a random layer.
    """
    module.to(device, dtype=minigrad.float64)
    x = x.to(device, dtype=minigrad.float64)
    named = list(module.named_parameters())
    call = functional(module, [n for n, _ in named])

    def fn(*args):
        if before is not None:
            before()
        return call(*args)

    inputs = [x] + [p for _, p in named]
    assert minigrad.gradcheck(fn, inputs)
    assert minigrad.gradgradcheck(fn, inputs)
