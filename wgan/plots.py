"""Figures for WGAN runs, each written as a PNG whose path is returned.

- `plot_toy`: gan_toy.py's frame (the WGAN-GP paper's toy figure), labelled: the critic's value over [-b, b]²
  as filled contours with a colorbar, real data as orange discs under the generated samples (blue '+'),
  a legend and a title (algorithm, dataset, step, exact W1, modes, HQ: `describe_scores`).
- `plot_image_grid`: a grid of image samples, optionally under a title with the step and the scores.
- `plot_metrics`: the W estimates and the exact W1 on one axis against the training step, with panels
  for image scores and for the gradient norm and penalty.

Matplotlib is used through its object API on the Agg canvas, so no global pyplot state or display is touched.
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from collections.abc import Callable, Sequence

import numpy as np

from minigrad import Tensor
from wgan.metrics import METRICS, REGULARITY_KEYS, metric, plot_kind

__all__ = ["plot_toy", "plot_image_grid", "plot_metrics", "describe_scores", "critic_grid", "draw_toy",
           "image_grid_pixels", "with_title", "metrics_figure", "toy_pixels"]


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
    flat = points.reshape(-1, 2)
    values = np.concatenate([np.asarray(critic(flat[i:i + chunk]), dtype=np.float64).reshape(-1)
                             for i in range(0, len(flat), chunk)])
    if values.shape != (grid * grid,):
        raise ValueError(f"plot_toy: the critic returned {values.size} values for {grid * grid} points")
    return axis, values.reshape(grid, grid)


def describe_scores(metrics: dict, n_modes: int | None = None) -> str:
    """The evaluation scores of a logged row in words, e.g. "exact W1 0.0123 · modes 8/8 · HQ 97.4%"
    (`n_modes`: the mixture's number of modes; keys absent from `metrics` are left out; "" when none), as
    `wgan.metrics.METRICS` states them."""
    return " · ".join(entry.title(metrics[key], n_modes) for key, entry in METRICS.items()
                      if entry.title is not None and _finite(metrics.get(key)))


def _finite(value) -> bool:
    return isinstance(value, (int, float, np.number)) and not isinstance(value, bool) and math.isfinite(value)


def draw_toy(fig, ax, real: np.ndarray, fake: np.ndarray, axis: np.ndarray | None, values: np.ndarray | None,
             bounds: float, title: str | None = None, levels: np.ndarray | None = None) -> None:
    """Draw the toy figure on `ax`: the critic's values ``values[i, j]`` at ``(axis[i], axis[j])`` as filled
    contours with a colorbar, the real points as large orange discs and the generated points on top as small
    dark-blue crosses (so real data stays visible where they overlap), a legend and `title`. `levels` fixes
    the contour levels (the animation keeps them from frame to frame)."""
    if values is not None and np.isfinite(values).all() and np.ptp(values) > 0:
        filled = ax.contourf(axis, axis, values.transpose(), levels=levels if levels is not None else 14,
                             cmap="Greys", alpha=0.55, zorder=0)
        ax.contour(axis, axis, values.transpose(), levels=filled.levels, colors="k", linewidths=0.3,
                   alpha=0.35, zorder=1)
        bar = fig.colorbar(filled, ax=ax, fraction=0.046, pad=0.03)
        bar.set_label("critic value D(x)")
    elif values is not None:
        ax.text(0.5, 0.02, "critic constant or not finite: no contours", transform=ax.transAxes,
                ha="center", fontsize=8, color="tab:red")
    ax.scatter(real[:, 0], real[:, 1], s=70, c="tab:orange", alpha=0.55, edgecolors="none", zorder=2,
               label=f"real data ({len(real)})")
    ax.scatter(fake[:, 0], fake[:, 1], s=16, c="#1438c8", marker="+", linewidths=0.9, zorder=3,
               label=f"generated ({len(fake)})")
    ax.set_xlim(-bounds, bounds)
    ax.set_ylim(-bounds, bounds)
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=8, framealpha=0.85, markerscale=1.0)
    if title:
        ax.set_title(title, fontsize=10)


def toy_pixels(figure: dict, title: str | None = None, bounds: float | None = None, dpi: int = 80) -> np.ndarray:
    """The toy figure of `figure` (``real``, ``fake``, ``axis``, ``critic``, ``bounds``:
    `wgan.callbacks.figures.figure_data`'s dict or a snapshot) rendered to RGB pixels (H, W, 3) uint8;
    `bounds` overrides the figure's own."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = _figure()
    fig.set_dpi(dpi)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    draw_toy(fig, ax, _points(figure["real"], "real"), _points(figure["fake"], "fake"), np.asarray(figure["axis"]),
             np.asarray(figure["critic"]), float(figure["bounds"] if bounds is None else bounds), title)
    fig.tight_layout()
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[:, :, :3].copy()


def plot_toy(real, fake, path: str | os.PathLike, critic: Callable[[np.ndarray], np.ndarray] | None = None,
             bounds: float = 3.0, grid: int = 128, title: str | None = None,
             values: tuple[np.ndarray, np.ndarray] | None = None) -> Path:
    """gan_toy.py's figure, labelled: the critic's value as filled contours with a colorbar (from `critic`,
    a map (N, 2) -> (N,) evaluated on a `grid` x `grid` lattice, or from precomputed ``values = (axis,
    grid values)`` as `critic_grid` returns), real data (orange discs) under the generated samples (blue +),
    a legend and `title`."""
    real, fake = _points(real, "real"), _points(fake, "fake")
    path = _target(path)
    axis, grid_values = values if values is not None else (critic_grid(critic, bounds, grid) if critic is not None
                                                            else (None, None))
    fig = _figure()
    ax = fig.add_subplot()
    draw_toy(fig, ax, real, fake, axis, grid_values, bounds, title)
    fig.tight_layout()
    fig.savefig(path)
    return path


def image_grid_pixels(images, nrow: int = 8, min_cell: int = 32) -> np.ndarray:
    """Images (N, C, H, W) or (N, H, W) in [-1, 1] tiled into rows of `nrow` with 1-pixel gray gutters and
    scaled up by an integer factor (nearest neighbour) so each cell is at least `min_cell` pixels: uint8
    pixels (C, rows, cols)."""
    x = _array(images).astype(np.float32)
    if x.ndim == 3:
        x = x[:, None]
    if x.ndim != 4 or x.shape[1] not in (1, 3) or len(x) == 0:
        raise ValueError(f"plot_image_grid: expected images (N, C, H, W) with C in (1, 3), got shape {x.shape}")
    if nrow < 1:
        raise ValueError(f"plot_image_grid: nrow must be positive, got {nrow}")
    n, c, h, w = x.shape
    cols, rows = min(nrow, n), math.ceil(n / nrow)
    canvas = np.full((c, rows * (h + 1) + 1, cols * (w + 1) + 1), 0.5, dtype=np.float32)
    for k in range(n):
        r, q = divmod(k, nrow)
        canvas[:, 1 + r * (h + 1):1 + r * (h + 1) + h, 1 + q * (w + 1):1 + q * (w + 1) + w] = x[k]
    canvas = np.nan_to_num((canvas + 1) / 2, nan=0.0)
    pixels = np.round(np.clip(canvas, 0, 1) * 255).astype(np.uint8)
    scale = max(1, math.ceil(min_cell / max(h, w)))
    return pixels.repeat(scale, axis=1).repeat(scale, axis=2)


def plot_image_grid(images, path: str | os.PathLike, nrow: int = 8, min_cell: int = 32,
                    title: str | None = None) -> Path:
    """Tile images (N, C, H, W) or (N, H, W) in [-1, 1] as `image_grid_pixels` does and write the PNG.
    A `title` (e.g. the step and the scores) is written in a white band above the grid, wrapped at " · "."""
    from PIL import Image

    pixels = image_grid_pixels(images, nrow, min_cell)
    path = _target(path)
    img = Image.fromarray(pixels[0]) if pixels.shape[0] == 1 else Image.fromarray(pixels.transpose(1, 2, 0))
    if title:
        img = with_title(img, title)
    img.save(path, format="PNG")
    return path


def with_title(img, title: str):
    """A PIL image: `img` below a white band holding `title`, wrapped at " · " and at newlines to the
    image's width (at least 240 px)."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=13)
    width = max(img.width, 240)
    measure = ImageDraw.Draw(Image.new("L", (1, 1)))
    lines: list[str] = []
    for part in title.replace("\n", " · ").split(" · "):
        joined = f"{lines[-1]} · {part}" if lines else part
        if lines and measure.textlength(joined, font=font) <= width - 8:
            lines[-1] = joined
        else:
            lines.append(part)
    line_height = 17
    band = 6 + line_height * len(lines)
    out = Image.new(img.mode, (width, img.height + band), 255 if img.mode == "L" else (255, 255, 255))
    out.paste(img, ((width - img.width) // 2, band))
    draw = ImageDraw.Draw(out)
    for i, line in enumerate(lines):
        draw.text((4, 3 + i * line_height), line, fill=0 if img.mode == "L" else (0, 0, 0), font=font)
    return out


def _series(rows: Sequence[dict], key: str) -> tuple[np.ndarray, np.ndarray]:
    steps, values = [], []
    for i, row in enumerate(rows):
        v = row.get(key)
        if isinstance(v, (int, float, np.number)) and not isinstance(v, bool) and math.isfinite(v):
            steps.append(row.get("step", i))
            values.append(float(v))
    return np.asarray(steps, dtype=np.float64), np.asarray(values)


def plot_metrics(rows: Sequence[dict], path: str | os.PathLike, keys: Sequence[str] | None = None,
                 twin_ratio: float = 5.0, title: str | None = None, kind: str | None = None) -> Path:
    """The metrics of a run against ``row["step"]`` (or the row index), over the rows that log each as a
    finite number.

    Default (``keys=None``): the plot keys of dataset `kind` (`wgan.metrics.METRICS_BY_KIND`; without `kind`,
    the kind whose keys the rows log most): one panel with its distances on a shared y-axis (the two
    estimates of W and the exact W1 are the same quantity), one panel per score (for images FD, KID and the
    classifier score, with the real data's own value ``<key>_real`` dashed), and a panel with the gradient
    norm and the penalty (`wgan.metrics.REGULARITY_KEYS`) when logged. A per-step series of more than 200
    points is drawn faint with its moving average on top.
    With `keys`: those series in one panel, the second on a twin right axis when the ranges of the first
    two differ by more than `twin_ratio`.
    """
    if keys is not None:
        return _plot_keys(rows, path, keys, twin_ratio, title)
    path = _target(path)
    metrics_figure(rows, twin_ratio, title, kind).savefig(path)
    return path


def metrics_figure(rows: Sequence[dict], twin_ratio: float = 5.0, title: str | None = None,
                   kind: str | None = None):
    """The matplotlib Figure of `plot_metrics`'s default layout (see there)."""
    table = plot_kind(rows, kind)
    specs = (("distance", tuple((key, metric(key).legend) for key in table.distance_keys)),
             *(("score", ((key, metric(key).label),)) for key in table.score_keys),
             ("regularity", tuple((key, metric(key).legend) for key in REGULARITY_KEYS)))
    panels = []
    for kind, spec in specs:
        present = [(key, label, _series(rows, key)) for key, label in spec]
        present = [item for item in present if len(item[2][0])]
        if present:
            panels.append((kind, present))
    if not panels:
        wanted = [key for _, spec in specs for key, _ in spec]
        raise ValueError(f"plot_metrics: none of {wanted} is logged as a finite number in the {len(rows)} rows")
    heights = [3.0] + [2.0] * (len(panels) - 1)
    fig = _figure((8, 4.5 if len(panels) == 1 else 1.5 + 1.5 * sum(heights)))
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False, gridspec_kw={"height_ratios": heights})[:, 0]
    for ax, (kind, panel) in zip(axes, panels):
        if kind != "regularity":
            handles = []
            for key, label, (steps, values) in panel:
                handles += _draw_series(ax, steps, values, label, metric(key).color)
                _, ceiling = _series(rows, key + "_real")
                if len(ceiling):  # the real data's own value (a ceiling for generated samples)
                    handles.append(ax.axhline(ceiling[-1], color=metric(key).color, ls="--", lw=1,
                                              label=f"real data's own: {ceiling[-1]:.4g}"))
            ax.legend(handles=handles, loc="best", fontsize=8)
            ax.set_ylabel("distance" if kind == "distance" else metric(panel[0][0]).axis)
        else:
            _draw_twin(ax, panel, always=kind == "regularity", twin_ratio=twin_ratio)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("generator step")
    if title:
        axes[0].set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def _draw_series(ax, steps: np.ndarray, values: np.ndarray, label: str, color: str) -> list:
    """One series; more than 200 points are drawn faint with a moving average (about 1/50 of them) on top."""
    if len(steps) <= 200:
        return ax.plot(steps, values, color=color, marker="o" if len(steps) < 30 else None, ms=3, label=label)
    window = max(2, len(values) // 50)
    ax.plot(steps, values, color=color, alpha=0.25, lw=0.6)
    kernel = np.ones(window) / window
    smooth = np.convolve(values, kernel, mode="valid")
    return ax.plot(steps[window - 1:], smooth, color=color, lw=1.5,
                   label=f"{label} (mean of {window} logged steps)")


def _draw_twin(ax, panel, always: bool, twin_ratio: float) -> None:
    """The first series on the left axis, the others on a right-hand twin axis (`always`, or when their
    ranges differ from the first's by more than `twin_ratio`), each axis labelled in its series' colour."""
    handles = []
    first_span = max(np.abs(panel[0][2][1]).max(), 1e-12)
    twin = None
    for i, (key, label, (steps, values)) in enumerate(panel):
        span = max(np.abs(values).max(), 1e-12)
        apart = always or max(span, first_span) / min(span, first_span) > twin_ratio
        target = ax if i == 0 or not apart else (twin if twin is not None else ax.twinx())
        if target is not ax:
            twin = target
        color = metric(key).color
        handles += _draw_series(target, steps, values, label, color)
        if i == 0 or target is not ax:
            target.set_ylabel(key.replace("_", " "), color=color)
    ax.legend(handles=handles, loc="best", fontsize=8)


def _plot_keys(rows: Sequence[dict], path, keys: Sequence[str], twin_ratio: float, title: str | None) -> Path:
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
                               label=metric(key).label)
        if twin:
            target.set_ylabel(metric(key).label, color=colors[i % len(colors)])
    if not twin:
        ax.set_ylabel(", ".join(metric(k).label for k in names))
    ax.set_xlabel("step")
    ax.grid(alpha=0.3)
    ax.legend(handles=handles, loc="best")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    return path
