"""Batch norm in a WGAN-GP critic (lecture notes, claim 5.4), as a sweep.

WGAN-GP (Gulrajani et al. 2017, section 4) leaves batch norm out of its critic: the penalty constrains
each sample's gradient norm, while batch norm makes every output depend on the whole batch, so the
penalised gradient is not the per-sample gradient the constraint is about; it recommends layer norm.
The reading group's notes (``shared/seeds/002``, 5.4) report that batch norm "does seem to work
(contrary to what is indicated in the paper)" but "not reliably (~50% of the time)", failing when the
missing terms let the critic "cheat" the penalty.

``wgan reproduce batchnorm-critic`` trains WGAN-GP on the built-in digits with the same DCGAN critic
normalised three ways (batch norm, with ``allow_batchnorm_critic=True``, which warns; layer norm; none),
over ``seeds`` seeds (the same j-th seed in each variant), at one fixed budget: the paper's optimiser
(Adam betas (0, 0.9), lambda 10, n_critic 5) at twice its learning rate (`LR` = 2e-4 for both networks,
for the small budget: at 1,500 iterations a layer-norm critic then reaches about 70% of the real
digits' score), batch 64, z of 64 dimensions, DCGAN G (batch norm) and critic (3 conv layers,
`FILTERS` base filters, LeakyReLU 0.2).

Per trial: **success** when the final classifier score (1,000 samples, `wgan.scores`) reaches half the
real digits' own (a run stopped at a non-finite loss fails); and how the penalty behaves, from the
logged rows (one every ``steps / 200`` iterations): the mean gradient norm ‖∇D(x̂)‖ at the penalty's
interpolates and the penalty term E[(‖∇D(x̂)‖ − 1)²], each averaged over the last 20% of the rows,
and the largest penalty logged. A critic that "cheats" the penalty shows as gradient norms far from 1
with a small penalty, or as a penalty that grows.

Output in OUT: ``batchnorm_critic.md`` (the table, the verdict on claim 5.4 with the 95% Wilson interval
of batch norm's success rate, the command, machine and seeds), ``batchnorm_critic.json`` and
``batchnorm_critic.png`` (per variant: the gradient norm and penalty curves of every seed, green:
success, red: failure; and every seed's final score against the success line). The runs are a
`wgan.sweep` in OUT/sweep (resumable; ``scheduler=`` for a cluster; ``report_only`` from the trials
finished so far).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from wgan.reproductions.common import (command_line, figure, finished_trials, last_fraction, machine, mean_std,
                                       metric, partial_note, read_setup, report_header, series, start_sweep,
                                       success_rate, wilson_interval)

__all__ = ["batchnorm_critic", "batchnorm_critic_report", "VARIANTS"]

NAME = "batchnorm-critic"
FILE = "batchnorm_critic"
#: variant -> (label, TrainConfig fields).
VARIANTS: dict[str, tuple[str, dict]] = {
    "batchnorm": ("batch norm", dict(critic_norm="batchnorm", allow_batchnorm_critic=True)),
    "layernorm": ("layer norm", dict(critic_norm="layernorm")),
    "none": ("no normalisation", dict(critic_norm="none")),
}
FILTERS, LR = 8, 2e-4
DEFAULT_SEEDS, DEFAULT_STEPS = 10, 1500
QUICK_SEEDS, QUICK_STEPS = 1, 4
SCORE_FRACTION, CLAIMED_RATE, TAIL = 0.5, 0.5, 0.2


def batchnorm_critic(out_dir: Path, quick: bool = False, seeds: int | None = None, steps: int | None = None,
                     workers: int | None = None, scheduler: str | None = None, seed: int = 0,
                     report_only: bool = False) -> dict:
    """Claim 5.4 as a sweep: WGAN-GP on digits with each critic of `VARIANTS` over `seeds` seeds.

    Default: `DEFAULT_SEEDS` seeds, `DEFAULT_STEPS` generator iterations; ``quick``: one seed of 4 iterations
    on tiny nets (a smoke test). Writes OUT/batchnorm_critic.{md,json,png}; returns the headline numbers.
    """
    if report_only:
        read_setup(out_dir, NAME)
        return batchnorm_critic_report(out_dir)
    n = seeds or (QUICK_SEEDS if quick else DEFAULT_SEEDS)
    budget = steps or (QUICK_STEPS if quick else DEFAULT_STEPS)
    base = {"dataset": "digits", "algorithm": "wgan-gp", "model": "dcgan", "base_filters": 2 if quick else FILTERS,
            "g_depth": 3, "d_depth": 3, "batch_size": 64, "z_dim": 64, "lr_g": LR, "lr_d": LR, "steps": budget,
            "eval_every": budget,
            "eval_samples": 200 if quick else 1000, "log_every": max(1, budget // 200),
            "checkpoint_every": max(1, budget // 4)}
    spec = {"metric": "classifier_score", "goal": "max", "seed": seed, "seeds": n, "base": base,
            "configs": [fields for _, fields in VARIANTS.values()]}
    setup = {"seeds": n, "steps": budget, "variants": list(VARIANTS), "learning_rate": LR, "quick": quick,
             "command": command_line(NAME, quick=quick, seeds=seeds, steps=steps)}
    start_sweep(NAME, out_dir, spec, setup, workers, scheduler, quiet=quick)
    return batchnorm_critic_report(out_dir)


def _trial(row: dict) -> dict:
    score, real = metric(row, "classifier_score"), metric(row, "classifier_score_real")
    curves = {key: series(row["run_dir"], key) for key in ("grad_norm", "penalty")}
    tails = {key: float(np.mean(last_fraction(v))) if len(v) else None for key, (_, v) in curves.items()}
    penalty = curves["penalty"][1]
    return {"seed": row["seed"], "status": row["status"], "error": row.get("error"), "score": score, "real": real,
            "success": score is not None and real is not None and score >= SCORE_FRACTION * real,
            "grad_norm_tail": tails["grad_norm"], "penalty_tail": tails["penalty"],
            "penalty_max": float(np.nanmax(penalty)) if np.isfinite(penalty).any() else None,
            "train_time": row.get("train_time"),
            "curves": {key: {"steps": s.tolist(), "values": v.tolist()} for key, (s, v) in curves.items()}}


def batchnorm_critic_report(out_dir: Path) -> dict:
    """The table, JSON and figure from OUT/sweep's finished trials."""
    out_dir = Path(out_dir)
    setup = read_setup(out_dir, NAME)
    groups = finished_trials(out_dir)
    summary = []
    for index, variant in enumerate(setup["variants"]):
        trials = [_trial(row) for row in groups.get(index, [])]
        summary.append({"variant": variant, "label": VARIANTS[variant][0], "trials": trials, "finished": len(trials),
                        "successes": sum(t["success"] for t in trials),
                        "failed_runs": sum(t["status"] != "ok" for t in trials)})
    finished = sum(v["finished"] for v in summary)
    if not finished:
        raise RuntimeError(f"batchnorm-critic: no trial has finished yet; see {out_dir / 'sweep' / 'results.csv'}")
    _plot(summary, setup, out_dir / f"{FILE}.png")
    text = _markdown(summary, setup) + partial_note(finished, len(summary) * setup["seeds"], "trials")
    (out_dir / f"{FILE}.md").write_text(text)
    (out_dir / f"{FILE}.json").write_text(json.dumps(dict(setup, machine=machine(), variants=summary)) + "\n")
    return {"finished": finished, "figure": str(out_dir / f"{FILE}.png"), "markdown": str(out_dir / f"{FILE}.md"),
            "variants": {v["variant"]: {k: v[k] for k in ("finished", "successes", "failed_runs")} for v in summary}}


def verdict(summary: list[dict]) -> list[str]:
    """Claim 5.4 in words: batch norm's success rate against the notes' ~50%, and against the other critics."""
    by = {v["variant"]: v for v in summary if v["finished"]}
    if "batchnorm" not in by:
        return ["- no batch-norm trial finished yet"]
    bn = by["batchnorm"]
    lo, hi = wilson_interval(bn["successes"], bn["finished"])
    if bn["successes"] == 0:
        said = "batch norm never succeeded: the notes' 'it does seem to work' is not reproduced at this budget"
    elif lo <= CLAIMED_RATE <= hi:
        said = f"consistent with the notes' ~{CLAIMED_RATE:.0%} (the interval holds it)"
    elif hi < CLAIMED_RATE:
        said = f"batch norm succeeds less often than the notes' ~{CLAIMED_RATE:.0%}"
    else:
        said = f"batch norm succeeds more often than the notes' ~{CLAIMED_RATE:.0%}"
    lines = [f"- Batch norm: {success_rate(bn['successes'], bn['finished'])}: {said}."]
    others = [f"{v['label']} {v['successes']}/{v['finished']}" for k, v in by.items() if k != "batchnorm"]
    if others:
        lines.append(f"- The other critics at the same budget and seeds: {', '.join(others)}.")
    return lines


def _markdown(summary: list[dict], setup: dict) -> str:
    description = (
        f"WGAN-GP on digits, {setup['seeds']} seeds per critic (the same seeds for each), {setup['steps']} generator "
        f"iterations, Adam lr {setup['learning_rate']:g} betas (0, 0.9), lambda 10. Success: a final classifier "
        f"score >= {SCORE_FRACTION:.0%} of the real digits' (95% Wilson interval). ‖∇D(x̂)‖ and penalty: each "
        "seed's mean over the last 20% of its logged rows, then mean ± std over the seeds; max penalty: the largest "
        "logged, median over the seeds.")
    lines = report_header("Batch norm in a WGAN-GP critic (claim 5.4)", description, setup)
    lines += ["| critic | seeds | success | score (mean ± std) | ‖∇D(x̂)‖, last 20% | penalty, last 20% | max penalty "
              "| stopped non-finite | train s / run |", "|---|---:|---|---|---|---|---|---:|---:|"]
    for v in summary:
        t = v["trials"]
        peaks = [x["penalty_max"] for x in t if x["penalty_max"] is not None]
        times = [x["train_time"] for x in t if x["train_time"] is not None]
        lines.append(f"| {v['label']} | {v['finished']} | {success_rate(v['successes'], v['finished'])} | "
                     f"{mean_std([x['score'] for x in t])} | {mean_std([x['grad_norm_tail'] for x in t])} | "
                     f"{mean_std([x['penalty_tail'] for x in t])} | "
                     f"{f'{np.median(peaks):.3g}' if peaks else '–'} | {v['failed_runs']} | "
                     f"{f'{np.mean(times):.0f}' if times else '–'} |")
    lines += ["", "## What the data say", ""] + verdict(summary)
    return "\n".join(lines) + "\n"


def _plot(summary: list[dict], setup: dict, path: Path) -> None:
    fig = figure((3.6 * len(summary) + 3.4, 6.2))
    grid = fig.add_gridspec(2, len(summary) + 1)
    first: dict = {}  # the first panel of each row: the others share its y axis
    for j, v in enumerate(summary):
        for i, (key, label) in enumerate((("grad_norm", "mean ‖∇D(x̂)‖ at the interpolates"),
                                          ("penalty", "penalty E[(‖∇D(x̂)‖ − 1)²]"))):
            ax = fig.add_subplot(grid[i, j], sharey=first.get(key))
            first.setdefault(key, ax)
            for t in v["trials"]:
                curve = t["curves"][key]
                ax.plot(curve["steps"], curve["values"], color="tab:green" if t["success"] else "tab:red",
                        linewidth=0.8, alpha=0.8)
            if key == "grad_norm":
                ax.axhline(1.0, color="k", linewidth=0.8, linestyle="--")
                ax.set_title(f"{v['label']}: {v['successes']}/{v['finished']} succeeded", fontsize=9)
            else:
                ax.set_yscale("log")
                ax.set_xlabel("generator iteration", fontsize=8)
            ax.set_ylabel(label, fontsize=8)
            ax.tick_params(labelsize=7)
    ax = fig.add_subplot(grid[:, -1])
    reals = [t["real"] for v in summary for t in v["trials"] if t["real"] is not None]
    for j, v in enumerate(summary):
        scores = [t["score"] if t["score"] is not None else 0.0 for t in v["trials"]]
        if not scores:  # a partial report: this variant has no finished trial yet
            continue
        colors = ["tab:green" if t["success"] else "tab:red" for t in v["trials"]]
        offsets = np.linspace(-0.15, 0.15, len(scores)) if len(scores) > 1 else [0.0]
        ax.scatter(j + np.asarray(offsets), scores, c=colors, s=18)
    if reals:
        real = float(np.median(reals))
        ax.axhline(real, color="k", linewidth=1.0, label=f"real digits {real:.2f}")
        ax.axhline(SCORE_FRACTION * real, color="grey", linewidth=0.8, linestyle=":", label="success line")
        ax.legend(fontsize=7, loc="center right")
    ax.set_xticks(range(len(summary)))
    ax.set_xticklabels([v["label"] for v in summary], fontsize=8, rotation=15)
    ax.set_xlim(-0.5, len(summary) - 0.5)
    ax.set_ylim(bottom=0)
    ax.set_ylabel("final classifier score (0: stopped non-finite)", fontsize=8)
    ax.set_title("every seed's score", fontsize=9)
    fig.suptitle(f"WGAN-GP on digits with three DCGAN critics: {setup['seeds']} seeds each, {setup['steps']} "
                 "generator iterations (green: success, red: failure)", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    fig.savefig(path)
