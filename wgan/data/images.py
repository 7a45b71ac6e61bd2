"""Image sets: scikit-learn's digits, MNIST IDX files, a folder of images, an .npz array; and their conversions.

Every loader returns an `ArrayDataset` of float32 (N, C, H, W) images in [-1, 1].
"""
from __future__ import annotations

import gzip
import math
import os
import struct
import zipfile
from pathlib import Path

import numpy as np

from wgan.data.base import ArrayDataset, _require_file

__all__ = ["load_digits", "digit_labels", "read_idx", "load_mnist", "load_folder", "load_npz", "resize_images"]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")


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
            out[i, j] = np.asarray(img.resize((size, size), Image.Resampling.BILINEAR))
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


#: IDX type code -> the element dtype (multi-byte types are big-endian)
_IDX_DTYPES: dict[int, np.dtype] = {0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"),
                                    0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


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
    dtype = _IDX_DTYPES[raw[2]]
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
    images: list[Image.Image] = []
    for file in files:
        try:
            with Image.open(file) as opened:
                opened.load()
                images.append(opened.copy())
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
            img = img.resize(target, Image.Resampling.BILINEAR)
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
