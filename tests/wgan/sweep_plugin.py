"""Plug-ins for the sweep and registry tests: importable as ``tests.wgan.sweep_plugin:NAME`` on the workers (their
PYTHONPATH is the repository root), never registered in the client's process unless a test registers them.

- ``HalfPenaltyGP``: an algorithm;
- ``SignSGD``: an optimizer (a `minigrad.optim.Optimizer` subclass), and ``sign_sgd``: a build function;
- ``moons``: a dataset builder (a function returning a `wgan.data.Dataset`);
- ``register_all()``: registers the optimizer and the dataset under the names ``sign-sgd`` and ``plugin-moons``.
"""
import numpy as np

from minigrad import optim
from wgan import data, optimizers
from wgan.algorithms.wgan_gp import WGANGP


class HalfPenaltyGP(WGANGP):
    """WGAN-GP whose default penalty weights are half WGAN-GP's (lambda 5; 0.05 with the toy preset)."""

    name = "half-penalty-gp"
    defaults = dict(WGANGP.defaults, gp_lambda=5.0)
    presets = {"toy": dict(WGANGP.presets["toy"], gp_lambda=0.05)}


class SignSGD(optim.Optimizer):
    """signSGD (Bernstein et al. 2018): p <- p - lr sign(g)."""

    def __init__(self, params, lr: float = 1e-3):
        super().__init__(params, dict(lr=lr))

    def _check_hyperparameters(self, group) -> None:
        if not group["lr"] >= 0:
            raise ValueError(f"SignSGD: invalid lr={group['lr']!r}")

    def _state_keys(self, group) -> set:
        return set()

    def _update(self, xp, x, g, state, group, lr, first, scratch) -> None:
        step = xp.multiply(xp.sign(g, out=scratch[0]), lr, out=scratch[0])
        xp.subtract(x, step, out=x)


def sign_sgd(params, lr, config):
    """SignSGD, built by a function of (params, lr, config)."""
    return SignSGD(params, lr=lr)


def moons(n_points: int = 512):
    """Two interleaved half circles (scikit-learn's make_moons, noise 0.05), as a finite set of points."""
    rng = np.random.default_rng(0)
    t = rng.uniform(0, np.pi, n_points)
    upper = rng.random(n_points) < 0.5
    points = np.where(upper[:, None], np.stack([np.cos(t), np.sin(t)], 1),
                      np.stack([1 - np.cos(t), 0.5 - np.sin(t)], 1))
    return data.from_array((points + 0.05 * rng.standard_normal(points.shape)).astype(np.float32), name="moons")


def register_all() -> None:
    optimizers.register("sign-sgd", SignSGD)
    data.register("plugin-moons", moons, kind="2d", help="two half circles")
