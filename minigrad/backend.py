"""Devices and array modules: "cpu" runs on NumPy, "cuda" on CuPy.

CuPy is imported lazily, the first time a CUDA array is asked for, so everything
on the CPU works on a machine without it.
"""
from __future__ import annotations

from typing import Any

import numpy as np

_cupy: Any = None
_CUDA_HELP = (
    "CUDA needs CuPy and an NVIDIA GPU: install the extra for your driver's CUDA version (the 'CUDA Version' "
    "nvidia-smi prints): `pip install -e '.[cuda13]'` for 13.x (cupy-cuda13x; '.[cuda]' is the same), "
    "`pip install -e '.[cuda12]'` for 12.x (cupy-cuda12x)."
)


def _import_cupy():
    global _cupy
    if _cupy is None:
        try:
            import cupy
            cupy.cuda.runtime.getDeviceCount()
        except Exception as exc:  # ImportError, or CUDA runtime errors with no GPU
            raise RuntimeError(f"device 'cuda' is not available ({exc}). {_CUDA_HELP}") from exc
        _cupy = cupy
    return _cupy


def cuda_is_available() -> bool:
    """True when CuPy imports and sees at least one GPU."""
    try:
        _import_cupy()
        return True
    except RuntimeError:
        return False


def normalize_device(device: Any) -> str:
    """Map "cpu", "cuda", "cuda:0" to the canonical "cpu" or "cuda"."""
    if device is None:
        return "cpu"
    name = str(device)
    if name == "cpu":
        return "cpu"
    if name == "cuda" or name.startswith("cuda:"):
        return "cuda"
    raise ValueError(f"unknown device {device!r}: expected 'cpu' or 'cuda'")


def xp_for(device: str):
    """The array module (numpy or cupy) for a canonical device name."""
    return np if device == "cpu" else _import_cupy()


def device_of(array) -> str:
    """"cpu" for a NumPy array, "cuda" for a CuPy array."""
    return "cpu" if isinstance(array, (np.ndarray, np.generic)) else "cuda"


#: The array module of CPU arrays: numpy, or while a CPU step is being captured, the tracing NumPy that
#: records every call (`minigrad.tracing.TracingNumpy`, installed by `minigrad.capture`).
_host: Any = np


def array_module(array: Any) -> Any:
    """numpy or cupy, whichever owns `array` (see `_host` for a CPU step being captured)."""
    return _host if isinstance(array, (np.ndarray, np.generic)) else _cupy


def is_numpy(xp: Any) -> bool:
    """Whether the array module `xp` is NumPy's (the CPU path), counting the tracing NumPy that stands in
    for it while a CPU step is captured."""
    return xp is np or xp is _host


def to_device(array: Any, device: str) -> Any:
    """Copy `array` to `device` (no copy when it is already there)."""
    if device_of(array) == device:
        return array
    if device == "cpu":
        return array.get()
    return _import_cupy().asarray(array)


# ----------------------------------------------------------------------------- random numbers
_generators: dict[str, Any] = {}
_seed: int | None = None


def manual_seed(seed: int) -> None:
    """Seed every backend's generator so that runs are reproducible."""
    global _seed
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"manual_seed: seed must be a non-negative int, got {seed!r}")
    _seed = int(seed)
    _generators.clear()


def generator(device: str) -> Any:
    """The device's random generator (numpy.random.Generator or cupy's)."""
    gen = _generators.get(device)
    if gen is None:
        if device == "cpu":
            gen = np.random.default_rng(_seed)
        else:
            gen = _import_cupy().random.default_rng(_seed)
        _generators[device] = gen
    return gen


def get_rng_state() -> dict:
    """The CPU generator's state as a JSON-able dict (for checkpoints)."""
    return generator("cpu").bit_generator.state


def set_rng_state(state: dict) -> None:
    """Restore a CPU generator state from `get_rng_state`."""
    generator("cpu").bit_generator.state = state
