"""Datasets for WGAN training, by kind, and the one registry of their names.

- `wgan.data.toy`: the gan_toy.py mixtures (8gaussians, 25gaussians, swissroll) and the VEEGAN/PacGAN
  ring and grid;
- `wgan.data.images`: image sets (scikit-learn's digits, MNIST IDX files, image folders, .npz arrays);
- `wgan.data.files`: the user's own points file, array or sampler;
- `wgan.data.base`: the `Dataset` protocol every one follows.

`make_dataset` builds one from a spec string: one of `DATASETS` (the built-in ones; the CLI's help and the docs
list them), a name registered from Python (`register`), or an import path::

    "8gaussians" | "25gaussians" | "swissroll"      gan_toy.py (WGAN-GP) exactly, scaling included
    "ring" | "grid"                                   VEEGAN / PacGAN mode-coverage benchmarks
    "points:PATH"                                     the user's (N, 2) points from .npy or .csv
    "digits"                                          scikit-learn's bundled 8x8 handwritten digits
    "mnist:PATH" | "folder:PATH" | "npz:PATH"         images from IDX files, a folder, an .npz array

or from a NumPy array or a sampler function (see `from_array`, `from_sampler`). Each entry names its kind,
``"2d"`` (points) or ``"image"`` ((C, H, W) in [-1, 1]): the kind every `Dataset` reports, which picks the
metrics (`wgan.metrics.METRICS_BY_KIND`) and the figures.

A dataset of your own is named by

- an import path ``"mypkg.data:moons"``: a function returning a `Dataset` (`from_array`, `from_sampler`, or a
  subclass of your own), called with ``dataset_options``; any process that can import ``mypkg`` finds it, or
- a name registered from Python, ``register("moons", moons, kind="2d", help="...")`` (a spec ending in
  ``":PATH"`` passes the path after the colon as the builder's first argument). Another process finds the name
  when it imports the registering module (a sweep's ``imports = ["mypkg.data"]``).
"""
from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from wgan.data.base import ArrayDataset, Dataset, SamplerDataset
from wgan.data.files import from_array, from_sampler, load_points
from wgan.data.images import digit_labels, load_digits, load_folder, load_mnist, load_npz, read_idx, resize_images
from wgan.data.toy import (FixedSequence, GaussianMixture, SwissRoll, eight_gaussians, grid, ring,
                           twenty_five_gaussians)

__all__ = ["Dataset", "GaussianMixture", "FixedSequence", "SwissRoll", "ArrayDataset", "SamplerDataset",
           "make_dataset", "from_array", "from_sampler", "DATASETS", "DATASET_NAMES", "DATASET_KINDS", "dataset_help",
           "dataset_names", "register",
           "load_points", "load_digits", "digit_labels", "load_mnist", "load_folder", "load_npz", "read_idx",
           "resize_images", "eight_gaussians", "twenty_five_gaussians", "ring", "grid"]


@dataclass(frozen=True)
class DatasetEntry:
    """One registered dataset: ``spec`` as written on the command line ("ring", "mnist:PATH"), its
    ``kind`` ("2d" or "image", `DATASET_KINDS`), its ``builder`` (taking the path first when ``takes_path``),
    and a one-line ``help``."""

    spec: str
    kind: str
    builder: Callable[..., Dataset]
    takes_path: bool
    help: str


#: The dataset kinds: 2-D points and images.
DATASET_KINDS = ("2d", "image")

_ENTRIES = (
    DatasetEntry("8gaussians", "2d", eight_gaussians, False, "gan_toy.py's 8 gaussians on a circle"),
    DatasetEntry("25gaussians", "2d", twenty_five_gaussians, False, "gan_toy.py's 5x5 grid (a fixed set, in order)"),
    DatasetEntry("swissroll", "2d", SwissRoll, False, "gan_toy.py's swiss roll"),
    DatasetEntry("ring", "2d", ring, False, "VEEGAN/PacGAN ring of 8 modes"),
    DatasetEntry("grid", "2d", grid, False, "VEEGAN/PacGAN 5x5 grid of 25 modes"),
    DatasetEntry("digits", "image", load_digits, False, "scikit-learn's 1797 8x8 digits"),
    DatasetEntry("mnist:PATH", "image", load_mnist, True, "MNIST IDX images (a file or a folder)"),
    DatasetEntry("folder:PATH", "image", load_folder, True, "every image under a folder"),
    DatasetEntry("npz:PATH", "image", load_npz, True, "images in an .npz array"),
    DatasetEntry("points:PATH", "2d", load_points, True, "your (N, 2) points from .npy or .csv"),
)
#: spec -> entry, for the built-in datasets above (`register` adds a user's beside them).
DATASETS: dict[str, DatasetEntry] = {entry.spec: entry for entry in _ENTRIES}
#: The built-in specs.
DATASET_NAMES = tuple(DATASETS)
_REGISTERED: dict[str, DatasetEntry] = {}  # spec -> entry, for those registered from Python


def register(spec: str, builder: Callable[..., Dataset], kind: str, help: str = "") -> Callable[..., Dataset]:
    """Make ``builder(**options) -> Dataset`` selectable as ``TrainConfig(dataset=spec)``; a `spec` ending in
    ``":PATH"`` (``"mydata:PATH"``) is called as ``builder(path, **options)``. `kind` is the datasets' kind,
    "2d" or "image". Returns `builder`. A built-in spec cannot be replaced."""
    if not isinstance(spec, str) or not spec or spec.count(":") > (1 if spec.endswith(":PATH") else 0):
        raise ValueError(f"register: a dataset spec is a name without ':', or NAME:PATH, got {spec!r}")
    if spec in DATASET_NAMES or spec.partition(":")[0] in (s.partition(":")[0] for s in DATASET_NAMES):
        raise ValueError(f"register: {spec!r} is a built-in dataset; choose another name")
    if kind not in DATASET_KINDS:
        raise ValueError(f"register: kind must be one of {', '.join(DATASET_KINDS)}, got {kind!r}")
    if not callable(builder):
        raise TypeError(f"register: the builder of {spec!r} must be callable, got {builder!r}")
    _REGISTERED[spec] = DatasetEntry(spec, kind, builder, spec.endswith(":PATH"), help)
    return builder


def dataset_names() -> tuple[str, ...]:
    """The built-in specs followed by those registered from Python."""
    return DATASET_NAMES + tuple(_REGISTERED)


def dataset_help() -> str:
    """One line listing every registered spec (for the CLI)."""
    return "dataset spec: " + " ".join(DATASETS)


def _entry(spec: str) -> DatasetEntry | None:
    kind, sep, _ = spec.partition(":")
    key = f"{kind}:PATH" if sep else spec
    entry = DATASETS.get(key) or _REGISTERED.get(key)
    return entry if entry is not None and entry.takes_path == bool(sep) else None


def _imported(spec: str) -> Callable[..., Any] | None:
    """The builder an import path ``module:attr`` names, or None when `spec` is no importable module's path."""
    module_name, _, qualname = spec.partition(":")
    if not all(part.isidentifier() for part in module_name.split(".")):
        return None
    try:
        obj: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name.startswith(exc.name):
            return None  # no such module: not an import path
        raise ValueError(f"make_dataset: cannot import module {module_name!r} of {spec!r} ({exc})") from None
    except ImportError as exc:
        raise ValueError(f"make_dataset: cannot import module {module_name!r} of {spec!r} ({exc})") from None
    for part in qualname.split("."):
        if not hasattr(obj, part):
            raise ValueError(f"make_dataset: module {module_name!r} has no attribute {qualname!r} (from {spec!r})")
        obj = getattr(obj, part)
    if not callable(obj):
        raise ValueError(f"make_dataset: {spec!r} is {obj!r}, not a function returning a Dataset")
    return obj


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
        builder = _imported(spec) if ":" in spec else None
        if builder is None:
            raise ValueError(f"make_dataset: unknown dataset {spec!r}; known: {', '.join(dataset_names())} (or an "
                             "import path module:builder)")
        dataset = builder(**options)
        if not isinstance(dataset, Dataset):
            raise ValueError(f"make_dataset: {spec!r} returned {type(dataset).__name__}, not a wgan.data.Dataset")
        return dataset
    kind, _, path = spec.partition(":")
    if entry.takes_path and not path:
        raise ValueError(f"make_dataset: {spec!r} needs a path after '{kind}:'")
    accepted = list(inspect.signature(entry.builder).parameters)[1 if entry.takes_path else 0:]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ValueError(f"make_dataset: unknown options {unknown} for {spec!r}; accepted: {accepted}")
    dataset = entry.builder(path, **options) if entry.takes_path else entry.builder(**options)
    if not isinstance(dataset, Dataset) or dataset.kind != entry.kind:
        raise ValueError(f"make_dataset: {spec!r} built {dataset!r}, not a Dataset of kind {entry.kind!r}")
    return dataset
