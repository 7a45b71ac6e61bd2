"""Weight clipping's window between vanishing and exploding gradients (lecture notes, claim 5.2), as a sweep.

The notes (``shared/seeds/002``, 5.2, after WGAN-GP's Figure 1b) say that the clipping constant c must
balance two failures of a deep clipped critic: weights pinned at a small bound shrink the gradient
signal by about a constant factor per layer (vanishing), and a bound above the natural scale of the
weights lets it grow per layer (exploding), so the window of workable c narrows with depth.

``wgan reproduce clipping-window`` trains WGAN (clipping) on the 8 gaussians over a grid of clipping
constants `CLIPS` (1e-4 … 1) × critic depths `DEPTHS` (2 … 12 hidden ReLU layers of `WIDTH` units),
``seeds`` seeds per cell (the same j-th seed in every cell), at one fixed budget: gan_toy.py's recipe
(the ``toy`` preset: He/Glorot init, z ~ N(0, I_2), batch 256, n_critic 5, RMSprop decay 0.9, eps 1e-10)
with a learning rate of `LR` for both networks and a 2-hidden-layer generator of the same width.

Measured per trial at the end: the exact W1 between 2,500 generated and 2,500 real points (optimal
assignment) and the modes covered (of 8; a mode is covered when a sample lies within 3 sigma of it); a
run stopped at a non-finite loss counts as W1 = nan and 0 modes. And, as WGAN-GP's Figure 1b shows for
one depth (`wgan reproduce fig1b`), the norm of the critic loss's gradient with respect to each
layer's activations (`wgan.reproductions.layer_gradient_norms`), of the final critics of the deepest
row, on 256 real and 256 generated points: a gradient that shrinks (vanishes) or grows (explodes)
layer by layer towards the input.

Output in OUT: ``clipping_window.png`` (heat maps of the mean final W1 and of the mean modes over the
seeds, each cell annotated with mean ± std and the number of runs that stopped non-finite; and the
per-layer gradient norms), ``clipping_window.md`` (the same numbers as tables, the command, machine and
seeds) and ``clipping_window.json``. The runs are a `wgan.sweep` in OUT/sweep (resumable; ``scheduler=``
for a cluster; ``report_only`` from the trials finished so far).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from wgan.reproductions.common import (command_line, figure, finished_trials, machine, mean_std, metric,
                                       partial_note, read_setup, report_header, start_sweep)

__all__ = ["clipping_window", "clipping_window_report", "CLIPS", "DEPTHS", "layer_norms_of_run"]

NAME = "clipping-window"
FILE = "clipping_window"
CLIPS = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)
DEPTHS = (2, 4, 8, 12)
QUICK_CLIPS, QUICK_DEPTHS = (1e-2, 1.0), (2, 3)
WIDTH, LR = 64, 3e-4
DEFAULT_SEEDS, DEFAULT_STEPS = 3, 1500
QUICK_SEEDS, QUICK_STEPS = 1, 4
N_MODES, GRADIENT_POINTS = 8, 256
#: a window's clipping constants cover this many modes on average; a gradient ratio beyond VANISH (either way).
WINDOW_MODES, VANISH = 7, 100.0


def clipping_window(out_dir: Path, quick: bool = False, seeds: int | None = None, steps: int | None = None,
                    workers: int | None = None, scheduler: str | None = None, seed: int = 0,
                    report_only: bool = False) -> dict:
    """Claim 5.2 as a sweep: WGAN (clipping) on the 8 gaussians over `CLIPS` × `DEPTHS`, `seeds` seeds each.

    Default: `DEFAULT_SEEDS` seeds, `DEFAULT_STEPS` generator iterations; ``quick``: a 2 × 2 grid, one seed of
    4 iterations on tiny nets (a smoke test). Writes OUT/clipping_window.{png,md,json}.
    """
    if report_only:
        read_setup(out_dir, NAME)
        return clipping_window_report(out_dir)
    n = seeds or (QUICK_SEEDS if quick else DEFAULT_SEEDS)
    budget = steps or (QUICK_STEPS if quick else DEFAULT_STEPS)
    clips, depths = (QUICK_CLIPS, QUICK_DEPTHS) if quick else (CLIPS, DEPTHS)
    base = {"dataset": "8gaussians", "algorithm": "wgan-clip", "preset": "toy", "width": 8 if quick else WIDTH,
            "g_depth": 2, "lr_g": LR, "lr_d": LR, "steps": budget, "eval_every": budget,
            "eval_samples": 200 if quick else 2500, "log_every": max(1, budget // 100),
            "checkpoint_every": max(1, budget // 4)}
    spec = {"metric": "w1", "goal": "min", "seed": seed, "seeds": n, "base": base,
            "grid": {"clip": list(clips), "d_depth": list(depths)}}
    setup = {"seeds": n, "steps": budget, "clips": list(clips), "depths": list(depths), "width": base["width"],
             "learning_rate": LR, "quick": quick,
             "command": command_line(NAME, quick=quick, seeds=seeds, steps=steps)}
    start_sweep(NAME, out_dir, spec, setup, workers, scheduler, quiet=quick)
    return clipping_window_report(out_dir)


def layer_norms_of_run(run_dir: Path, n: int = GRADIENT_POINTS, seed: int = 0) -> list[float]:
    """‖∂L/∂h_l‖ for every Linear layer of a finished run's critic (input side first), on `n` fresh real and
    `n` generated points (`wgan.reproductions.layer_gradient_norms`)."""
    from wgan.models import MLPCritic
    from wgan.reproductions.wgan_gp_figure1 import layer_gradient_norms
    from wgan.train import Trainer

    trainer = Trainer.from_checkpoint(run_dir)
    if not isinstance(trainer.critic, MLPCritic):
        raise ValueError(f"{run_dir}: the per-layer gradient norms need an MLP critic, got "
                         f"{type(trainer.critic).__name__}")
    rng = np.random.default_rng([seed, 13])
    real = np.asarray(trainer.dataset.reference_sample(n, rng), dtype=np.float32)
    return layer_gradient_norms(trainer.critic, real, trainer.sample(n, rng))


def clipping_window_report(out_dir: Path) -> dict:
    """The heat maps, tables and JSON from OUT/sweep's finished trials."""
    out_dir = Path(out_dir)
    setup = read_setup(out_dir, NAME)
    clips, depths = setup["clips"], setup["depths"]
    groups = finished_trials(out_dir)
    cells: dict[str, dict] = {}
    for index, rows in groups.items():
        clip, depth = clips[index // len(depths)], depths[index % len(depths)]
        trials = [{"seed": r["seed"], "status": r["status"], "w1": metric(r, "w1"),
                   "modes": metric(r, "modes") if r["status"] == "ok" else 0.0,
                   "train_time": r.get("train_time"), "run_dir": str(r["run_dir"])} for r in rows]
        cells[f"{clip:g}/{depth}"] = {"clip": clip, "depth": depth, "trials": trials,
                                      "stopped": sum(t["status"] != "ok" for t in trials)}
    if not cells:
        raise RuntimeError(f"clipping-window: no trial has finished yet; see {out_dir / 'sweep' / 'results.csv'}")
    deepest = max(depths)
    gradients = {}
    for clip in clips:
        cell = cells.get(f"{clip:g}/{deepest}")
        norms = [layer_norms_of_run(Path(t["run_dir"])) for t in cell["trials"] if t["status"] == "ok"] if cell else []
        if norms:
            gradients[f"{clip:g}"] = np.median(np.asarray(norms), axis=0).tolist()
    _plot(cells, gradients, setup, out_dir / f"{FILE}.png")
    finished = sum(len(c["trials"]) for c in cells.values())
    text = _markdown(cells, gradients, setup) + partial_note(finished, len(clips) * len(depths) * setup["seeds"],
                                                             "trials")
    (out_dir / f"{FILE}.md").write_text(text)
    (out_dir / f"{FILE}.json").write_text(json.dumps(dict(setup, machine=machine(), cells=cells,
                                                          layer_gradient_norms=gradients)) + "\n")
    return {"finished": finished, "figure": str(out_dir / f"{FILE}.png"), "markdown": str(out_dir / f"{FILE}.md"),
            "mean_w1": {k: _mean(c, "w1") for k, c in cells.items()},
            "mean_modes": {k: _mean(c, "modes") for k, c in cells.items()}}


def _mean(cell: dict | None, key: str) -> float:
    values = [t[key] for t in cell["trials"] if t[key] is not None] if cell else []
    return float(np.mean(values)) if values else math.nan


def _grid(cells: dict, setup: dict, key: str) -> np.ndarray:
    """(depths, clips) of the cells' mean `key` (nan where nothing finished)."""
    return np.array([[_mean(cells.get(f"{c:g}/{d}"), key) for c in setup["clips"]] for d in setup["depths"]])


def _plot(cells: dict, gradients: dict, setup: dict, path: Path) -> None:
    from matplotlib.ticker import MaxNLocator

    clips, depths = setup["clips"], setup["depths"]
    fig = figure((17, 4.8))
    axes = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1, 1, 0.9]})
    for ax, key, title, cmap in ((axes[0], "w1", "final exact W1 (lower is better)", "viridis_r"),
                                 (axes[1], "modes", f"modes covered of {N_MODES} (higher is better)", "viridis")):
        values = _grid(cells, setup, key)
        shown = np.ma.masked_invalid(values)
        image = ax.imshow(shown, cmap=cmap, aspect="auto", origin="lower",
                          vmin=0 if key == "modes" else None, vmax=N_MODES if key == "modes" else None)
        fig.colorbar(image, ax=ax, shrink=0.85)
        for i, d in enumerate(depths):
            for j, c in enumerate(clips):
                cell = cells.get(f"{c:g}/{d}")
                if cell is None:
                    ax.text(j, i, "not run", ha="center", va="center", fontsize=7, color="grey")
                    continue
                text = mean_std([t[key] for t in cell["trials"]], digits=2)
                text += f"\n{len(cell['trials'])} runs" + (f", {cell['stopped']} non-finite" if cell["stopped"] else "")
                ax.text(j, i, text, ha="center", va="center", fontsize=7, color="w",
                        bbox=dict(boxstyle="round,pad=0.15", facecolor="black", alpha=0.35, linewidth=0))
        ax.set_xticks(range(len(clips)))
        ax.set_xticklabels([f"{c:g}" for c in clips])
        ax.set_yticks(range(len(depths)))
        ax.set_yticklabels([str(d) for d in depths])
        ax.set_xlabel("clipping constant c")
        ax.set_ylabel("critic depth (hidden layers)")
        ax.set_title(title, fontsize=10)
    ax = axes[2]
    for k, (clip, norms) in enumerate(gradients.items()):
        layers, values = np.arange(1, len(norms) + 1), np.asarray(norms, dtype=np.float64)
        zero = values == 0  # underflowed in float32: off a log axis, so named in the legend
        label = f"c = {clip}"
        if zero.any():
            last = int(layers[zero][-1])
            where = f"1-{last}" if zero[:last].all() else ", ".join(map(str, layers[zero]))
            label += f" (exactly 0 at layers {where})"
        ax.plot(layers[~zero], values[~zero], marker="o", markersize=3, color=f"C{k}", label=label)
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("Linear layer (1 = next to the input)")
    ax.set_ylabel("‖∂L/∂h‖ (median over seeds)")
    ax.set_title(f"gradient norm per layer, depth {max(depths)}, final critics", fontsize=10)
    if gradients:
        ax.legend(fontsize=8)
    fig.suptitle(f"WGAN (clipping) on 8 gaussians: {setup['seeds']} seeds per cell (mean ± std), {setup['steps']} "
                 "generator iterations", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.94))
    fig.savefig(path)


def _markdown(cells: dict, gradients: dict, setup: dict) -> str:
    clips, depths = setup["clips"], setup["depths"]
    description = (
        f"WGAN (clipping) on the 8 gaussians, {setup['seeds']} seeds per cell (the same seeds in every cell), "
        f"{setup['steps']} generator iterations, learning rate {setup['learning_rate']:g}, width {setup['width']}. "
        "Mean ± std over the seeds; a run stopped at a non-finite loss counts as 0 modes and is left out of W1.")
    lines = report_header("Weight clipping's window (claim 5.2)", description, setup)
    head = "| depth \\ c | " + " | ".join(f"{c:g}" for c in clips) + " |"
    rule = "|---|" + "---|" * len(clips)
    for key, title in (("w1", "Final exact W1"), ("modes", f"Modes covered (of {N_MODES})")):
        lines += [f"## {title}", "", head, rule]
        for d in depths:
            entries = []
            for c in clips:
                cell = cells.get(f"{c:g}/{d}")
                entries.append("not run" if cell is None else mean_std([t[key] for t in cell["trials"]], digits=3)
                               + (f" ({cell['stopped']} non-finite)" if cell["stopped"] else ""))
            lines.append(f"| {d} | " + " | ".join(entries) + " |")
        lines.append("")
    if gradients:
        lines += [f"## Gradient norm per layer, depth {max(depths)} (median over seeds; input side first)", ""]
        for clip, norms in gradients.items():
            lines.append(f"- c = {clip}: {norms[0]:.3g} at the first layer, {norms[-1]:.3g} at the output layer "
                         f"(ratio {_ratio(norms):.3g}: {_gradient_verdict(norms)})")
        lines.append("")
    lines += ["## What the data say", ""] + verdict(cells, gradients, setup) + [""]
    return "\n".join(lines)


def _ratio(norms: list[float]) -> float:
    return norms[0] / norms[-1] if norms[-1] > 0 else math.inf


def _gradient_verdict(norms: list[float]) -> str:
    """"vanishes" (the first layer gets < 1/VANISH of the output layer's gradient norm), "explodes" (> VANISH
    times) or "stable"."""
    ratio = _ratio(norms)
    return "vanishes" if ratio < 1 / VANISH else "explodes" if ratio > VANISH else "stable"


def window(cells: dict, setup: dict, depth: int) -> list[float]:
    """The clipping constants at `depth` whose runs cover at least `WINDOW_MODES` modes on average."""
    return [c for c in setup["clips"] if _mean(cells.get(f"{c:g}/{depth}"), "modes") >= WINDOW_MODES]


def verdict(cells: dict, gradients: dict, setup: dict) -> list[str]:
    """Claim 5.2 in words: the window of workable c at each depth, and the gradients of the deepest critics."""
    windows = {d: window(cells, setup, d) for d in setup["depths"]}
    lines = [f"- c covering >= {WINDOW_MODES} modes on average: "
             + "; ".join(f"depth {d}: {', '.join(f'{c:g}' for c in w) or 'none'}" for d, w in windows.items()) + "."]
    sizes = [len(w) for w in windows.values()]
    if sizes and sizes[-1] < sizes[0] and all(a >= b for a, b in zip(sizes, sizes[1:])):
        lines.append("- The window narrows as the critic deepens, as the claim says.")
    elif sizes and max(sizes) == 0:
        lines.append("- No clipping constant works at this budget: no window to compare.")
    else:
        lines.append("- The window does not narrow steadily with depth at this budget.")
    kinds = {clip: _gradient_verdict(norms) for clip, norms in gradients.items()}
    if kinds:
        lines.append(f"- Gradients of the depth-{max(setup['depths'])} critics: "
                     + ", ".join(f"c = {c}: {k}" for c, k in kinds.items())
                     + (" (vanishing below, exploding above: both failures of the claim occur)."
                        if {"vanishes", "explodes"} <= set(kinds.values()) else "."))
    return lines
