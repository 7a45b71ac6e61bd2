"""Toy mixtures: the gan_toy.py sets (WGAN-GP) exactly, scaling included, and the VEEGAN/PacGAN ring and grid.

Mixtures expose their ``centers`` (K, 2) and per-axis ``sigma`` so that `wgan.metrics` can count modes.
"""
from __future__ import annotations

import numpy as np

from wgan.data.base import Dataset, _check_n, split_indices

__all__ = ["GaussianMixture", "FixedSequence", "SwissRoll", "eight_gaussians", "twenty_five_gaussians", "ring",
           "grid"]


class GaussianMixture(Dataset):
    """Equal-weight isotropic Gaussian mixture, drawn afresh each call.

    A point is ``(c_k + sigma_raw * N(0, I)) / divisor`` with k uniform, computed in that order as gan_toy.py
    does; the reported ``centers`` and ``sigma`` are the raw ones divided by ``divisor``.
    """

    def __init__(self, name: str, raw_centers, raw_sigma: float, divisor: float = 1.0):
        self.name, self.kind, self.sample_shape = name, "2d", (2,)
        self._raw_centers = np.asarray(raw_centers, dtype=np.float64)
        self._raw_sigma, self._divisor = float(raw_sigma), float(divisor)
        self.centers = self._raw_centers / self._divisor
        self.sigma = self._raw_sigma / self._divisor

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        n = _check_n(n)
        k = rng.integers(len(self._raw_centers), size=n)
        points = rng.standard_normal((n, 2)) * self._raw_sigma + self._raw_centers[k]
        return points.astype(np.float32) / np.float32(self._divisor)


class FixedSequence(Dataset):
    """A fixed point set served in order, as gan_toy.py serves 25gaussians.

    ``order="sequential"`` (gan_toy): consecutive slices of ``n`` rows; when fewer than ``n`` rows remain the pass
    ends (the remainder is dropped) and the next starts at row 0 again, with no reshuffle. ``order="random"``:
    each call draws ``n`` rows uniformly with replacement (no state).
    """

    data: np.ndarray  # always set: the fixed points

    def __init__(self, name: str, points: np.ndarray, centers=None, sigma=None, order: str = "sequential"):
        if order not in ("sequential", "random"):
            raise ValueError(f"dataset {name!r}: order must be 'sequential' or 'random', got {order!r}")
        self.name, self.kind, self.sample_shape = name, "2d", (2,)
        self.data = points
        self.centers, self.sigma, self.order = centers, sigma, order
        self.cursor = 0

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        n = _check_n(n)
        if self.order == "random":
            return self.data[rng.integers(len(self.data), size=n)]
        if n > len(self.data):
            raise ValueError(f"dataset {self.name!r}: batch of {n} exceeds the {len(self.data)} fixed points")
        if self.cursor + n > len(self.data):
            self.cursor = 0
        batch = self.data[self.cursor:self.cursor + n]
        self.cursor += n
        return batch.copy()

    def reference_sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        n = _check_n(n)
        return self.data[rng.choice(len(self.data), size=n, replace=n > len(self.data))]

    def heldout_split(self, n: int, rng: np.random.Generator) -> tuple[FixedSequence, np.ndarray]:
        """A random split of n points held out; the rest, in their original order, served as before."""
        held, rest = split_indices(len(self.data), _check_n(n), rng, self.name)
        train = FixedSequence(self.name, self.data[rest], self.centers, self.sigma, self.order)
        return train, self.data[held].copy()

    def state_dict(self) -> dict:
        return {"cursor": self.cursor} if self.order == "sequential" else {}

    def load_state_dict(self, state: dict) -> None:
        if self.order == "random":
            return super().load_state_dict(state)
        cursor = int(state["cursor"])
        if not 0 <= cursor <= len(self.data):
            raise ValueError(f"dataset {self.name!r}: cursor {cursor} outside [0, {len(self.data)}]")
        self.cursor = cursor


class SwissRoll(Dataset):
    """gan_toy's swiss roll: ``make_swiss_roll(n, noise=0.25)[0][:, [0, 2]] / 7.5``, fresh each call.

    scikit-learn takes a legacy seed, so each call seeds it with an integer drawn from ``rng``.
    """

    def __init__(self, noise: float = 0.25, divisor: float = 7.5):
        self.name, self.kind, self.sample_shape = "swissroll", "2d", (2,)
        self.noise, self.divisor = float(noise), float(divisor)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        from sklearn.datasets import make_swiss_roll

        n = _check_n(n)
        if n == 0:
            return np.zeros((0, 2), np.float32)
        seed = int(rng.integers(2**31 - 1))
        data = make_swiss_roll(n_samples=n, noise=self.noise, random_state=seed)[0]
        return data.astype(np.float32)[:, [0, 2]] / np.float32(self.divisor)


def eight_gaussians() -> GaussianMixture:
    """gan_toy: centers 2 * {(±1, 0), (0, ±1), (±1/√2, ±1/√2)}, noise 0.02, all divided by 1.414."""
    r = 1.0 / np.sqrt(2)
    unit = [(1, 0), (-1, 0), (0, 1), (0, -1), (r, r), (r, -r), (-r, r), (-r, -r)]
    return GaussianMixture("8gaussians", 2.0 * np.array(unit), 0.02, divisor=1.414)


def twenty_five_gaussians(seed: int = 0, order: str = "sequential") -> FixedSequence:
    """gan_toy: 100,000 points, 4000 per center of {-4, -2, 0, 2, 4}², noise 0.05, shuffled once, / 2.828.

    The set is built from ``np.random.default_rng(seed)`` in gan_toy's loop order (repeat, x, y).
    """
    rng = np.random.default_rng(seed)
    grid = np.array([(2.0 * x, 2.0 * y) for x in range(-2, 3) for y in range(-2, 3)])
    points = (rng.standard_normal((100000 // 25, 25, 2)) * 0.05 + grid).reshape(-1, 2).astype(np.float32)
    rng.shuffle(points)
    points /= np.float32(2.828)
    return FixedSequence("25gaussians", points, centers=grid / 2.828, sigma=0.05 / 2.828, order=order)


def ring(n_modes: int = 8, radius: float = 1.0, sigma: float = 0.01) -> GaussianMixture:
    """PacGAN/VEEGAN ring: means radius·(cos 2πi/K, sin 2πi/K), i < K (K distinct modes), σ = 0.01."""
    theta = 2 * np.pi * np.arange(n_modes) / n_modes
    return GaussianMixture("ring", radius * np.stack([np.cos(theta), np.sin(theta)], 1), sigma)


def grid(sigma: float = 0.05) -> GaussianMixture:
    """VEEGAN/PacGAN grid: means {-4, -2, 0, 2, 4}², σ = 0.05."""
    means = np.array([(x, y) for x in range(-4, 5, 2) for y in range(-4, 5, 2)], dtype=np.float64)
    return GaussianMixture("grid", means, sigma)
