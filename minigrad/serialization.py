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


def remove_stale_temporaries(path: str | os.PathLike) -> list[str]:
    """Delete the temporary files ``<name>.<random>.tmp`` that a killed `save` of `path` left beside it;
    returns their paths. (`save` calls it before each write: of two writes racing to one path only the
    last rename could win anyway.)"""
    path = os.path.abspath(os.fspath(path))
    directory, prefix = os.path.dirname(path), os.path.basename(path) + "."
    removed: list[str] = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    for name in names:
        if name.startswith(prefix) and name.endswith(".tmp") and len(name) > len(prefix) + len(".tmp"):
            stale = os.path.join(directory, name)
            try:
                os.remove(stale)
                removed.append(stale)
            except (FileNotFoundError, IsADirectoryError, PermissionError):
                pass
    return removed


def save(state: Mapping, path: str | os.PathLike) -> None:
    """Write ``state`` (str -> Tensor, numpy array or number) to `path` as an uncompressed ``.npz``.

    The file is written exactly at `path` (no suffix is added) and replaces it atomically; temporary files
    of earlier killed writes to `path` are removed first (`remove_stale_temporaries`).
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
    remove_stale_temporaries(path)
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


_ZIP_MAGIC = b"PK\x03\x04"
_NPY_MAGIC = b"\x93NUMPY"


def load(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a file written by `save` into a dict of name -> numpy array (pickled objects are refused).

    Raises FileNotFoundError for a missing file and ValueError naming the file and what it holds instead:
    bytes that are no archive at all, a single ``.npy`` array, a damaged zip, or an entry of pickled objects.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load: no such checkpoint file: {path!r}")
    invalid = f"load: {path!r} is not a valid minigrad checkpoint (.npz without pickles)"
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(_NPY_MAGIC):
        raise ValueError(f"{invalid}: it holds a single array (.npy), not an .npz archive of named arrays")
    if not head.startswith(_ZIP_MAGIC):
        what = "it is empty" if not head else f"it starts with {head!r}, not the zip signature of an .npz"
        raise ValueError(f"{invalid}: not an .npz archive at all ({what})")
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{invalid}: a damaged or truncated zip archive ({exc})") from exc
    with archive:
        out = {}
        for key in archive.files:
            try:
                out[key] = archive[key]
            except ValueError as exc:
                if "pickle" in str(exc):
                    raise ValueError(f"{invalid}: entry {key!r} holds pickled Python objects, which are never "
                                     "loaded (allow_pickle=False)") from None
                raise ValueError(f"{invalid}: entry {key!r} cannot be read ({exc})") from exc
            except (OSError, EOFError, zipfile.BadZipFile) as exc:
                raise ValueError(f"{invalid}: entry {key!r} is damaged ({exc})") from exc
        return out
