"""Saving and loading state dicts as NumPy ``.npz`` archives.

`save` writes atomically: a temporary file in the destination's directory is written,
flushed to disk, then renamed over the destination with ``os.replace``, so a crash never
leaves a half-written checkpoint. `load` reads with ``allow_pickle=False``: an archive
holding object arrays (pickles) is refused, so loading an untrusted file cannot run code.
"""
from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Mapping

import numpy as np

from minigrad import backend
from minigrad.tensor import Tensor

_UMASK = os.umask(0o022)
os.umask(_UMASK)


def _as_array(key: str, value, path: str) -> np.ndarray:
    if isinstance(value, Tensor):
        array = value.numpy()
    elif isinstance(value, (np.ndarray, np.generic, int, float, bool)):
        array = np.asarray(value)
    elif hasattr(value, "shape") and hasattr(value, "dtype"):  # a cupy array
        array = backend.to_device(value, "cpu")
    else:
        raise TypeError(f"save: value for key {key!r} is a {type(value).__name__}, not a Tensor or array ({path})")
    if array.dtype.kind not in "fiub":
        raise TypeError(f"save: value for key {key!r} has unsupported dtype {array.dtype} ({path})")
    return array


def save(state: Mapping, path: str | os.PathLike) -> None:
    """Write ``state`` (str -> Tensor, numpy array or number) to `path` as an uncompressed ``.npz``.

    The file is written exactly at `path` (no suffix is added) and replaces it atomically.
    """
    path = os.fspath(path)
    if not isinstance(state, Mapping):
        raise TypeError(f"save: expected a dict of name -> Tensor, got {type(state).__name__}")
    arrays = {}
    for key, value in state.items():
        if not isinstance(key, str):
            raise TypeError(f"save: keys must be strings, got {key!r} ({path})")
        arrays[key] = _as_array(key, value, path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp creates 0600; give the file the usual permissions
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)  # type: ignore[arg-type]  # numpy's stub types allow_pickle as a keyword
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def load(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a file written by `save` into a dict of name -> numpy array (pickled objects are refused)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load: no such checkpoint file: {path!r}")
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError("it holds a single array, not an .npz archive of named arrays")
        with archive:
            return {key: archive[key] for key in archive.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"load: {path!r} is not a valid minigrad checkpoint (.npz without pickles): {exc}") from exc
