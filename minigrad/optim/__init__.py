"""Optimizers that update minigrad parameters in place, with ``torch.optim``'s names, formulas and defaults."""
from minigrad.optim.optimizer import Optimizer
from minigrad.optim.sgd import SGD
from minigrad.optim.rmsprop import RMSprop
from minigrad.optim.adam import Adam
from minigrad.optim import lr_scheduler

__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "lr_scheduler"]
