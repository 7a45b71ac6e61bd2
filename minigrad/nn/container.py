"""Containers: `Sequential` (a chain of modules) and `ModuleList` (an indexable list of modules)."""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator

from minigrad.nn.activation import LeakyReLU, ReLU
from minigrad.nn.conv import Conv2d, ConvTranspose2d
from minigrad.nn.linear import Linear
from minigrad.nn.module import Module
from minigrad.ops.fused import Activation

#: The layers whose output `Sequential` sends through a directly following ReLU or LeakyReLU as one
#: fused Function (minigrad.ops.fused: the activation in place on the layer's output, identical
#: values and derivatives). Each defines ``_forward_activated(input, activation)``.
FUSABLE_LAYERS = (Linear, Conv2d, ConvTranspose2d)


def fused_activation(layer: Module, following: Module) -> Activation | None:
    """The Activation to fuse into `layer` when `following` is its activation, else None.

    Only exact Linear / Conv2d / ConvTranspose2d and ReLU / LeakyReLU (0 <= slope <= 1) modules
    fuse (a subclass may override forward), and only when neither has a forward pre-hook (as
    spectral norm installs): then calling the two modules one after the other is exactly this.
    """
    if type(layer) not in FUSABLE_LAYERS or layer._forward_pre_hooks or following._forward_pre_hooks:
        return None
    if type(following) is ReLU:
        return Activation()
    if type(following) is LeakyReLU and 0 <= following.negative_slope <= 1:
        return Activation(float(following.negative_slope))
    return None


class Sequential(Module):
    """Calls its modules in order, each on the previous one's output.

    ``Sequential(m0, m1, ...)`` names them "0", "1", ...; ``Sequential(OrderedDict(name=m))``
    keeps the given names. A Linear, Conv2d or ConvTranspose2d directly followed by a ReLU or
    LeakyReLU runs as one fused Function (`fused_activation`): same results, less memory traffic.
    """

    def __init__(self, *args: Module):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(args):
                self.add_module(str(i), module)

    def forward(self, input):
        modules = tuple(self._modules.values())
        i = 0
        while i < len(modules):
            activation = fused_activation(modules[i], modules[i + 1]) if i + 1 < len(modules) else None
            if activation is None:
                input = modules[i](input)
                i += 1
            else:
                input = modules[i]._forward_activated(input, activation)
                i += 2
        return input

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(OrderedDict(list(self._modules.items())[index]))
        return list(self._modules.values())[_check_index(index, len(self), "Sequential")]

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self)), module)
        return self


class ModuleList(Module):
    """Holds modules in a list; they are registered as submodules "0", "1", ..."""

    def __init__(self, modules: Iterable[Module] | None = None):
        super().__init__()
        for module in modules or ():
            self.append(module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ModuleList(list(self._modules.values())[index])
        return list(self._modules.values())[_check_index(index, len(self), "ModuleList")]

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for module in modules:
            self.append(module)
        return self


def _check_index(index: int, length: int, owner: str) -> int:
    if not -length <= index < length:
        raise IndexError(f"{owner}: index {index} is out of range for {length} modules")
    return index % length
