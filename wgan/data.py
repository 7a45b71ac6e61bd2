"""Datasets for WGAN training: the gan_toy.py mixtures, the VEEGAN/PacGAN ring and grid, and image sets.

Every dataset follows one small protocol (`Dataset`): ``sample(n, rng)`` returns ``n`` float32 samples of
shape ``(n, *sample_shape)``; 2-D points are in data coordinates, images are ``(C, H, W)`` in [-1, 1].
Mixtures expose their ``centers`` (K, 2) and per-axis ``sigma`` so that `wgan.metrics` can count modes.

`make_dataset` builds one from a spec string::

    "8gaussians" | "25gaussians" | "swissroll"      gan_toy.py (WGAN-GP) exactly, scaling included
    "ring" | "grid"                                   VEEGAN / PacGAN mode-coverage benchmarks
    "points:PATH"                                     the user's (N, 2) points from .npy or .csv
    "digits"                                          scikit-learn's bundled 8x8 handwritten digits
    "mnist:PATH" | "folder:PATH" | "npz:PATH"         images from IDX files, a folder, an .npz array

or from a NumPy array or a sampler function (see `from_array`, `from_sampler`).
"""
from __future__ import annotations

import gzip
import inspect
import math
import os
import struct
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np

__all__ = ["Dataset", "GaussianMixture", "FixedSequence", "SwissRoll", "ArrayDataset", "SamplerDataset",
           "make_dataset", "from_array", "from_sampler", "DATASET_NAMES"]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")


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


class ArrayDataset(Dataset):
    """A finite array of samples (points or images) drawn uniformly with replacement."""

    def __init__(self, name: str, data: np.ndarray):
        self.name, self.data = name, data
        self.sample_shape = tuple(data.shape[1:])
        self.kind = "2d" if self.sample_shape == (2,) else "image"

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return self.data[rng.integers(len(self.data), size=_check_n(n))]


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


def _kind_of(sample_shape: tuple, what: str) -> str:
    if sample_shape == (2,):
        return "2d"
    if len(sample_shape) == 3 and sample_shape[0] in (1, 3) and min(sample_shape[1:]) >= 1:
        return "image"
    raise ValueError(f"{what}: sample shape {sample_shape} is neither 2-D points (2,) nor an image (C, H, W) "
                     "with C in (1, 3)")


# ----------------------------------------------------------------------------------------------- toy sets
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


# ----------------------------------------------------------------------------------------------- loaders
def _require_file(path: Path, what: str) -> Path:
    if not path.exists():
        raise FileNotFoundError(f"{what}: {path} does not exist")
    if not path.is_file():
        raise ValueError(f"{what}: {path} is not a file")
    return path


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


def _to_unit_range(arr: np.ndarray, where: str) -> np.ndarray:
    """uint8 0..255 -> [-1, 1]; floats in [0, 1] -> [-1, 1]; floats already in [-1, 1] kept."""
    if arr.dtype == np.uint8:
        return (arr.astype(np.float32) / np.float32(127.5) - 1).astype(np.float32)
    if arr.dtype.kind not in "fiu" or arr.dtype == np.bool_:
        raise ValueError(f"{where}: image dtype {arr.dtype} is not supported (expected uint8 or float)")
    arr = arr.astype(np.float32)
    if not np.isfinite(arr).all():
        raise ValueError(f"{where}: images contain NaN or infinite values")
    lo, hi = float(arr.min()), float(arr.max())
    if lo >= 0 and hi <= 1:
        return arr * 2 - 1
    if lo >= -1 and hi <= 1:
        return arr
    raise ValueError(f"{where}: values in [{lo:g}, {hi:g}]; expected uint8 0..255 or floats in [0, 1] or [-1, 1]")


def _to_nchw(arr: np.ndarray, where: str) -> np.ndarray:
    """(N, H, W) -> (N, 1, H, W); (N, C, H, W) kept when C is 1 or 3; (N, H, W, C) moved when C is 1, 3 or 4."""
    if arr.ndim == 3:
        return arr[:, None]
    if arr.ndim == 4:
        if arr.shape[1] in (1, 3):
            return arr
        if arr.shape[3] in (1, 3):
            return arr.transpose(0, 3, 1, 2)
        if arr.shape[3] == 4:  # RGBA: drop alpha
            return arr[..., :3].transpose(0, 3, 1, 2)
    raise ValueError(f"{where}: image array of shape {arr.shape}; expected (N, H, W), (N, C, H, W) or "
                     "(N, H, W, C) with C in (1, 3)")


def resize_images(images: np.ndarray, size: int) -> np.ndarray:
    """Resize (N, C, H, W) float images to (N, C, size, size) with Pillow's bilinear filter (antialiased)."""
    from PIL import Image

    n, c, h, w = images.shape
    if (h, w) == (size, size):
        return images
    out = np.empty((n, c, size, size), dtype=np.float32)
    for i in range(n):
        for j in range(c):
            img = Image.fromarray(np.ascontiguousarray(images[i, j], dtype=np.float32), mode="F")
            out[i, j] = np.asarray(img.resize((size, size), Image.BILINEAR))
    return np.clip(out, -1, 1)


def _check_size(size, where: str) -> int | None:
    if size is None:
        return None
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"{where}: size must be a positive integer, got {size!r}")
    return int(size)


def _image_dataset(name: str, images: np.ndarray, size=None) -> ArrayDataset:
    size = _check_size(size, name)
    if size is not None:
        images = resize_images(images, size)
    if len(images) == 0:
        raise ValueError(f"{name}: no images")
    return ArrayDataset(name, np.ascontiguousarray(images, dtype=np.float32))


def load_digits(size: int | None = None) -> ArrayDataset:
    """scikit-learn's 1797 8x8 handwritten digits, pixel values 0..16 mapped to [-1, 1]; optionally resized."""
    from sklearn.datasets import load_digits as sk_load_digits

    raw = sk_load_digits().images.astype(np.float32)  # (1797, 8, 8) in 0..16
    return _image_dataset("digits", (raw / np.float32(8) - 1)[:, None], size)


def digit_labels() -> np.ndarray:
    """Class labels aligned with `load_digits` (int64, 0..9)."""
    from sklearn.datasets import load_digits as sk_load_digits

    return sk_load_digits().target.astype(np.int64)


_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzipped or not: magic 0,0,dtype,ndim, big-endian dims, data."""
    path = _require_file(Path(path), "mnist")
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise ValueError(f"mnist: {path} is a corrupt gzip file ({e})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"mnist: {path} is not an IDX file (bad magic number {raw[:4].hex() or 'empty'})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise ValueError(f"mnist: {path} has a truncated IDX header")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = math.prod(dims) * dtype.itemsize
    if len(raw) - header != expected:
        raise ValueError(f"mnist: {path} holds {len(raw) - header} data bytes, its header {dims} needs {expected}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)


def _find_mnist_images(path: Path, split: str) -> Path:
    if path.is_file():
        return path
    if not path.exists():
        raise FileNotFoundError(f"mnist: {path} does not exist")
    prefix = {"train": "train", "test": "t10k"}.get(split)
    if prefix is None:
        raise ValueError(f"mnist: split must be 'train' or 'test', got {split!r}")
    names = [f"{prefix}-images-idx3-ubyte", f"{prefix}-images.idx3-ubyte"]
    for name in names:
        for candidate in (path / name, path / (name + ".gz")):
            if candidate.is_file():
                return candidate
    raise FileNotFoundError(f"mnist: {path} holds none of {', '.join(n + '[.gz]' for n in names)}")


def load_mnist(path: str | os.PathLike, split: str = "train", size: int | None = None) -> ArrayDataset:
    """MNIST images from IDX files: ``path`` is the images file itself or a folder holding it."""
    file = _find_mnist_images(Path(path), split)
    arr = read_idx(file)
    if arr.ndim != 3 or arr.dtype != np.uint8:
        raise ValueError(f"mnist: {file} holds a {arr.dtype} array of shape {arr.shape}, expected uint8 (N, H, W) "
                         "images (is this a labels file?)")
    return _image_dataset(f"mnist:{path}", _to_unit_range(arr, f"mnist: {file}")[:, None], size)


def load_folder(path: str | os.PathLike, size: int | None = None, channels: int | None = None) -> ArrayDataset:
    """Every image under ``path`` (recursively, sorted), via Pillow.

    ``channels``: 1 (grayscale) or 3 (RGB); default 1 when every image is grayscale, else 3. ``size``: resize to
    size x size; required when the images differ in size.
    """
    from PIL import Image, UnidentifiedImageError

    root = Path(path)
    if not root.exists():
        raise FileNotFoundError(f"folder: {root} does not exist")
    if not root.is_dir():
        raise ValueError(f"folder: {root} is not a directory")
    if channels not in (None, 1, 3):
        raise ValueError(f"folder: channels must be 1 or 3, got {channels!r}")
    size = _check_size(size, f"folder: {root}")
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
    if not files:
        raise ValueError(f"folder: {root} contains no images ({', '.join(IMAGE_EXTENSIONS)})")
    images = []
    for file in files:
        try:
            with Image.open(file) as img:
                img.load()
                images.append(img.copy())
        except (UnidentifiedImageError, OSError) as e:
            raise ValueError(f"folder: {file} is not a readable image ({e})") from None
    if channels is None:
        channels = 1 if all(img.mode in ("1", "L", "I;16", "I", "F") for img in images) else 3
    target = (size, size) if size is not None else images[0].size
    arrays = []
    for file, img in zip(files, images):
        if img.size != target and size is None:
            raise ValueError(f"folder: {file} is {img.size[0]}x{img.size[1]} but {files[0]} is "
                             f"{target[0]}x{target[1]}; pass size= to resize them all")
        img = img.convert("L" if channels == 1 else "RGB")
        if img.size != target:
            img = img.resize(target, Image.BILINEAR)
        arr = np.asarray(img, dtype=np.uint8)
        arrays.append(arr[None] if channels == 1 else arr.transpose(2, 0, 1))
    return ArrayDataset(f"folder:{root}", _to_unit_range(np.stack(arrays), f"folder: {root}"))


def load_npz(path: str | os.PathLike, key: str | None = None, size: int | None = None) -> ArrayDataset:
    """Images from an .npz: the array named ``key`` (default "images", or the only array)."""
    path = _require_file(Path(path), "npz")
    try:
        with np.load(path, allow_pickle=False) as archive:
            names = list(archive.files)
            if key is None:
                key = "images" if "images" in names else (names[0] if len(names) == 1 else None)
            if key is None or key not in names:
                raise ValueError(f"npz: {path} has arrays {names}; expected one named 'images' or a single array"
                                 + (f" (asked for {key!r})" if key else ""))
            arr = archive[key]
    except (OSError, EOFError, zipfile.BadZipFile) as e:
        raise ValueError(f"npz: {path} is not a readable .npz file ({e})") from None
    except ValueError as e:
        if str(e).startswith("npz:"):
            raise
        raise ValueError(f"npz: {path} could not be read ({e})") from None
    where = f"npz: {path} array {key!r}"
    images = _to_unit_range(_to_nchw(arr, where), where)
    return _image_dataset(f"npz:{path}", images, size)


# ----------------------------------------------------------------------------------------------- factory
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


_BUILTIN = {
    "8gaussians": eight_gaussians, "25gaussians": twenty_five_gaussians, "swissroll": SwissRoll,
    "ring": ring, "grid": grid, "digits": load_digits,
}
_WITH_PATH = {"points": load_points, "mnist": load_mnist, "folder": load_folder, "npz": load_npz}
DATASET_NAMES = tuple(_BUILTIN) + tuple(f"{k}:PATH" for k in _WITH_PATH)


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
    kind, sep, path = spec.partition(":")
    builder = _WITH_PATH.get(kind) if sep else _BUILTIN.get(spec)
    if builder is None:
        raise ValueError(f"make_dataset: unknown dataset {spec!r}; known: {', '.join(DATASET_NAMES)}")
    if sep and not path:
        raise ValueError(f"make_dataset: {spec!r} needs a path after '{kind}:'")
    accepted = list(inspect.signature(builder).parameters)[1 if sep else 0:]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ValueError(f"make_dataset: unknown options {unknown} for {spec!r}; accepted: {accepted}")
    return builder(path, **options) if sep else builder(**options)
