"""A first-order reverse-mode engine in about 100 lines: minigrad's design.

Chapter 0 (docs/reverse_mode.md) builds this file piece by piece and names
the file of minigrad that holds each piece. Its backward computes on NumPy
arrays, so it gives first derivatives only. The staging follows DeZero,
whose design came from Chainer.
"""
import numpy as np


class Tensor:
    """An array, the Function that made it, and (after backward) a grad."""

    def __init__(self, data, creator=None):
        self.data = np.asarray(data, dtype=np.float64)
        self.creator = creator  # the Function that made it; None: a leaf
        self.generation = 0 if creator is None else creator.generation + 1
        self.grad = None        # d(output)/d(self), set by backward

    @property
    def shape(self):
        return self.data.shape

    def __add__(self, other): return Add()(self, as_tensor(other))
    def __radd__(self, other): return Add()(as_tensor(other), self)
    def __mul__(self, other): return Mul()(self, as_tensor(other))
    def __rmul__(self, other): return Mul()(as_tensor(other), self)
    def __matmul__(self, other): return MatMul()(self, other)
    def tanh(self): return Tanh()(self)
    def exp(self): return Exp()(self)
    def sum(self): return Sum()(self)
    def backward(self): backward(self)

    def __repr__(self):
        return f"Tensor({np.round(self.data, 4)})"


def as_tensor(x):
    """x if it is a Tensor, else a new leaf holding it (a constant)."""
    return x if isinstance(x, Tensor) else Tensor(x)


class Function:
    """One operation: forward on arrays; backward from the output's
    gradient to the inputs' gradients."""

    def __call__(self, *inputs):
        self.inputs = inputs                     # kept for backward
        self.generation = max(x.generation for x in inputs)
        output = self.forward(*[x.data for x in inputs])
        self.output = Tensor(output, creator=self)
        return self.output

    def forward(self, *arrays):  # arrays in, one array out
        raise NotImplementedError

    def backward(self, gy):      # gy in, one gradient per input out
        raise NotImplementedError


def sum_to(g, shape):
    """g summed down to `shape`: the backward of broadcasting."""
    lead = g.ndim - len(shape)                  # axes added in front
    g = g.sum(axis=tuple(range(lead)))
    copied = tuple(i for i, n in enumerate(shape)
                   if n == 1 and g.shape[i] != 1)   # length-1 axes
    return g.sum(axis=copied, keepdims=True)


class Add(Function):
    def forward(self, a, b): return a + b

    def backward(self, gy):
        a, b = self.inputs
        return sum_to(gy, a.shape), sum_to(gy, b.shape)


class Mul(Function):
    def forward(self, a, b): return a * b

    def backward(self, gy):
        a, b = self.inputs
        return (sum_to(gy * b.data, a.shape),
                sum_to(gy * a.data, b.shape))


class MatMul(Function):
    """a @ b for a (m, k) and b (k, n): the output is (m, n)."""
    def forward(self, a, b): return a @ b

    def backward(self, gy):                      # gy is (m, n)
        a, b = self.inputs
        return gy @ b.data.T, a.data.T @ gy      # (m, k) and (k, n)


class Tanh(Function):
    def forward(self, x): return np.tanh(x)

    def backward(self, gy):
        y = self.output.data
        return (gy * (1 - y * y),)


class Exp(Function):
    def forward(self, x): return np.exp(x)
    def backward(self, gy): return (gy * self.output.data,)


class Sum(Function):
    def forward(self, x): return x.sum()
    def backward(self, gy): return (gy * np.ones(self.inputs[0].shape),)


def backward(output):
    """Set .grad of every tensor behind output (one number) to
    d(output)/d(that tensor)."""
    output.grad = np.ones_like(output.data)
    functions, seen, stack = [], set(), [output.creator]
    while stack:                     # every Function behind output, once
        fn = stack.pop()
        if fn is not None and fn not in seen:
            seen.add(fn)
            functions.append(fn)
            stack.extend(x.creator for x in fn.inputs)
    # consumers before producers: a generation exceeds its inputs' ones
    functions.sort(key=lambda fn: fn.generation, reverse=True)
    for fn in functions:
        gxs = fn.backward(fn.output.grad)
        for x, gx in zip(fn.inputs, gxs):
            # a tensor used twice gets the sum of both gradients
            x.grad = gx if x.grad is None else x.grad + gx
