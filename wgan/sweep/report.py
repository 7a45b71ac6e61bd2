"""A sweep's report: the metric per configuration (mean ± std over its seeds) as a table and a figure.

``write_report(DIR)`` reads DIR/sweep.json and DIR/results.jsonl and writes:

- ``DIR/report.md``: one row per configuration: its swept fields, the metric's mean ± std over the
  trials that succeeded (std with n − 1; "–" for a single trial), how many succeeded of how many
  ran, and the best configuration (``goal`` min or max) named below the table;
- ``DIR/report.png``: the metric against the x field (``report_field``, default the first swept
  field), one point per configuration with ± std error bars, one series per value of the other
  grid fields; a categorical x is placed at even positions, a positive x spanning a decade or more
  or drawn log-uniformly on a log axis.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from wgan.sweep.results import read_results, read_sweep
from wgan.sweep.spec import SpecError, SweepSpec, Trial

__all__ = ["summarize", "write_report", "render_markdown"]


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return json.dumps(value) if isinstance(value, (list, dict)) else str(value)


def summarize(spec: SweepSpec, trials: list[Trial], rows: list[dict], metric: str | None = None) -> list[dict]:
    """Per configuration: ``config_index``, ``config`` (swept fields), ``values`` (the metric of each ok
    trial), ``mean``, ``std`` (n − 1; nan for one value), ``ok``, ``ran``, ``trials``."""
    metric = metric or spec.metric
    by_config: dict[int, dict] = {}
    for trial in trials:
        entry = by_config.setdefault(trial.config_index, {"config_index": trial.config_index,
                                                          "config": trial.overrides, "values": [], "ok": 0,
                                                          "ran": 0, "trials": 0})
        entry["trials"] += 1
    for row in rows:
        entry = by_config[row["config_index"]]
        entry["ran"] += 1
        value = row["metrics"].get(metric) if row["status"] == "ok" else None
        if row["status"] == "ok":
            entry["ok"] += 1
        if isinstance(value, (int, float)) and math.isfinite(value):
            entry["values"].append(float(value))
    for entry in by_config.values():
        values = np.asarray(entry["values"])
        entry["mean"] = float(values.mean()) if len(values) else math.nan
        entry["std"] = float(values.std(ddof=1)) if len(values) > 1 else math.nan
    return [by_config[k] for k in sorted(by_config)]


def render_markdown(spec: SweepSpec, summary: list[dict], metric: str) -> str:
    fields = spec.swept_fields
    lines = [f"# Sweep report: {metric} ({'lower' if spec.goal == 'min' else 'higher'} is better)", "",
             f"{len(summary)} configurations × {spec.seeds} seed(s); mean ± std over the seeds that succeeded.", "",
             "| config | " + " | ".join(fields) + (" | " if fields else "") + f"{metric} | succeeded |",
             "|---:|" + "---|" * len(fields) + "---:|---:|"]
    for entry in summary:
        cells = [str(entry["config_index"])] + [_fmt(entry["config"].get(f)) for f in fields]
        if entry["values"]:
            std = "–" if math.isnan(entry["std"]) else f"{entry['std']:.4g}"
            cells.append(f"{entry['mean']:.4g} ± {std}")
        else:
            cells.append("–")
        cells.append(f"{entry['ok']}/{entry['ran']}" + ("" if entry["ran"] == entry["trials"]
                                                        else f" ({entry['trials'] - entry['ran']} not run)"))
        lines.append("| " + " | ".join(cells) + " |")
    scored = [e for e in summary if e["values"]]
    if scored:
        best = (min if spec.goal == "min" else max)(scored, key=lambda e: e["mean"])
        lines += ["", f"Best: config {best['config_index']} "
                      f"({_fmt(best['config']) if best['config'] else 'the base config'}), "
                      f"{metric} = {best['mean']:.4g}."]
    return "\n".join(lines) + "\n"


def _plot(spec: SweepSpec, summary: list[dict], metric: str, x_field: str | None, path: Path) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.2), dpi=100)
    ax = fig.add_subplot()
    xs_all = [e["config"].get(x_field) for e in summary] if x_field else [e["config_index"] for e in summary]
    numeric = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in xs_all)
    categories = [] if numeric else list(dict.fromkeys(_fmt(x) for x in xs_all))
    others = [f for f in spec.grid if f != x_field]
    series: dict[str, list[dict]] = {}
    for entry in summary:
        label = ", ".join(f"{f}={_fmt(entry['config'].get(f))}" for f in others)
        series.setdefault(label, []).append(entry)
    connect = x_field in spec.grid or x_field is None
    for label, entries in series.items():
        entries = [e for e in entries if e["values"]]
        raw = [(e["config"].get(x_field) if x_field else e["config_index"]) for e in entries]
        positions = np.asarray(raw if numeric else [categories.index(_fmt(x)) for x in raw], dtype=float)
        order = np.argsort(positions, kind="stable")
        xs = positions[order]
        means = np.asarray([entries[i]["mean"] for i in order])
        stds = np.nan_to_num(np.asarray([entries[i]["std"] for i in order]))
        ax.errorbar(xs, means, yerr=stds, fmt="o-" if connect and len(xs) > 1 else "o", capsize=3,
                    label=label or None)
    if numeric and x_field:
        values = np.asarray(xs_all, dtype=float)
        drawn_log = isinstance(spec.random.get(x_field), dict) and "loguniform" in spec.random[x_field]
        if (values > 0).all() and (drawn_log or values.max() >= 10 * values.min()):
            from matplotlib.ticker import NullFormatter

            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())  # decade labels only: minor ones overlap
    elif categories:
        ax.set_xticks(range(len(categories)), categories)
    ax.set_xlabel(x_field or "configuration")
    ax.set_ylabel(f"{metric} ({'lower' if spec.goal == 'min' else 'higher'} is better)")
    n_seeds = f"{spec.seeds} seeds" if spec.seeds > 1 else "1 seed"
    ax.set_title(f"{metric} against {x_field or 'configuration'}: mean ± std over {n_seeds}", fontsize=10)
    if any(series):
        ax.legend(fontsize=8, title=", ".join(others), title_fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)


def write_report(sweep_dir, metric: str | None = None, x_field: str | None = None) -> dict:
    """Write DIR/report.md and DIR/report.png; return {"markdown": text, "table": path, "figure": path}."""
    sweep_dir = Path(sweep_dir)
    spec, trials = read_sweep(sweep_dir)
    metric = metric or spec.metric
    x_field = x_field or spec.x_field
    if x_field is not None and x_field not in spec.swept_fields:
        raise SpecError(f"--field: {x_field!r} is not a swept field (swept: {', '.join(spec.swept_fields) or 'none'})")
    rows = read_results(sweep_dir)
    seen = {k for r in rows for k in r["metrics"]}
    if rows and any(r["status"] == "ok" for r in rows) and metric not in seen:
        raise SpecError(f"metric: {metric!r} is not among the trials' metrics ({', '.join(sorted(seen))})")
    summary = summarize(spec, trials, rows, metric)
    text = render_markdown(spec, summary, metric)
    (sweep_dir / "report.md").write_text(text)
    _plot(spec, summary, metric, x_field, sweep_dir / "report.png")
    return {"markdown": text, "table": str(sweep_dir / "report.md"), "figure": str(sweep_dir / "report.png")}
