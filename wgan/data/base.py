"""The dataset protocol every dataset follows, and the two generic datasets (a finite array, a sampler).

``sample(n, rng)`` returns ``n`` float32 samples of shape ``(n, *sample_shape)``; 2-D points are in
data coordinates, images are ``(C, H, W)`` in [-1, 1].
"""
from __future__ import annotations

from pathlib import Path
from collections.abc import Callable

import numpy as np

__all__ = ["Dataset", "ArrayDataset", "SamplerDataset"]


class Dataset:
    """The protocol all datasets follow.

    Attributes: ``name``; ``kind`` ("2d" or "image"); ``sample_shape`` ((2,) or (C, H, W));
    ``centers`` ((K, 2) mixture means) and ``sigma`` (per-axis standard deviation) for mixtures, else None;
    ``data``: the full finite array when the dataset is one, else None.
    """

    name: str
    kind: str
    sample_shape: tuple
    centers: np.ndarray | None = None
    sigma: float | None = None
    data: np.ndarray | None = None

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n training samples, float32 of shape (n, *sample_shape)."""
        raise NotImplementedError(f"{type(self).__name__}.sample")

    def reference_sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n independent samples for evaluation; never advances the training iteration order."""
        return self.sample(n, rng)

    def heldout_split(self, n: int, rng: np.random.Generator) -> tuple[Dataset, np.ndarray]:
        """(the dataset to train on, a fixed held-out batch of n samples). A dataset that draws afresh
        (a mixture, a sampler) trains on itself and holds out a fixed draw of its distribution; a finite
        one (see `ArrayDataset`) holds out a split of its samples."""
        n = _check_n(n)
        return self, np.asarray(self.reference_sample(n, rng), dtype=np.float32)

    def state_dict(self) -> dict:
        """Iteration state to checkpoint (empty for datasets that draw independently each call)."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        if state:
            raise ValueError(f"dataset {self.name!r} keeps no state, got keys {sorted(state)}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, kind={self.kind!r}, sample_shape={self.sample_shape})"


def _check_n(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"sample: n must be a non-negative integer, got {n!r}")
    return int(n)


class ArrayDataset(Dataset):
    """A finite array of samples (points or images) drawn uniformly with replacement."""

    data: np.ndarray  # always set: the finite array itself

    def __init__(self, name: str, data: np.ndarray):
        self.name, self.data = name, data
        self.sample_shape = tuple(data.shape[1:])
        self.kind = "2d" if self.sample_shape == (2,) else "image"

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return self.data[rng.integers(len(self.data), size=_check_n(n))]

    def heldout_split(self, n: int, rng: np.random.Generator) -> tuple[ArrayDataset, np.ndarray]:
        """A random split of n samples held out; the rest (in their original order) to train on."""
        held, rest = split_indices(len(self.data), _check_n(n), rng, self.name)
        return ArrayDataset(self.name, self.data[rest]), self.data[held].astype(np.float32)


class SamplerDataset(Dataset):
    """A user's sampler ``fn(n, rng) -> array``; every result is checked against ``sample_shape``."""

    def __init__(self, name: str, fn: Callable, sample_shape: tuple):
        self.name, self.fn, self.sample_shape = name, fn, tuple(int(s) for s in sample_shape)
        self.kind = _kind_of(self.sample_shape, f"sampler {name!r}")

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        n = _check_n(n)
        out = np.asarray(self.fn(n, rng))
        if out.shape != (n, *self.sample_shape):
            raise ValueError(f"sampler {self.name!r} returned shape {out.shape}, expected {(n, *self.sample_shape)}")
        if out.dtype.kind not in "fiu" or not np.isfinite(out).all():
            raise ValueError(f"sampler {self.name!r} returned non-finite or non-numeric values (dtype {out.dtype})")
        return out.astype(np.float32)


def split_indices(size: int, n: int, rng: np.random.Generator, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(n held-out indices, the other indices in increasing order) of a finite set of `size` samples."""
    if not 0 < n < size:
        raise ValueError(f"heldout_size: {n} samples cannot be held out of dataset {name!r}, which has {size} "
                         "(at least one must remain to train on)")
    order = rng.permutation(size)
    return order[:n], np.sort(order[n:])


def _kind_of(sample_shape: tuple, what: str) -> str:
    if sample_shape == (2,):
        return "2d"
    if len(sample_shape) == 3 and sample_shape[0] in (1, 3) and min(sample_shape[1:]) >= 1:
        return "image"
    raise ValueError(f"{what}: sample shape {sample_shape} is neither 2-D points (2,) nor an image (C, H, W) "
                     "with C in (1, 3)")


def _require_file(path: Path, what: str) -> Path:
    if not path.exists():
        raise FileNotFoundError(f"{what}: {path} does not exist")
    if not path.is_file():
        raise ValueError(f"{what}: {path} is not a file")
    return path
