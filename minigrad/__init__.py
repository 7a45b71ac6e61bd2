"""minigrad: a small reverse-mode autodiff engine on NumPy and CuPy whose gradients are differentiable."""
# Layers, bottom up: backend (arrays and devices) -> tensor (the container) -> autograd (Function,
# the graph walk) -> ops (Functions and their wrappers) -> creation, nn, optim, ... `minigrad.tensor`
# comes first: its last line imports autograd and ops, which are built on Tensor.
from minigrad.tensor import Tensor, bool_, float32, float64, int32, int64
from minigrad.autograd import Function, backward, enable_grad, grad, is_grad_enabled, no_grad
from minigrad.backend import cuda_is_available, manual_seed
from minigrad.creation import (arange, as_tensor, full, full_like, ones, ones_like, rand, rand_like, randn,
                               randn_like, tensor, zeros, zeros_like)
from minigrad.ops import *  # noqa: F403  (the op wrappers: exp, matmul, sum, ...; see minigrad.ops.__all__)
from minigrad.gradcheck import gradcheck, gradgradcheck
from minigrad.serialization import load, save
from minigrad import cuda  # minigrad.cuda.is_available(), graphed(); imports no CuPy
from minigrad import capture
from minigrad.capture import graphed
from minigrad.philox import Philox
from minigrad.threads import get_num_threads, set_num_threads
from minigrad import functional, nn, optim

__version__ = "0.1.0"
