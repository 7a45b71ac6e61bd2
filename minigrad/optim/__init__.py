"""Optimizers that update minigrad parameters in place, with ``torch.optim``'s names, formulas and defaults."""
from minigrad.optim.optimizer import Optimizer
from minigrad.optim.sgd import SGD
from minigrad.optim.rmsprop import RMSprop
from minigrad.optim.adam import Adam
from minigrad.optim import lr_scheduler

#: The built-in optimizers, the registry the tests take their list from (`tests/optim`).
OPTIMIZERS: tuple[type[Optimizer], ...] = (SGD, RMSprop, Adam)

__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "OPTIMIZERS", "lr_scheduler"]
