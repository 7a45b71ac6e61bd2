"""Figures for WGAN runs, each written as a PNG whose path is returned.

- `plot_toy`: gan_toy.py's frame: contours of the critic's value over [-b, b]², real samples as orange '+',
  generated samples as green '+' (the WGAN-GP paper's toy figure).
- `plot_image_grid`: a grid of image samples.
- `plot_metrics`: logged metrics (the critic's W estimate and the exact W1) against the training step.

Matplotlib is used through its object API on the Agg canvas, so no global pyplot state or display is touched.
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from collections.abc import Callable, Sequence

import numpy as np

from minigrad import Tensor

__all__ = ["plot_toy", "plot_image_grid", "plot_metrics"]


def _figure(figsize=(6, 6)):
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, dpi=100)


def _target(path: str | os.PathLike) -> Path:
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"plots: {path} must end in .png")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _array(x) -> np.ndarray:
    """A NumPy array of a NumPy array, a sequence or a minigrad Tensor (copied from the GPU if needed)."""
    return x.numpy() if isinstance(x, Tensor) else np.asarray(x)


def _points(x, what: str) -> np.ndarray:
    arr = _array(x).astype(np.float64)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"plot_toy: {what} must have shape (N, 2), got {arr.shape}")
    return arr


def critic_grid(critic: Callable[[np.ndarray], np.ndarray], bounds: float = 3.0, grid: int = 128,
                chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """The critic's values on gan_toy's grid: returns (axis (grid,), values (grid, grid)) with
    ``values[i, j] = critic((axis[i], axis[j]))``, evaluated in chunks of float32 points."""
    axis = np.linspace(-bounds, bounds, grid)
    points = np.zeros((grid, grid, 2), dtype=np.float32)
    points[:, :, 0] = axis[:, None]
    points[:, :, 1] = axis[None, :]
    points = points.reshape(-1, 2)
    values = [np.asarray(critic(points[i:i + chunk]), dtype=np.float64).reshape(-1)
              for i in range(0, len(points), chunk)]
    values = np.concatenate(values)
    if values.shape != (grid * grid,):
        raise ValueError(f"plot_toy: the critic returned {values.size} values for {grid * grid} points")
    return axis, values.reshape(grid, grid)


def plot_toy(real, fake, path: str | os.PathLike, critic: Callable[[np.ndarray], np.ndarray] | None = None,
             bounds: float = 3.0, grid: int = 128, title: str | None = None) -> Path:
    """gan_toy.py's figure: critic contours (if `critic`, a map (N, 2) -> (N,)), real (orange +), fake (green +)."""
    real, fake = _points(real, "real"), _points(fake, "fake")
    path = _target(path)
    fig = _figure()
    ax = fig.add_subplot()
    if critic is not None:
        axis, values = critic_grid(critic, bounds, grid)
        if np.isfinite(values).all() and np.ptp(values) > 0:
            ax.contour(axis, axis, values.transpose())
    ax.scatter(real[:, 0], real[:, 1], c="orange", marker="+", label="real")
    ax.scatter(fake[:, 0], fake[:, 1], c="green", marker="+", label="generated")
    ax.set_xlim(-bounds, bounds)
    ax.set_ylim(-bounds, bounds)
    ax.set_aspect("equal")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path)
    return path


def plot_image_grid(images, path: str | os.PathLike, nrow: int = 8, min_cell: int = 32) -> Path:
    """Tile images (N, C, H, W) or (N, H, W) in [-1, 1] into rows of `nrow`, 1-pixel gray gutters, and
    scale up by an integer factor (nearest neighbour) so each cell is at least `min_cell` pixels."""
    from PIL import Image

    x = _array(images).astype(np.float32)
    if x.ndim == 3:
        x = x[:, None]
    if x.ndim != 4 or x.shape[1] not in (1, 3) or len(x) == 0:
        raise ValueError(f"plot_image_grid: expected images (N, C, H, W) with C in (1, 3), got shape {x.shape}")
    if nrow < 1:
        raise ValueError(f"plot_image_grid: nrow must be positive, got {nrow}")
    path = _target(path)
    n, c, h, w = x.shape
    cols, rows = min(nrow, n), math.ceil(n / nrow)
    canvas = np.full((c, rows * (h + 1) + 1, cols * (w + 1) + 1), 0.5, dtype=np.float32)
    for k in range(n):
        r, q = divmod(k, nrow)
        canvas[:, 1 + r * (h + 1):1 + r * (h + 1) + h, 1 + q * (w + 1):1 + q * (w + 1) + w] = x[k]
    canvas = np.nan_to_num((canvas + 1) / 2, nan=0.0)
    pixels = np.round(np.clip(canvas, 0, 1) * 255).astype(np.uint8)
    scale = max(1, math.ceil(min_cell / max(h, w)))
    pixels = pixels.repeat(scale, axis=1).repeat(scale, axis=2)
    img = Image.fromarray(pixels[0]) if c == 1 else Image.fromarray(pixels.transpose(1, 2, 0))
    img.save(path, format="PNG")
    return path


def _series(rows: Sequence[dict], key: str) -> tuple[np.ndarray, np.ndarray]:
    steps, values = [], []
    for i, row in enumerate(rows):
        v = row.get(key)
        if isinstance(v, (int, float, np.number)) and not isinstance(v, bool) and math.isfinite(v):
            steps.append(row.get("step", i))
            values.append(float(v))
    return np.asarray(steps, dtype=np.float64), np.asarray(values)


#: Axis and legend labels of logged metrics that need more than their key to be read correctly.
METRIC_LABELS = {
    "w_estimate": "critic's W estimate",
    "w1": "exact W1",
    "fid": "FD in the digit classifier's features",
    "classifier_score": "classifier score (digit classifier)",
    "kid": "KID (digit classifier's features)",
}


def plot_metrics(rows: Sequence[dict], path: str | os.PathLike, keys: Sequence[str] = ("w_estimate", "w1"),
                 twin_ratio: float = 5.0) -> Path:
    """Each of `keys` against ``row["step"]`` (or the row index) over the rows that log it as a finite number.

    With two or more series, the second goes on a twin right axis when the ranges of the first two differ by
    more than `twin_ratio`.
    """
    series = {k: _series(rows, k) for k in keys}
    series = {k: s for k, s in series.items() if len(s[0])}
    if not series:
        raise ValueError(f"plot_metrics: none of {list(keys)} is logged as a finite number in the {len(rows)} rows")
    path = _target(path)
    fig = _figure((8, 4.5))
    ax = fig.add_subplot()
    names = list(series)
    spans = [max(np.abs(series[k][1]).max(), 1e-12) for k in names]
    twin = len(names) >= 2 and max(spans[0], spans[1]) / min(spans[0], spans[1]) > twin_ratio
    colors = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown"]
    handles = []
    for i, key in enumerate(names):
        target = ax.twinx() if twin and i == 1 else ax
        steps, values = series[key]
        marker = "o" if len(steps) < 30 else None
        handles += target.plot(steps, values, color=colors[i % len(colors)], marker=marker, ms=3,
                               label=METRIC_LABELS.get(key, key))
        if twin:
            target.set_ylabel(METRIC_LABELS.get(key, key), color=colors[i % len(colors)])
    if not twin:
        ax.set_ylabel(", ".join(METRIC_LABELS.get(k, k) for k in names))
    ax.set_xlabel("step")
    ax.grid(alpha=0.3)
    ax.legend(handles=handles, loc="best")
    fig.tight_layout()
    fig.savefig(path)
    return path
