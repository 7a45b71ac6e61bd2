"""Evaluation snapshots: what each evaluation's samples figure showed, kept small in the run folder, and the
training animation made from them (``wgan plot RUN --animate``).

One pickle-free ``.npz`` per evaluation, ``RUN/snapshots/step_<step>.npz`` (written atomically by
`minigrad.save`), holding

- 2-D data (about 24 KB): ``real`` and ``fake`` (512, 2) float32 points, ``axis`` (64,) and ``critic``
  (64, 64) float32, the critic's value ``critic[i, j]`` at ``(axis[i], axis[j])``, ``bounds`` (the half-width
  of the square drawn) and ``n_modes`` (the mixture's number of modes, 0 when it is not a mixture);
- images (at most 16 x C x H x W bytes): ``images``, the first 16 samples of the figure as uint8 in [0, 255].

The titles of the frames come from the run's ``config.json`` and ``metrics.jsonl`` (the row of each step).
"""
from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

import numpy as np

import minigrad

__all__ = ["SNAPSHOT_DIR", "save_snapshot", "snapshot_paths", "load_snapshot", "drop_snapshots_after",
           "animate", "SNAPSHOT_IMAGES"]

SNAPSHOT_DIR = "snapshots"
#: Images kept per evaluation for the animation (a 4 x 4 grid).
SNAPSHOT_IMAGES = 16
_NAME = re.compile(r"^step_(\d+)\.npz$")
_KEYS_2D = ("real", "fake", "axis", "critic", "bounds", "n_modes")


def _to_uint8(images: np.ndarray) -> np.ndarray:
    return np.round(np.clip((np.nan_to_num(images, nan=-1.0) + 1) * 127.5, 0, 255)).astype(np.uint8)


def save_snapshot(run_dir: str | os.PathLike, step: int, figure: dict) -> Path:
    """Write the arrays of one evaluation's figure (`wgan.callbacks.figures.figure_data`'s dict) to
    ``run_dir/snapshots/step_<step>.npz``; images are cut to `SNAPSHOT_IMAGES` and stored as uint8."""
    directory = Path(run_dir) / SNAPSHOT_DIR
    directory.mkdir(parents=True, exist_ok=True)
    if "images" in figure:
        arrays = {"images": _to_uint8(np.asarray(figure["images"])[:SNAPSHOT_IMAGES])}
    else:
        arrays = {key: np.asarray(figure[key], dtype=np.int64 if key == "n_modes" else np.float32)
                  for key in _KEYS_2D}
    path = directory / f"step_{step:06d}.npz"
    minigrad.save(arrays, path)
    return path


def snapshot_paths(run_dir: str | os.PathLike) -> list[tuple[int, Path]]:
    """(step, path) of every snapshot in the run folder, in step order."""
    directory = Path(run_dir) / SNAPSHOT_DIR
    if not directory.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in directory.iterdir() if (m := _NAME.match(p.name))]
    return sorted(found)


def load_snapshot(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The arrays of one snapshot; ValueError naming the file when it is neither kind."""
    arrays = minigrad.load(path)
    if "images" in arrays:
        images = arrays["images"]
        if images.dtype != np.uint8 or images.ndim != 4 or images.shape[1] not in (1, 3):
            raise ValueError(f"snapshot {path}: 'images' must be uint8 (N, C, H, W), got {images.dtype} "
                             f"{images.shape}")
        return arrays
    missing = [key for key in _KEYS_2D if key not in arrays]
    if missing:
        raise ValueError(f"snapshot {path} lacks {missing}: not an evaluation snapshot")
    return arrays


def drop_snapshots_after(run_dir: str | os.PathLike, step: int) -> int:
    """Delete the snapshots of steps after `step` (a resumed or restarted run redoes them); returns how many."""
    dropped = 0
    for snap_step, path in snapshot_paths(run_dir):
        if snap_step > step:
            path.unlink()
            dropped += 1
    return dropped


def _rows_by_step(run_dir: Path) -> dict[int, dict]:
    """The rows of run_dir/metrics.jsonl by step (empty when there is none)."""
    path = run_dir / "metrics.jsonl"
    if not path.is_file():
        return {}
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {int(row["step"]): row for row in rows if "step" in row}


def _frame_images(snap: dict, title: str) -> np.ndarray:
    from PIL import Image

    from wgan.plots import image_grid_pixels, with_title

    pixels = image_grid_pixels(snap["images"].astype(np.float32) / 127.5 - 1, nrow=math.ceil(
        math.sqrt(len(snap["images"]))), min_cell=48)
    img = Image.fromarray(pixels[0]) if pixels.shape[0] == 1 else Image.fromarray(pixels.transpose(1, 2, 0))
    return np.asarray(with_title(img.convert("RGB"), title))


def _pad(frames: list[np.ndarray]) -> list[np.ndarray]:
    """Frames padded with white to one size (titles may wrap to different heights)."""
    height, width = max(f.shape[0] for f in frames), max(f.shape[1] for f in frames)
    out = []
    for f in frames:
        canvas = np.full((height, width, 3), 255, dtype=np.uint8)
        canvas[:f.shape[0], :f.shape[1]] = f
        out.append(canvas)
    return out


def animate(run_dir: str | os.PathLike, out: str | os.PathLike | None = None, fps: float = 4.0,
            dpi: int = 80) -> tuple[Path, int]:
    """A GIF of the run's evaluations in step order: for 2-D data the samples over the critic's contours,
    on the same axes in every frame; for images the sample grids. The last frame is held 2 s. Writes
    `out` (default ``run_dir/training.gif``) and returns (path, number of frames)."""
    from PIL import Image

    from wgan.config import TrainConfig
    from wgan.plots import describe_scores, toy_pixels

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"animate: run folder {run_dir} does not exist")
    out = Path(out) if out is not None else run_dir / "training.gif"
    if out.suffix.lower() != ".gif":
        raise ValueError(f"animate: {out} must end in .gif")
    if not (isinstance(fps, (int, float)) and 0 < fps <= 50):
        raise ValueError(f"animate: fps must lie in (0, 50], got {fps!r}")
    snapshots = snapshot_paths(run_dir)
    if not snapshots:
        raise ValueError(f"animate: {run_dir} has no evaluation snapshots ({SNAPSHOT_DIR}/step_*.npz); they are "
                         "written at each evaluation of a run (eval_every > 0)")
    config_path = run_dir / "config.json"
    config = TrainConfig.load(config_path) if config_path.is_file() else None
    head = f"{config.algorithm} on {config.dataset}" if config is not None else run_dir.name
    total = f"/{config.steps}" if config is not None else ""
    rows = _rows_by_step(run_dir)
    loaded = [(step, load_snapshot(path)) for step, path in snapshots]
    bounds = max((float(snap["bounds"]) for _, snap in loaded if "bounds" in snap), default=3.0)
    frames = []
    for step, snap in loaded:
        n_modes = int(snap["n_modes"]) if "n_modes" in snap else 0
        scores = describe_scores(rows.get(step, {}), n_modes=n_modes or None)
        if "images" in snap:
            frames.append(_frame_images(snap, f"{head} · step {step}{total}" + (f" · {scores}" if scores else "")))
        else:
            title = f"{head} · step {step}{total}" + (f"\n{scores}" if scores else "")
            frames.append(toy_pixels(snap, title, bounds=bounds, dpi=dpi))
    images = [Image.fromarray(f).quantize(colors=255, method=Image.Quantize.MEDIANCUT) for f in _pad(frames)]
    out.parent.mkdir(parents=True, exist_ok=True)
    durations = [int(1000 / fps)] * (len(images) - 1) + [2000]
    images[0].save(out, format="GIF", save_all=True, append_images=images[1:], duration=durations, loop=0)
    return out, len(images)
