"""Neural-network layers on minigrad, with PyTorch's names, constructor signatures and defaults."""
from minigrad.nn import init
from minigrad.nn.activation import LeakyReLU, ReLU, Sigmoid, Softplus, Tanh
from minigrad.nn.container import ModuleList, Sequential
from minigrad.nn.flatten import Flatten, Unflatten
from minigrad.nn.linear import Identity, Linear
from minigrad.nn.module import Module
from minigrad.nn.parameter import Parameter

__all__ = [
    "Flatten", "Identity", "LeakyReLU", "Linear", "Module", "ModuleList", "Parameter", "ReLU",
    "Sequential", "Sigmoid", "Softplus", "Tanh", "Unflatten", "init",
]
