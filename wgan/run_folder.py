"""The run folder's files, in one place: what each is called, and how each is written and read.

A run folder holds::

    config.json            the resolved TrainConfig
    metrics.jsonl          one JSON object per logged row (every key, lists included)
    metrics.csv            the same rows, one column per scalar key seen in any row
    checkpoint.npz         the training state (`wgan.checkpoint`'s pickle-free format)
    metrics.png            the logged metrics against the step
    samples_<step>.png     the samples figure of an evaluation

Every file is written atomically (a temporary file, then ``os.replace``).
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

CONFIG_NAME = "config.json"
CHECKPOINT_NAME = "checkpoint.npz"
METRICS_JSONL = "metrics.jsonl"
METRICS_CSV = "metrics.csv"
METRICS_FIGURE = "metrics.png"


def samples_figure(run_dir, step: int) -> Path:
    return Path(run_dir) / f"samples_{step:06d}.png"


def checkpoint_file(run_dir) -> Path:
    return Path(run_dir) / CHECKPOINT_NAME


def write_config(run_dir, config) -> None:
    """config.json: the resolved config (``TrainConfig.to_json``)."""
    _write_atomic(Path(run_dir) / CONFIG_NAME, config.to_json() + "\n")


def jsonable(row: dict) -> dict:
    """The entries of a metrics row JSON can hold (numpy scalars and arrays converted, others dropped)."""
    out = {}
    for k, v in row.items():
        if isinstance(v, np.ndarray):
            v = v.tolist()
        elif isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, (int, float, str, bool, list)) or v is None:
            out[k] = v
    return out


def append_metrics_row(run_dir, row: dict) -> None:
    """Append one row to metrics.jsonl (metrics.csv is rewritten at checkpoints by `write_metrics`)."""
    with open(Path(run_dir) / METRICS_JSONL, "a") as f:
        f.write(json.dumps(jsonable(row)) + "\n")


def write_metrics(run_dir, rows: list[dict]) -> None:
    """Write rows to run_dir/metrics.jsonl and run_dir/metrics.csv (atomically each)."""
    run_dir = Path(run_dir)
    rows = [jsonable(r) for r in rows]
    columns: list[str] = []
    for row in rows:
        columns += [k for k, v in row.items() if k not in columns and not isinstance(v, list)]
    _write_atomic(run_dir / METRICS_JSONL, "".join(json.dumps(r) + "\n" for r in rows))
    tmp = run_dir / (METRICS_CSV + ".tmp")
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(run_dir / METRICS_CSV)


def read_metrics(run_dir) -> list[dict]:
    """The rows of run_dir/metrics.jsonl (empty when there is none)."""
    path = Path(run_dir) / METRICS_JSONL
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)
