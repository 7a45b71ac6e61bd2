"""Helpers shared by the reproductions: a pyplot-free figure, JSON output, a float32 constant tensor, the
machine's description, and the plumbing of the reproductions that run as a `wgan.sweep`.

A sweep reproduction NAME (robustness, optimizers, batchnorm-critic, clipping-window) writes
``OUT/NAME_setup.json`` (what was asked: sizes, budget, the command), runs its trials as a sweep in
``OUT/sweep`` (`start_sweep`: local Dask workers by default, a scheduler address for a cluster; rerunning
the same command finishes an interrupted experiment), and builds its table and figures from the trials
finished so far (`finished_trials`), which is also what ``--report-only`` does (`read_setup`).
"""
from __future__ import annotations

import json
import math
import os
import platform
from pathlib import Path

import numpy as np

import minigrad
from minigrad import Tensor

__all__ = ["figure", "write_json", "tensor", "machine", "command_line", "start_sweep", "read_setup",
           "finished_trials", "metric", "partial_note", "series", "last_fraction", "wilson_interval", "mean_std",
           "success_rate", "report_header"]


def figure(figsize):
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, dpi=100)


def write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n")


def tensor(array: np.ndarray) -> Tensor:
    return minigrad.as_tensor(np.ascontiguousarray(array, dtype=np.float32))


def machine() -> dict:
    """{"cpu": the CPU model, "cores", "openblas_threads"} of this machine."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "unset")}


def command_line(name: str, **flags) -> str:
    """``wgan reproduce NAME`` with the flags that were given: True -> ``--flag``, a value -> ``--flag value``
    (False and None are left out; underscores become dashes)."""
    parts = [f"wgan reproduce {name}"]
    for key, value in flags.items():
        if value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        parts.append(flag if value is True else f"{flag} {value}")
    return " ".join(parts)


def _setup_path(out_dir: Path, name: str) -> Path:
    return Path(out_dir) / f"{name}_setup.json"


def report_header(title: str, description: str, setup: dict) -> list[str]:
    """The first lines of a sweep reproduction's markdown: the title, what was run, the command and the machine."""
    m = machine()
    quick = " (quick smoke test: tiny nets, numbers meaningless)" if setup.get("quick") else ""
    return [f"# {title}", "", description, "", f"Command: `{setup['command']}`{quick}",
            f"Machine: {m['cpu']}, {m['cores']} cores.", ""]


def start_sweep(name: str, out_dir: Path, spec: dict, setup: dict, workers: int | None, scheduler: str | None,
                quiet: bool) -> None:
    """Write OUT/NAME_setup.json and run (or finish) the sweep `spec` in OUT/sweep (no sweep report: the
    reproduction writes its own). ``quiet`` hides the progress bar."""
    from wgan.sweep import run_sweep

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _setup_path(out_dir, name).write_text(json.dumps(setup, indent=1) + "\n")
    run_sweep(spec, out_dir / "sweep", workers=workers, scheduler=scheduler, progress=not quiet, report=False)


def read_setup(out_dir: Path, name: str) -> dict:
    """OUT/NAME_setup.json (FileNotFoundError naming the command to run first when there is none)."""
    path = _setup_path(out_dir, name)
    if not path.is_file():
        raise FileNotFoundError(f"{out_dir}: no {path.name}: run `wgan reproduce {name}` there first")
    return json.loads(path.read_text())


def finished_trials(out_dir: Path) -> dict[int, list[dict]]:
    """Configuration index -> the result rows (`wgan.sweep.read_results`) of its finished trials, each with
    ``run_dir`` (its run folder) added, in seed order."""
    from wgan.sweep import read_results, read_sweep

    sweep_dir = Path(out_dir) / "sweep"
    _, trials = read_sweep(sweep_dir)
    run_dirs = {t.index: t.run_dir(sweep_dir) for t in trials}
    groups: dict[int, list[dict]] = {}
    for row in read_results(sweep_dir):
        groups.setdefault(row["config_index"], []).append(dict(row, run_dir=run_dirs[row["trial"]]))
    return groups


def metric(row: dict, key: str) -> float | None:
    """A finished trial's final `key` as a float, or None when the trial failed or did not log it finitely."""
    value = row["metrics"].get(key) if row["status"] == "ok" else None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def partial_note(finished: int, total: int, what: str) -> str:
    """The line a partial report ends with ('' when everything has finished)."""
    if finished >= total:
        return ""
    return f"\nPartial: {finished} of {total} {what} finished so far (rerun the command to finish the rest).\n"


def series(run_dir: Path, key: str) -> tuple[np.ndarray, np.ndarray]:
    """(steps, values) of `key` over the logged rows of a run folder's metrics.jsonl that hold it (a NaN or
    infinite value is kept as it was logged)."""
    from wgan.run_folder import read_metrics

    rows = [r for r in read_metrics(run_dir) if isinstance(r.get(key), (int, float)) and not isinstance(r[key], bool)]
    return (np.array([r["step"] for r in rows], dtype=np.int64), np.array([r[key] for r in rows], dtype=np.float64))


def last_fraction(values: np.ndarray, fraction: float = 0.2) -> np.ndarray:
    """The last ``ceil(fraction · n)`` entries of `values` (at least one of a non-empty array)."""
    values = np.asarray(values)
    return values[len(values) - max(1, math.ceil(fraction * len(values))):] if len(values) else values


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval (95% for z = 1.96) of a success probability from `successes` of `n`."""
    if n == 0:
        return math.nan, math.nan
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def success_rate(successes: int, n: int) -> str:
    """"k/n (p%, 95% CI lo-hi%)", the Wilson interval, or "–" for no trials."""
    if n == 0:
        return "–"
    lo, hi = wilson_interval(successes, n)
    return f"{successes}/{n} ({100 * successes / n:.0f}%, CI {100 * lo:.0f}-{100 * hi:.0f}%)"


def mean_std(values, digits: int = 3) -> str:
    """"mean ± std" of the finite values (std with n − 1; just the value for one), or "–" for none."""
    finite = [float(v) for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return "–"
    if len(finite) == 1:
        return f"{finite[0]:.{digits}g}"
    return f"{np.mean(finite):.{digits}g} ± {np.std(finite, ddof=1):.{digits}g}"
