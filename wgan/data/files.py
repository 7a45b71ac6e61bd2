"""The user's own data: a points file (.npy/.csv), an array in memory, a sampler function."""
from __future__ import annotations

import os
from pathlib import Path
from collections.abc import Callable

import numpy as np

from wgan.data.base import ArrayDataset, SamplerDataset, _require_file
from wgan.data.images import _image_dataset, _to_nchw, _to_unit_range

__all__ = ["load_points", "from_array", "from_sampler"]


def load_points(path: str | os.PathLike) -> ArrayDataset:
    """(N, 2) points from an .npy file or a comma/whitespace-separated .csv (an optional header line)."""
    path = _require_file(Path(path), "points")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        try:
            arr = np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError) as e:
            raise ValueError(f"points: {path} is not a readable .npy file ({e})") from None
        if not isinstance(arr, np.ndarray):
            arr.close()
            raise ValueError(f"points: {path} is an .npz archive, not an .npy array")
    elif suffix in (".csv", ".txt"):
        arr = _read_csv(path)
    else:
        raise ValueError(f"points: {path} has extension {suffix!r}; expected .npy or .csv")
    if arr.dtype.kind not in "fiu":
        raise ValueError(f"points: {path} holds dtype {arr.dtype}, expected numbers")
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] == 0:
        raise ValueError(f"points: {path} holds an array of shape {arr.shape}, expected (N, 2) with N >= 1")
    if not np.isfinite(arr).all():
        raise ValueError(f"points: {path} contains NaN or infinite values")
    return ArrayDataset(f"points:{path}", arr.astype(np.float32))


def _read_csv(path: Path) -> np.ndarray:
    """Rows of numbers separated by commas and/or whitespace; '#' lines skipped; the first line may be a header."""
    rows = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            fields = line.replace(",", " ").split()
            if not fields or line.lstrip().startswith("#"):
                continue
            try:
                rows.append([float(s) for s in fields])
            except ValueError:
                if lineno == 1:
                    continue
                raise ValueError(f"points: {path} line {lineno} is not numeric: {line.strip()[:60]!r}") from None
            if len(rows[-1]) != len(rows[0]):
                raise ValueError(f"points: {path} line {lineno} has {len(rows[-1])} columns, "
                                 f"the first data row has {len(rows[0])}")
    if not rows:
        raise ValueError(f"points: {path} contains no data rows")
    return np.array(rows, dtype=np.float64)


def from_array(array: np.ndarray, name: str = "array") -> ArrayDataset:
    """A dataset over the user's array: (N, 2) points, or images (N, H, W) / (N, C, H, W) / (N, H, W, C)."""
    arr = np.asarray(array)
    if arr.ndim == 2:
        if arr.shape[1] != 2 or len(arr) == 0:
            raise ValueError(f"from_array({name!r}): points must have shape (N, 2) with N >= 1, got {arr.shape}")
        if arr.dtype.kind not in "fiu" or not np.isfinite(arr).all():
            raise ValueError(f"from_array({name!r}): points must be finite numbers (dtype {arr.dtype})")
        return ArrayDataset(name, arr.astype(np.float32))
    where = f"from_array({name!r})"
    return _image_dataset(name, _to_unit_range(_to_nchw(arr, where), where))


def from_sampler(fn: Callable, sample_shape: tuple, name: str = "sampler") -> SamplerDataset:
    """A dataset over the user's sampler ``fn(n, rng) -> array of shape (n, *sample_shape)``."""
    if not callable(fn):
        raise TypeError(f"from_sampler: fn must be callable, got {type(fn).__name__}")
    return SamplerDataset(name, fn, sample_shape)
