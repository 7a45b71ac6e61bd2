"""Datasets for WGAN training, by kind, and the one registry of their names.

- `wgan.data.toy`: the gan_toy.py mixtures (8gaussians, 25gaussians, swissroll) and the VEEGAN/PacGAN
  ring and grid;
- `wgan.data.images`: image sets (scikit-learn's digits, MNIST IDX files, image folders, .npz arrays);
- `wgan.data.files`: the user's own points file, array or sampler;
- `wgan.data.base`: the `Dataset` protocol every one follows.

`make_dataset` builds one from a spec string of `DATASETS` (the registry the CLI's help and
validation read)::

    "8gaussians" | "25gaussians" | "swissroll"      gan_toy.py (WGAN-GP) exactly, scaling included
    "ring" | "grid"                                   VEEGAN / PacGAN mode-coverage benchmarks
    "points:PATH"                                     the user's (N, 2) points from .npy or .csv
    "digits"                                          scikit-learn's bundled 8x8 handwritten digits
    "mnist:PATH" | "folder:PATH" | "npz:PATH"         images from IDX files, a folder, an .npz array

or from a NumPy array or a sampler function (see `from_array`, `from_sampler`).
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from collections.abc import Callable

import numpy as np

from wgan.data.base import ArrayDataset, Dataset, SamplerDataset
from wgan.data.files import from_array, from_sampler, load_points
from wgan.data.images import digit_labels, load_digits, load_folder, load_mnist, load_npz, read_idx, resize_images
from wgan.data.toy import (FixedSequence, GaussianMixture, SwissRoll, eight_gaussians, grid, ring,
                           twenty_five_gaussians)

__all__ = ["Dataset", "GaussianMixture", "FixedSequence", "SwissRoll", "ArrayDataset", "SamplerDataset",
           "make_dataset", "from_array", "from_sampler", "DATASETS", "DATASET_NAMES", "dataset_help",
           "load_points", "load_digits", "digit_labels", "load_mnist", "load_folder", "load_npz", "read_idx",
           "resize_images", "eight_gaussians", "twenty_five_gaussians", "ring", "grid"]


@dataclass(frozen=True)
class DatasetEntry:
    """One registered dataset: ``spec`` as written on the command line ("ring", "mnist:PATH"), its
    ``kind`` ("toy", "image" or "file"), its ``builder`` (taking the path first when ``takes_path``),
    and a one-line ``help``."""

    spec: str
    kind: str
    builder: Callable[..., Dataset]
    takes_path: bool
    help: str


_ENTRIES = (
    DatasetEntry("8gaussians", "toy", eight_gaussians, False, "gan_toy.py's 8 gaussians on a circle"),
    DatasetEntry("25gaussians", "toy", twenty_five_gaussians, False, "gan_toy.py's 5x5 grid (a fixed set, in order)"),
    DatasetEntry("swissroll", "toy", SwissRoll, False, "gan_toy.py's swiss roll"),
    DatasetEntry("ring", "toy", ring, False, "VEEGAN/PacGAN ring of 8 modes"),
    DatasetEntry("grid", "toy", grid, False, "VEEGAN/PacGAN 5x5 grid of 25 modes"),
    DatasetEntry("digits", "image", load_digits, False, "scikit-learn's 1797 8x8 digits"),
    DatasetEntry("mnist:PATH", "image", load_mnist, True, "MNIST IDX images (a file or a folder)"),
    DatasetEntry("folder:PATH", "image", load_folder, True, "every image under a folder"),
    DatasetEntry("npz:PATH", "image", load_npz, True, "images in an .npz array"),
    DatasetEntry("points:PATH", "file", load_points, True, "your (N, 2) points from .npy or .csv"),
)
#: spec -> entry, in the order above.
DATASETS: dict[str, DatasetEntry] = {entry.spec: entry for entry in _ENTRIES}
DATASET_NAMES = tuple(DATASETS)


def dataset_help() -> str:
    """One line listing every registered spec (for the CLI)."""
    return "dataset spec: " + " ".join(DATASETS)


def _entry(spec: str) -> DatasetEntry | None:
    kind, sep, _ = spec.partition(":")
    entry = DATASETS.get(f"{kind}:PATH" if sep else spec)
    return entry if entry is not None and entry.takes_path == bool(sep) else None


def make_dataset(spec, **options) -> Dataset:
    """Build a dataset from a name ("8gaussians", "mnist:/data/mnist", ...), an array or a sampler.

    ``options`` go to the builder: e.g. ``size=28`` for image sets, ``channels=3`` for folders,
    ``order="random"`` for 25gaussians, ``sample_shape=(2,)`` (required) with a callable.
    """
    if isinstance(spec, Dataset):
        if options:
            raise ValueError(f"make_dataset: options {sorted(options)} given with a ready-made dataset")
        return spec
    if isinstance(spec, np.ndarray):
        return from_array(spec, **options)
    if callable(spec):
        if "sample_shape" not in options:
            raise ValueError("make_dataset: a sampler function needs sample_shape=(2,) or (C, H, W)")
        return from_sampler(spec, **options)
    if not isinstance(spec, str):
        raise TypeError(f"make_dataset: expected a name, an array or a sampler, got {type(spec).__name__}")
    entry = _entry(spec)
    if entry is None:
        raise ValueError(f"make_dataset: unknown dataset {spec!r}; known: {', '.join(DATASET_NAMES)}")
    kind, _, path = spec.partition(":")
    if entry.takes_path and not path:
        raise ValueError(f"make_dataset: {spec!r} needs a path after '{kind}:'")
    accepted = list(inspect.signature(entry.builder).parameters)[1 if entry.takes_path else 0:]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ValueError(f"make_dataset: unknown options {unknown} for {spec!r}; accepted: {accepted}")
    return entry.builder(path, **options) if entry.takes_path else entry.builder(**options)
