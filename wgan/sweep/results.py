"""A sweep folder's files: ``sweep.json`` (the spec and its trials) and the results table.

``DIR/sweep.json`` records the spec and every trial's config when a sweep first runs in DIR; a
later run in DIR must describe the same trials (it may add trials at the end: more random
configurations with the same seeds count, say), so a folder never mixes two sweeps.

``DIR/results.jsonl`` and ``DIR/results.csv`` hold one row per finished trial, in trial order,
rewritten whole (temporary file + ``os.replace``) by the client after each trial finishes; the
workers never write them. JSONL rows: ``trial``, ``config_index``, ``seed_index``, ``seed``,
``config`` (the swept fields), ``status``, ``metrics``, ``error``, ``steps``, ``resumed_from``,
``train_time``, ``wall_time``, ``host``, ``worker``, ``threads``. The CSV flattens ``config`` and ``metrics``
into columns (a metric named like a swept field becomes ``metric.NAME``).
"""
from __future__ import annotations

import csv
import io
import json
import os
import time
from pathlib import Path

from wgan.sweep.spec import SpecError, SweepSpec, Trial

__all__ = ["SWEEP_NAME", "RESULTS_JSONL", "RESULTS_CSV", "record_sweep", "read_sweep", "result_rows",
           "write_results", "read_results"]

SWEEP_NAME = "sweep.json"
RESULTS_JSONL = "results.jsonl"
RESULTS_CSV = "results.csv"
_ROW_TAIL = ("steps", "resumed_from", "train_time", "wall_time", "host", "worker", "threads", "error")


def _write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", newline="") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def record_sweep(sweep_dir: Path, spec: SweepSpec, trials: list[Trial]) -> None:
    """Write DIR/sweep.json, or check that the one there describes the same trials (raises SpecError)."""
    path = sweep_dir / SWEEP_NAME
    if path.is_file():
        old = json.loads(path.read_text())["trials"]
        for before, now in zip(old, trials):
            if json.dumps(before["config"], sort_keys=True) != json.dumps(now.config, sort_keys=True):
                changed = sorted(k for k in set(before["config"]) | set(now.config)
                                 if before["config"].get(k) != now.config.get(k))
                raise SpecError(f"{sweep_dir} holds a different sweep: trial {now.index} differs in "
                                f"{', '.join(changed)}; give another --out")
        if len(trials) < len(old):
            raise SpecError(f"{sweep_dir} holds a sweep of {len(old)} trials; this spec has only {len(trials)}: "
                            "give another --out")
    elif sweep_dir.is_dir() and any(sweep_dir.iterdir()):
        raise SpecError(f"{sweep_dir} exists, is not empty and holds no {SWEEP_NAME}: not a sweep folder")
    sweep_dir.mkdir(parents=True, exist_ok=True)
    _write_text_atomic(path, json.dumps({"spec": spec.to_dict(), "trials": [t.to_dict() for t in trials],
                                         "written": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
                                        indent=1) + "\n")


def read_sweep(sweep_dir) -> tuple[SweepSpec, list[Trial]]:
    """The spec and trials recorded in DIR/sweep.json."""
    path = Path(sweep_dir) / SWEEP_NAME
    if not path.is_file():
        raise FileNotFoundError(f"{sweep_dir}: no {SWEEP_NAME}: not a sweep folder")
    data = json.loads(path.read_text())
    return SweepSpec.from_dict(data["spec"]), [Trial.from_dict(t) for t in data["trials"]]


def result_rows(trials: list[Trial], results: dict[int, dict]) -> list[dict]:
    """The JSONL rows of the trials that have a result, in trial order."""
    rows = []
    for trial in trials:
        result = results.get(trial.index)
        if result is None:
            continue
        rows.append({"trial": trial.index, "config_index": trial.config_index, "seed_index": trial.seed_index,
                     "seed": trial.seed, "config": trial.overrides, "status": result["status"],
                     "metrics": result.get("metrics", {}), **{k: result.get(k) for k in _ROW_TAIL}})
    return rows


def write_results(sweep_dir: Path, spec: SweepSpec, trials: list[Trial], results: dict[int, dict]) -> list[dict]:
    """Rewrite DIR/results.jsonl and DIR/results.csv from `results` (trial index -> result); return the rows."""
    rows = result_rows(trials, results)
    _write_text_atomic(sweep_dir / RESULTS_JSONL, "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))
    fields = spec.swept_fields
    metric_names = sorted({k for r in rows for k in r["metrics"]}, key=lambda k: (k != spec.metric, k))
    metric_columns = {k: (f"metric.{k}" if k in fields or k in _ROW_TAIL else k) for k in metric_names}
    columns = ["trial", "config_index", "seed_index", "seed", *fields, "status", *metric_columns.values(),
               *_ROW_TAIL]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    for r in rows:
        flat = {k: r[k] for k in ("trial", "config_index", "seed_index", "seed", "status", *_ROW_TAIL)}
        flat.update({f: json.dumps(v) if isinstance(v, (list, dict)) else v for f, v in r["config"].items()})
        flat.update({metric_columns[k]: v for k, v in r["metrics"].items()})
        writer.writerow(flat)
    _write_text_atomic(sweep_dir / RESULTS_CSV, buffer.getvalue())
    return rows


def read_results(sweep_dir) -> list[dict]:
    """The rows of DIR/results.jsonl (empty when there is none)."""
    path = Path(sweep_dir) / RESULTS_JSONL
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
