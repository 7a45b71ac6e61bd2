"""Checkpoints: models, optimizers, RNG states and the step in one pickle-free ``.npz``.

Layout of the archive (every entry a plain array, so ``np.load(allow_pickle=False)`` reads it):

- ``model:<name>:<key>``: each entry of a model's state dict (parameters and persistent buffers);
- ``optim:<name>:<param index>:<entry>``: each per-parameter optimizer array (``exp_avg``, ...);
- ``meta``: UTF-8 bytes (a uint8 array) of JSON: the step, the config, the RNG states
  (numpy ``bit_generator.state`` dicts), the dataset's iteration state, and per optimizer its
  ``param_groups`` (hyperparameters) and per-parameter scalars (``step``).

Written and read with `minigrad.save` / `minigrad.load`: atomically (temporary file, fsync,
``os.replace``), so a crash never leaves a torn file, and without pickle.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

import minigrad
from minigrad import Tensor, backend

FORMAT_VERSION = 1


def _to_numpy(value) -> np.ndarray:
    if isinstance(value, Tensor):
        return value.numpy()
    return np.asarray(backend.to_device(value, "cpu"))


def flatten_optimizer_state(state_dict: dict, name: str) -> tuple[dict[str, np.ndarray], dict]:
    """Split an optimizer state dict into named arrays and a JSON-able remainder."""
    arrays: dict[str, np.ndarray] = {}
    scalars: dict[str, dict] = {}
    for index, entries in state_dict["state"].items():
        for key, value in entries.items():
            if hasattr(value, "shape") and getattr(value, "ndim", 0) > 0:
                arrays[f"optim:{name}:{index}:{key}"] = _to_numpy(value)
            else:
                scalars.setdefault(str(index), {})[key] = value.item() if hasattr(value, "item") else value
    groups = [{k: list(v) if isinstance(v, tuple) else v for k, v in g.items()} for g in state_dict["param_groups"]]
    return arrays, {"param_groups": groups, "scalars": scalars}


def unflatten_optimizer_state(arrays: dict[str, np.ndarray], meta: dict, name: str) -> dict:
    """The inverse of `flatten_optimizer_state`: a state dict for ``Optimizer.load_state_dict``."""
    state: dict[int, dict[str, Any]] = {}
    prefix = f"optim:{name}:"
    for key, array in arrays.items():
        if key.startswith(prefix):
            index, entry = key[len(prefix):].split(":", 1)
            state.setdefault(int(index), {})[entry] = array
    for index, entries in meta["scalars"].items():
        state.setdefault(int(index), {}).update(entries)
    groups = [{k: tuple(v) if k == "betas" else v for k, v in g.items()} for g in meta["param_groups"]]
    return {"state": state, "param_groups": groups}


def save_checkpoint(path, models: dict, optimizers: dict, meta: dict) -> Path:
    """Write `models` (name -> Module), `optimizers` (name -> Optimizer) and `meta` (JSON-able) to `path`."""
    path = Path(path)
    arrays: dict[str, np.ndarray] = {}
    for name, module in models.items():
        for key, value in module.state_dict().items():
            arrays[f"model:{name}:{key}"] = _to_numpy(value)
    optim_meta = {}
    for name, optimizer in optimizers.items():
        flat, rest = flatten_optimizer_state(optimizer.state_dict(), name)
        arrays.update(flat)
        optim_meta[name] = rest
    full_meta = dict(meta, format_version=FORMAT_VERSION, optimizers=optim_meta)
    arrays["meta"] = np.frombuffer(json.dumps(full_meta).encode("utf-8"), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    minigrad.save(arrays, path)
    return path


class CheckpointError(ValueError):
    """A checkpoint file does not hold what it must (a missing entry, a wrongly shaped or non-finite array);
    the message names the file and the entry."""


#: The metadata every checkpoint written by `save_checkpoint` holds (a Trainer's adds its own, see `require`).
REQUIRED_META = ("step", "optimizers")


class Checkpoint:
    """A loaded checkpoint: ``models`` (name -> state dict of arrays), ``optimizers``
    (name -> optimizer state dict), ``meta`` (the JSON metadata) and ``path`` (the file it was read from)."""

    def __init__(self, models: dict, optimizers: dict, meta: dict, path: Path | None = None):
        self.models, self.optimizers, self.meta, self.path = models, optimizers, meta, path

    def require(self, models: tuple[str, ...] = ("G", "D"), meta: tuple[str, ...] = ()) -> None:
        """Raise CheckpointError naming the file when a model or an optimizer in `models`, or an entry of
        `meta`, is absent."""
        missing = [key for key in meta if key not in self.meta]
        if missing:
            raise CheckpointError(f"checkpoint {self.path}: its meta lacks {missing}")
        for name in models:
            if name not in self.models:
                raise CheckpointError(f"checkpoint {self.path}: no arrays 'model:{name}:*' (it holds models "
                                      f"{sorted(self.models)})")
            if name not in self.optimizers:
                raise CheckpointError(f"checkpoint {self.path}: no optimizer state for {name!r} in its meta")

    def non_finite(self) -> list[str]:
        """The model entries ("G:net.0.weight", ...) holding NaN or infinite values."""
        return [f"{name}:{key}" for name, state in self.models.items() for key, array in state.items()
                if array.dtype.kind == "f" and not np.isfinite(array).all()]

    def require_finite(self) -> None:
        """Raise CheckpointError naming the tensors of the models that hold NaN or infinite values."""
        bad = self.non_finite()
        if bad:
            name, key = bad[0].split(":", 1)
            array = self.models[name][key]
            count = int((~np.isfinite(array)).sum())
            more = f" (and {len(bad) - 1} more tensors)" if len(bad) > 1 else ""
            raise CheckpointError(f"checkpoint {self.path}: model {name}'s {key} holds {count} NaN or infinite "
                                  f"values of {array.size}{more}; the weights are unusable")

    @property
    def step(self) -> int:
        return int(self.meta["step"])


def load_checkpoint(path) -> Checkpoint:
    """Read a checkpoint written by `save_checkpoint` (never unpickles anything)."""
    path = Path(path)
    if path.is_dir():
        path = path / "checkpoint.npz"
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    arrays = minigrad.load(path)
    if "meta" not in arrays or arrays["meta"].dtype != np.uint8:
        raise ValueError(f"checkpoint {path} has no JSON 'meta' entry: not a wgan checkpoint")
    try:
        meta = json.loads(arrays.pop("meta").tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"checkpoint {path}: its 'meta' entry is not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"checkpoint {path}: its 'meta' entry holds a JSON {type(meta).__name__}, not an object")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"checkpoint {path} has format version {meta.get('format_version')}, "
                         f"expected {FORMAT_VERSION}")
    missing = [key for key in REQUIRED_META if key not in meta]
    if missing:
        raise CheckpointError(f"checkpoint {path}: its meta lacks {missing}")
    models: dict[str, dict] = {}
    for key, array in arrays.items():
        if key.startswith("model:"):
            _, name, entry = key.split(":", 2)
            models.setdefault(name, {})[entry] = array
    try:
        optimizers = {name: unflatten_optimizer_state(arrays, rest, name)
                      for name, rest in meta["optimizers"].items()}
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CheckpointError(f"checkpoint {path}: its optimizer state is malformed ({type(exc).__name__}: "
                              f"{exc})") from None
    return Checkpoint(models, optimizers, meta, path)
