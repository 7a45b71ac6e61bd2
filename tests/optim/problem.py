"""A small deterministic problem and float64 NumPy reference optimizers for the optimizer tests.

The references are written from the textbook formulas (see each optimizer's docstring),
independently of minigrad.optim's in-place arithmetic.
"""
import numpy as np

from minigrad import optim

#: The names of the built-in optimizers (`minigrad.optim.OPTIMIZERS`): each has a reference below.
OPTIMIZER_NAMES = [cls.__name__ for cls in optim.OPTIMIZERS]
SHAPES = [(3, 4), (4,), (4, 2), (2,)]  # an MLP-like set of weights and biases


def initial_params(seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in SHAPES]


_RNG = np.random.default_rng(1)
_SCALES = [_RNG.uniform(0.5, 2.0, s) for s in SHAPES]
_TARGETS = [_RNG.standard_normal(s) for s in SHAPES]


def gradients(params, step: int) -> list[np.ndarray]:
    """A bounded, nonlinear, step-dependent gradient field: tanh(A (p - c)) + 0.1 p + noise(step)."""
    noise = np.random.default_rng(1000 + step)
    return [np.tanh(a * (p - c)) + 0.1 * p + 0.05 * noise.standard_normal(p.shape)
            for p, a, c in zip(params, _SCALES, _TARGETS)]


def sgd_reference(params, steps, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                  maximize=False):
    params = [p.copy() for p in params]
    bufs = [None] * len(params)
    trajectory = []
    for t in range(steps):
        for i, g in enumerate(gradients(params, t)):
            d = (-g if maximize else g) + weight_decay * params[i]
            if momentum != 0:
                bufs[i] = d.copy() if bufs[i] is None else momentum * bufs[i] + (1 - dampening) * d
                d = d + momentum * bufs[i] if nesterov else bufs[i]
            params[i] = params[i] - lr * d
        trajectory.append([p.copy() for p in params])
    return trajectory


def rmsprop_reference(params, steps, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                      centered=False, maximize=False):
    params = [p.copy() for p in params]
    sq = [np.zeros_like(p) for p in params]
    avg = [np.zeros_like(p) for p in params]
    buf = [np.zeros_like(p) for p in params]
    trajectory = []
    for t in range(steps):
        for i, g in enumerate(gradients(params, t)):
            g = (-g if maximize else g) + weight_decay * params[i]
            sq[i] = alpha * sq[i] + (1 - alpha) * g * g
            if centered:
                avg[i] = alpha * avg[i] + (1 - alpha) * g
                denom = np.sqrt(sq[i] - avg[i] ** 2) + eps
            else:
                denom = np.sqrt(sq[i]) + eps
            if momentum > 0:
                buf[i] = momentum * buf[i] + g / denom
                params[i] = params[i] - lr * buf[i]
            else:
                params[i] = params[i] - lr * g / denom
        trajectory.append([p.copy() for p in params])
    return trajectory


def adam_reference(params, steps, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                   maximize=False):
    b1, b2 = betas
    params = [p.copy() for p in params]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    vmax = [np.zeros_like(p) for p in params]
    trajectory = []
    for t in range(1, steps + 1):
        for i, g in enumerate(gradients(params, t - 1)):
            g = (-g if maximize else g) + weight_decay * params[i]
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            vmax[i] = np.maximum(vmax[i], v[i])
            m_hat = m[i] / (1 - b1 ** t)
            v_hat = (vmax[i] if amsgrad else v[i]) / (1 - b2 ** t)
            params[i] = params[i] - lr * m_hat / (np.sqrt(v_hat) + eps)
        trajectory.append([p.copy() for p in params])
    return trajectory


REFERENCES = {"SGD": sgd_reference, "RMSprop": rmsprop_reference, "Adam": adam_reference}
assert set(REFERENCES) == set(OPTIMIZER_NAMES), "every optimizer of minigrad.optim.OPTIMIZERS needs a reference"

# (optimizer name, keyword arguments): every option, alone and combined.
CONFIGS = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True)),
    ("SGD", dict(lr=0.05, weight_decay=0.1)),
    ("SGD", dict(lr=0.02, momentum=0.5, weight_decay=0.05, maximize=True)),
    ("SGD", dict(lr=0.02, momentum=0.7, nesterov=True, weight_decay=0.05, maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, centered=True)),
    ("RMSprop", dict(lr=0.005, momentum=0.9)),
    ("RMSprop", dict(lr=0.005, momentum=0.5, centered=True, weight_decay=0.1, eps=1e-3)),
    ("RMSprop", dict(lr=0.01, weight_decay=0.1, maximize=True)),
    ("RMSprop", dict(lr=0.01, alpha=0.3, centered=True, eps=1e-2)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.95), eps=1e-4)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, betas=(0.0, 0.9))),  # WGAN-GP's setting
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, maximize=True)),
    ("Adam", dict(lr=0.01, betas=(0.5, 0.9), amsgrad=True, weight_decay=0.05, maximize=True)),
]


def config_id(config) -> str:
    name, kwargs = config
    return name + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items())
