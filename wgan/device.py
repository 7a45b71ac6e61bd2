"""Training on a device with no host traffic inside a step: data, noise and statistics stay on the device.

On ``device="cuda"`` a `Trainer` step makes no device->host sync and no host->device copy:

- **noise**: z and the algorithms' noise (e.g. WGAN-GP's eps) come from one `minigrad.Philox`
  stream whose key and counter live on the device (`DeviceNoise`), seeded from ``config.seed``
  and saved in checkpoints, so a resumed run draws what an uninterrupted one would. (CuPy's own
  generator is cuRAND, which cannot run while a step is captured into a CUDA graph.)
- **data** (`device_sampler`): a finite dataset is copied to the device once and batches are
  gathered by indices drawn on the device; a built-in Gaussian mixture draws its points on the
  device; a fixed-order set (25gaussians, ``order="sequential"``) is sliced on the device. Any
  other dataset (a user's sampler, the swiss roll) is sampled on the host and copied: the one
  documented exception, one host->device copy per batch.
- **statistics** (`DeviceStats`): losses, penalty, gradient norm and W estimate stay 0-d device
  arrays; they are read to the host at log steps only, all pending steps in one transfer, where
  the NaN/Inf check runs and names the term and the steps in which it went bad.

On the CPU none of this is used: the trainer keeps its NumPy streams, so seeded CPU runs are
unchanged.
"""
from __future__ import annotations

import math
from typing import Any
from collections.abc import Callable, Iterator

import numpy as np

import minigrad
from minigrad import Tensor, backend
from minigrad.philox import Philox
from wgan.data.base import ArrayDataset, Dataset
from wgan.data.toy import FixedSequence, GaussianMixture

#: added to config.seed for the device stream's key, so it differs from the CPU streams' seeds
DEVICE_STREAM_SALT = 0x5EED_D0E5


class DeviceNoise:
    """The training stream on the device: a Philox generator with NumPy Generator's draw methods.

    ``random(size, dtype)`` and ``standard_normal(size, dtype)`` return device arrays (what the
    algorithms' ``critic_noise(rng, shape)`` calls); ``integers(high, size)`` draws indices.
    """

    def __init__(self, seed: int, device: str):
        self.gen = Philox((int(seed) + DEVICE_STREAM_SALT) % 2**64, device=device)

    def random(self, size=None, dtype=np.float64):
        return self.gen.random(size, dtype)

    def standard_normal(self, size=None, dtype=np.float64):
        return self.gen.standard_normal(size, dtype)

    def integers(self, high: int, size: int):
        """`size` ints uniform in [0, high), as floor(u * high) of float64 uniforms (exact for high < 2^32)."""
        return (self.gen.random(size, np.float64) * high).astype(np.int64)

    def state_dict(self) -> dict:
        state = self.gen.state_dict()
        return {"key": [int(k) for k in state["key"]], "counter": [int(c) for c in state["counter"]]}

    def load_state_dict(self, state: dict) -> None:
        self.gen.load_state_dict({"key": np.array(state["key"], np.uint32),
                                  "counter": np.array(state["counter"], np.uint32)})


def device_sampler(dataset: Dataset, device: str, noise: DeviceNoise,
                   host_rng: np.random.Generator) -> tuple[Callable[[int], Any], str]:
    """(sample(n) -> a float32 device array (n, *sample_shape), how it samples).

    How: "device gather" (finite data on the device), "device mixture", "device slices"
    (a fixed order), or "host sampler" (one host->device copy per batch).
    """
    xp = backend.xp_for(device)
    if type(dataset) is GaussianMixture:
        centers = xp.asarray(dataset._raw_centers)
        sigma, divisor, k = dataset._raw_sigma, np.float32(dataset._divisor), len(dataset._raw_centers)

        def mixture(n: int):
            points = noise.standard_normal((n, 2), np.float64) * sigma + centers[noise.integers(k, n)]
            return points.astype(np.float32) / divisor

        return mixture, "device mixture"
    if type(dataset) is FixedSequence and dataset.order == "sequential":
        data = xp.asarray(np.ascontiguousarray(dataset.data, dtype=np.float32))

        def in_order(n: int):  # the cursor is host state: the batch is a slice (no copy, no sync)
            if n > len(data):
                raise ValueError(f"dataset {dataset.name!r}: batch of {n} exceeds the {len(data)} fixed points")
            if dataset.cursor + n > len(data):
                dataset.cursor = 0
            batch = data[dataset.cursor:dataset.cursor + n]
            dataset.cursor += n
            return batch

        return in_order, "device slices"
    if type(dataset) in (ArrayDataset, FixedSequence):
        data = xp.asarray(np.ascontiguousarray(dataset.data, dtype=np.float32))
        return (lambda n: data[noise.integers(len(data), n)]), "device gather"

    def host(n: int):
        return xp.asarray(np.asarray(dataset.sample(n, host_rng), dtype=np.float32))

    return host, "host sampler"


def as_device_tensor(array, device: str) -> Tensor:
    """A device array wrapped as a constant Tensor without a copy (a host array is copied)."""
    if backend.device_of(array) == device:
        return minigrad.as_tensor(array)
    return Tensor(array, device=device)


class DeviceStats:
    """The statistics of the steps since the last read, kept on the device.

    `add` holds one step's values (0-d device arrays, Tensors or host numbers); `read` stacks
    every pending value into one array, copies it to the host in one transfer, checks that all are
    finite and returns the rows {key: float} per step. A non-finite value raises
    `error_type`, naming the term, the first bad step and the range of steps read.
    """

    def __init__(self, error_type: type[Exception], term_names: dict[str, str]):
        self.error_type, self.term_names = error_type, term_names
        self.pending: list[tuple[int, dict[str, Any]]] = []

    def add(self, step: int, stats: dict[str, Any]) -> None:
        self.pending.append((step, {k: v.data if isinstance(v, Tensor) else v for k, v in stats.items()}))

    def read(self) -> dict[int, dict[str, float]]:
        if not self.pending:
            return {}
        pending, self.pending = self.pending, []
        device_values = [v for _, stats in pending for v in stats.values() if not isinstance(v, (int, float))]
        host: Iterator[float] = iter([])
        if device_values:
            xp = backend.array_module(device_values[0])
            host = iter(xp.stack([xp.asarray(v, dtype=np.float64).reshape(()) for v in device_values]).get().tolist())
        rows = {}
        for step, stats in pending:
            rows[step] = {k: (float(v) if isinstance(v, (int, float)) else next(host)) for k, v in stats.items()}
        first, last = pending[0][0], pending[-1][0]
        for step, row in rows.items():
            for key, value in row.items():
                if not math.isfinite(value):
                    span = f"step {first}" if first == last else f"steps {first}-{last}"
                    raise self.error_type(
                        f"step {step}: the {self.term_names.get(key, key)} is {value} (found reading the "
                        f"statistics of {span} from the device); stopping (the last checkpoint, if any, holds "
                        "the last good state)")
        return rows


__all__ = ["DeviceNoise", "DeviceStats", "as_device_tensor", "device_sampler"]
