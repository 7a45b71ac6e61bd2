"""Momentum optimizers with weight clipping and with the gradient penalty (lecture notes, claim 5.1), as a sweep.

The WGAN paper (Arjovsky et al. 2017, section 3) reports that its clipped critic trains unstably with a
momentum optimizer such as Adam (β1 > 0) and recommends RMSprop; WGAN-GP (Gulrajani et al. 2017) trains
with Adam. The reading group's notes (``shared/seeds/002``, 5.1) add that WGAN "is likely capable of working
with momentum … just generally not as well". ``wgan reproduce optimizers`` trains, on the 8 gaussians and on
the built-in digits, over ``seeds`` seeds each (the same j-th seed in every cell), at one fixed budget:

==================  ==========================================================================
cell                algorithm and critic/generator optimizer
==================  ==========================================================================
clip, RMSprop       WGAN (clipping, c = 0.01, n_critic 5), RMSprop (alpha 0.99, eps 1e-8)
clip, Adam          WGAN (clipping), Adam betas (0.5, 0.9): momentum
clip, Adam β1=0     WGAN (clipping), Adam betas (0, 0.9): no momentum, Adam's scaling only
GP, Adam            WGAN-GP (lambda as below, n_critic 5), Adam betas (0.5, 0.9)
GP, RMSprop         WGAN-GP, RMSprop (alpha 0.99, eps 1e-8)
==================  ==========================================================================

Every cell of a dataset has the same learning rate (`LEARNING_RATES`), networks and budget, so the
optimizer is the only change within a method. 8 gaussians: gan_toy.py's ReLU MLPs (He/Glorot init,
z ~ N(0, I_2), batch 256, WGAN-GP lambda 0.1: the ``toy`` preset) at 2 hidden layers of `TOY_WIDTH`;
digits: DCGAN G and critic (3 conv layers, `DIGITS_FILTERS` base filters, no critic normalisation in any
cell, since WGAN-GP refuses batch norm), batch 64, z of 64 dimensions, lambda 10.

Per trial (every definition reads the run folder's logged rows, one every ``steps / 200`` iterations;
the logged W estimate is E[D(x)] − E[D(G(z))] on the last critic batch of the iteration):

- **success**: on the 8 gaussians all 8 modes covered at the end (`wgan.metrics.mode_stats`: a mode is
  covered when one of 2,500 samples lies within 3 sigma of it); on digits a final classifier score of at
  least half the real digits' own (`wgan.scores`). A diverged run fails.
- **final exact W1** (8 gaussians, optimal assignment of 2,500 samples) or **classifier score** (digits).
- **diverged**: the run stopped at a non-finite loss, or logged a non-finite W estimate, or its W
  estimate grows without bound: the mean of |W estimate| over the last 20% of the logged rows is more
  than `GROWTH` (2) times its mean over the 20% before them, *and* it rises through those last 20%
  (Pearson correlation of |W estimate| with the step above `TREND`, 0.5).
- **oscillates** (only when not diverged): the standard deviation of the W estimate over the last 20%
  of the logged rows exceeds the absolute value of its mean there. These are single-batch estimates,
  so batch noise counts too: a run whose estimate has settled near 0 oscillates by this definition.

Output in OUT: ``optimizers.md`` (the table, the verdict on claim 5.1, the command, machine and seeds),
``optimizers.json`` (every trial's numbers), ``optimizers.png`` (every cell's curves in one grid) and
``curves/<dataset>__<cell>.png`` (one figure of W-estimate curves per cell, one line per seed, green:
success, red: failure, a cross where a run stopped at a non-finite loss). The runs are a `wgan.sweep`
in OUT/sweep: rerunning the same command finishes an interrupted experiment; ``scheduler=`` runs it on a
cluster; ``report_only`` writes the outputs from the trials finished so far.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from wgan.reproductions.common import (command_line, figure, finished_trials, last_fraction, machine, mean_std,
                                       metric, partial_note, read_setup, report_header, series, start_sweep,
                                       success_rate)

__all__ = ["optimizers", "optimizers_report", "w_behaviour", "CELLS", "DATASETS"]

NAME = "optimizers"
DATASETS = ("8gaussians", "digits")
RMSPROP = dict(optimizer="rmsprop", rmsprop_alpha=0.99, rmsprop_eps=1e-8)
#: cell key -> (label, TrainConfig fields).
CELLS: dict[str, tuple[str, dict]] = {
    "clip-rmsprop": ("WGAN (clip), RMSprop", dict(algorithm="wgan-clip", **RMSPROP)),
    "clip-adam": ("WGAN (clip), Adam β=(0.5, 0.9)", dict(algorithm="wgan-clip", optimizer="adam", betas=[0.5, 0.9])),
    "clip-adam-b0": ("WGAN (clip), Adam β=(0, 0.9)", dict(algorithm="wgan-clip", optimizer="adam", betas=[0.0, 0.9])),
    "gp-adam": ("WGAN-GP, Adam β=(0.5, 0.9)", dict(algorithm="wgan-gp", optimizer="adam", betas=[0.5, 0.9])),
    "gp-rmsprop": ("WGAN-GP, RMSprop", dict(algorithm="wgan-gp", **RMSPROP)),
}
LEARNING_RATES = {"8gaussians": 3e-4, "digits": 2e-4}
TOY_WIDTH, DIGITS_FILTERS = 64, 8
DEFAULT_SEEDS, DEFAULT_STEPS = 8, 1500
QUICK_SEEDS, QUICK_STEPS = 1, 4
N_MODES, SCORE_FRACTION = 8, 0.5
GROWTH, TREND, TAIL = 2.0, 0.5, 0.2


def _dataset_fields(dataset: str, quick: bool) -> dict:
    lr = LEARNING_RATES[dataset]
    if dataset == "8gaussians":
        return dict(dataset=dataset, preset="toy", width=8 if quick else TOY_WIDTH, depth=2, lr_g=lr, lr_d=lr,
                    eval_samples=200 if quick else 2500)
    return dict(dataset=dataset, model="dcgan", base_filters=2 if quick else DIGITS_FILTERS, g_depth=3, d_depth=3,
                critic_norm="none", batch_size=64, z_dim=64, lr_g=lr, lr_d=lr, eval_samples=200 if quick else 1000)


def w_behaviour(values, stopped_non_finite: bool = False) -> str:
    """"diverged", "oscillates" or "steady" for one run's logged W estimates (module docstring)."""
    values = np.asarray(values, dtype=np.float64)
    if stopped_non_finite or not np.isfinite(values).all():
        return "diverged"
    if len(values) == 0:
        return "steady"
    tail = last_fraction(values, TAIL)
    before = values[max(0, len(values) - 2 * len(tail)):len(values) - len(tail)]
    if len(tail) >= 3 and len(before) and np.abs(tail).mean() > GROWTH * np.abs(before).mean():
        magnitude = np.abs(tail)
        if magnitude.std() > 0 and np.corrcoef(np.arange(len(tail)), magnitude)[0, 1] > TREND:
            return "diverged"
    return "oscillates" if tail.std() > abs(tail.mean()) else "steady"


def optimizers(out_dir: Path, quick: bool = False, seeds: int | None = None, steps: int | None = None,
               workers: int | None = None, scheduler: str | None = None, seed: int = 0,
               report_only: bool = False) -> dict:
    """Claim 5.1 as a sweep: each cell of `CELLS` on each of `DATASETS` over `seeds` seeds (module docstring).

    Default: `DEFAULT_SEEDS` seeds, `DEFAULT_STEPS` generator iterations; ``quick``: one seed of 4 iterations
    on tiny nets (a smoke test). Writes OUT/optimizers.{md,json,png} and OUT/curves/*.png; returns the
    headline numbers per cell.
    """
    if report_only:
        read_setup(out_dir, NAME)
        return optimizers_report(out_dir)
    n = seeds or (QUICK_SEEDS if quick else DEFAULT_SEEDS)
    budget = steps or (QUICK_STEPS if quick else DEFAULT_STEPS)
    base = {"steps": budget, "eval_every": budget, "log_every": max(1, budget // 200),
            "checkpoint_every": max(1, budget // 4)}
    cells = [[dataset, cell] for dataset in DATASETS for cell in CELLS]
    spec = {"metric": "w1", "goal": "min", "seed": seed, "seeds": n, "base": base,
            "configs": [dict(_dataset_fields(dataset, quick), **CELLS[cell][1]) for dataset, cell in cells]}
    setup = {"seeds": n, "steps": budget, "cells": cells, "learning_rates": LEARNING_RATES, "quick": quick,
             "command": command_line(NAME, quick=quick, seeds=seeds, steps=steps)}
    start_sweep(NAME, out_dir, spec, setup, workers, scheduler, quiet=quick)
    return optimizers_report(out_dir)


def _trial(row: dict, dataset: str) -> dict:
    """One finished trial's numbers (module docstring's definitions)."""
    steps, w = series(row["run_dir"], "w_estimate")
    stopped = row["status"] == "failed" and (row.get("error") or "").startswith("TrainingDiverged")
    behaviour = w_behaviour(w, stopped) if row["status"] == "ok" or stopped else "error"
    if dataset == "8gaussians":
        final, modes = metric(row, "w1"), metric(row, "modes")
        success = modes is not None and modes >= N_MODES
        extra = {"modes": modes}
    else:
        final, real = metric(row, "classifier_score"), metric(row, "classifier_score_real")
        success = final is not None and real is not None and final >= SCORE_FRACTION * real
        extra = {"real_score": real}
    return {"seed": row["seed"], "status": row["status"], "error": row.get("error"), "final": final,
            "success": bool(success and behaviour != "diverged"), "behaviour": behaviour,
            "train_time": row.get("train_time"), **extra, "steps": steps.tolist(), "w_estimate": w.tolist()}


def optimizers_report(out_dir: Path) -> dict:
    """The table, JSON and figures from OUT/sweep's finished trials (every one once the sweep is complete)."""
    out_dir = Path(out_dir)
    setup = read_setup(out_dir, NAME)
    groups = finished_trials(out_dir)
    summary = []
    for index, (dataset, cell) in enumerate(setup["cells"]):
        trials = [_trial(row, dataset) for row in groups.get(index, [])]
        summary.append({"dataset": dataset, "cell": cell, "label": CELLS[cell][0], "trials": trials,
                        "finished": len(trials), "successes": sum(t["success"] for t in trials),
                        "diverged": sum(t["behaviour"] == "diverged" for t in trials),
                        "oscillates": sum(t["behaviour"] == "oscillates" for t in trials),
                        "errors": sum(t["behaviour"] == "error" for t in trials)})
    finished = sum(c["finished"] for c in summary)
    if not finished:
        raise RuntimeError(f"optimizers: no trial has finished yet; see {out_dir / 'sweep' / 'results.csv'}")
    curves = out_dir / "curves"
    curves.mkdir(exist_ok=True)
    for cell in summary:
        fig = figure((5.5, 3.6))
        _draw_curves(fig.subplots(), cell, setup["steps"])
        fig.tight_layout()
        fig.savefig(curves / f"{cell['dataset']}__{cell['cell']}.png")
    _overview(summary, setup, out_dir / "optimizers.png")
    text = _markdown(summary, setup) + partial_note(finished, len(summary) * setup["seeds"], "trials")
    (out_dir / "optimizers.md").write_text(text)
    (out_dir / "optimizers.json").write_text(json.dumps(dict(setup, machine=machine(), cells=summary)) + "\n")
    return {"finished": finished, "figure": str(out_dir / "optimizers.png"), "markdown": str(out_dir / "optimizers.md"),
            "cells": {f"{c['dataset']}/{c['cell']}": {k: c[k] for k in ("finished", "successes", "diverged",
                                                                          "oscillates")} for c in summary}}


def _draw_curves(ax, cell: dict, steps: int) -> None:
    """Every seed's W-estimate curve of one cell (green: success, red: failure; x: stopped non-finite)."""
    finite = [np.asarray(t["w_estimate"], dtype=np.float64) for t in cell["trials"]]
    peak = [float(np.abs(y[np.isfinite(y)]).max()) for y in finite if np.isfinite(y).any()]
    for t in cell["trials"]:
        x, y = np.asarray(t["steps"]), np.asarray(t["w_estimate"], dtype=np.float64)
        color = "tab:green" if t["success"] else "tab:red"
        ax.plot(x, y, color=color, linewidth=0.9, alpha=0.8)
        if t["behaviour"] == "diverged" and t["status"] != "ok" and len(x):
            ax.plot(x[-1], y[-1] if np.isfinite(y[-1]) else 0.0, "kx", markersize=7)
    typical = float(np.median(peak)) if peak else 1.0
    if peak and max(peak) > 50 * max(typical, 1e-12):  # one run's scale would flatten the others
        ax.set_yscale("symlog", linthresh=max(typical, 1e-12))
    ax.axvline(0.8 * steps, color="grey", linewidth=0.7, linestyle=":")
    ax.set_xlim(0, steps)
    ax.set_xlabel("generator iteration (dotted: last 20%)", fontsize=8)
    ax.set_ylabel("critic's W estimate", fontsize=8)
    n = cell["finished"]
    ax.set_title(f"{cell['dataset']}: {cell['label']}\nsuccess {cell['successes']}/{n}, diverged {cell['diverged']}, "
                 f"oscillates {cell['oscillates']} ({n} seeds)", fontsize=8)
    ax.tick_params(labelsize=7)


def _overview(summary: list[dict], setup: dict, path: Path) -> None:
    columns = list(CELLS)
    fig = figure((3.3 * len(columns), 2.9 * len(DATASETS) + 0.6))
    axes = fig.subplots(len(DATASETS), len(columns), squeeze=False)
    for cell in summary:
        _draw_curves(axes[DATASETS.index(cell["dataset"])][columns.index(cell["cell"])], cell, setup["steps"])
    fig.suptitle(f"Critic's W estimate per seed, {setup['steps']} generator iterations ({setup['seeds']} seeds per "
                 "cell; green: success, red: failure, x: stopped at a non-finite loss)", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    fig.savefig(path)


def _rate(cell: dict, key: str) -> float:
    return cell[key] / cell["finished"] if cell["finished"] else math.nan


def verdict(summary: list[dict]) -> list[str]:
    """Claim 5.1 per dataset, in words, from the success rates of the clipping and penalty cells."""
    lines = []
    for dataset in DATASETS:
        cells = {c["cell"]: c for c in summary if c["dataset"] == dataset and c["finished"]}
        if not {"clip-rmsprop", "clip-adam"} <= set(cells):
            continue
        rms, adam = _rate(cells["clip-rmsprop"], "successes"), _rate(cells["clip-adam"], "successes")
        if rms == 0 and adam == 0:
            said = "inconclusive: clipping succeeds with neither optimizer at this budget"
        elif adam == 0:
            said = "clipping fails with momentum and works with RMSprop (the WGAN paper's claim)"
        elif adam < rms:
            said = "clipping works with momentum, less often than with RMSprop (the notes' claim)"
        else:
            said = "momentum does not hurt clipping at this budget (neither the paper's claim nor the notes')"
        line = f"- {dataset}: WGAN (clip) succeeds {adam:.0%} with Adam β1 0.5 against {rms:.0%} with RMSprop: {said}."
        if "gp-adam" in cells:
            gp = _rate(cells["gp-adam"], "successes")
            line += f" WGAN-GP with Adam β1 0.5 succeeds {gp:.0%}" + (
                " (WGAN-GP works with momentum)." if gp >= 0.5 else " (not reliably at this budget either).")
        lines.append(line)
    return lines


def _markdown(summary: list[dict], setup: dict) -> str:
    description = (
        f"{setup['seeds']} seeds per cell (the same seeds in every cell), {setup['steps']} generator iterations; "
        f"learning rate {setup['learning_rates']['8gaussians']:g} (8 gaussians) and "
        f"{setup['learning_rates']['digits']:g} (digits) in every cell. Success: all 8 modes covered (8 gaussians) "
        f"or a classifier score >= {SCORE_FRACTION:.0%} of the real digits' (digits), with its 95% Wilson interval. "
        "Final value: exact W1 (8 gaussians, lower is better) or classifier score (digits), mean ± std over the "
        "seeds that finished. Diverged / oscillates: the definitions of `wgan.reproductions.optimizers` "
        "(non-finite or still doubling at the end / std over the last 20% above |mean|).")
    lines = report_header("Momentum optimizers with clipping and with the gradient penalty (claim 5.1)",
                          description, setup)
    lines += ["| dataset | cell | seeds | success | final W1 / score | diverged | oscillates | train s / run |",
              "|---|---|---:|---|---|---:|---:|---:|"]
    for c in summary:
        times = [t["train_time"] for t in c["trials"] if t["train_time"] is not None]
        errors = f" ({c['errors']} errors)" if c["errors"] else ""
        lines.append(f"| {c['dataset']} | {c['label']} | {c['finished']}{errors} | "
                     f"{success_rate(c['successes'], c['finished'])} | {mean_std([t['final'] for t in c['trials']])} | "
                     f"{c['diverged']} | {c['oscillates']} | {np.mean(times):.0f} |" if times else
                     f"| {c['dataset']} | {c['label']} | {c['finished']}{errors} | – | – | – | – | – |")
    lines += ["", "## What the data say", ""] + (verdict(summary) or ["- not enough cells finished for a verdict"])
    return "\n".join(lines) + "\n"
