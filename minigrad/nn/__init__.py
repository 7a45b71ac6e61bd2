"""Neural-network layers on minigrad, with PyTorch's names, constructor signatures and defaults."""
from minigrad.nn import init, utils
from minigrad.nn.activation import LeakyReLU, ReLU, Sigmoid, Softplus, Tanh
from minigrad.nn.container import ModuleList, Sequential
from minigrad.nn.conv import Conv2d, ConvTranspose2d
from minigrad.nn.dropout import Dropout
from minigrad.nn.flatten import Flatten, Unflatten
from minigrad.nn.linear import Identity, Linear
from minigrad.nn.module import Module
from minigrad.nn.norm import BatchNorm1d, BatchNorm2d, LayerNorm
from minigrad.nn.parameter import Parameter

__all__ = [
    "BatchNorm1d", "BatchNorm2d", "Conv2d", "ConvTranspose2d", "Dropout", "Flatten", "Identity", "LayerNorm",
    "LeakyReLU", "Linear", "Module", "ModuleList", "Parameter", "ReLU", "Sequential", "Sigmoid", "Softplus", "Tanh",
    "Unflatten", "init", "utils",
]
