"""The averaged (EMA) and raw generators of run folders side by side, one markdown row per evaluation.

A run trained with ``--ema-decay D --eval-raw`` logs, at every evaluation, the averaged generator's scores
(``modes``, ``hq_fraction``, ``w1``) and the raw generator's (``raw_modes``, ...): both come from the same
training trajectory, since averaging does not change it (issue 9's EMA target).

    python3 scripts/ema_table.py runs/ema-grid-30k runs/ema-25gaussians --every 1000 --plot ema.png

``--plot`` also draws each run's % high quality and exact W1 against the step, averaged and raw;
``--keep DIR`` copies each run folder's config, its evaluations (and every 100th step's row) and its last
samples figure to DIR/<run name>, a small folder this script reads like the run's own.
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from wgan.run_folder import CONFIG_NAME, read_metrics, samples_figure, write_metrics


def evaluations(run_dir: Path) -> tuple[dict, list[dict]]:
    """A run folder's config and its evaluation rows that score both generators."""
    config = json.loads((run_dir / CONFIG_NAME).read_text())
    scored = [r for r in read_metrics(run_dir) if "raw_modes" in r]
    if not scored:
        raise SystemExit(f"{run_dir}: no evaluation with raw scores (train with --ema-decay D --eval-raw)")
    return config, scored


def _schedule(config: dict) -> str:
    """The run's learning-rate schedule in words."""
    return "constant" if config.get("lr_decay", "none") == "none" else f"{config['lr_decay']} decay to 0"


def rows(run_dir: Path, every: int) -> list[str]:
    """The markdown rows of one run folder's evaluations at multiples of ``every`` (and its last one)."""
    config, scored = evaluations(run_dir)
    last = scored[-1]["step"]
    out = []
    for r in scored:
        if r["step"] % every and r["step"] != last:
            continue
        out.append(f"| {config['dataset']} | {config['width']}x{config['depth']} | {config['ema_decay']:g} | "
                   f"{r['step']} | {r['modes']} | {100 * r['hq_fraction']:.1f} | {r['w1']:.3f} | "
                   f"{r['raw_modes']} | {100 * r['raw_hq_fraction']:.1f} | {r['raw_w1']:.3f} | "
                   f"{r['time'] / 60:.0f} | {_schedule(config)} |")
    return out


def plot(run_dirs: list[Path], path: Path) -> None:
    """% high quality (left) and exact W1 (right) against the step: solid the averaged generator, dashed the raw."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (hq, w1) = plt.subplots(1, 2, figsize=(11, 4.2))
    for i, run_dir in enumerate(run_dirs):
        config, scored = evaluations(run_dir)
        steps = [r["step"] for r in scored]
        color, label = f"C{i}", f"{config['dataset']}, lr {_schedule(config)} ({run_dir.name})"
        hq.plot(steps, [100 * r["hq_fraction"] for r in scored], color=color, label=label + ": EMA")
        hq.plot(steps, [100 * r["raw_hq_fraction"] for r in scored], color=color, ls="--", label=label + ": raw")
        w1.plot(steps, [r["w1"] for r in scored], color=color)
        w1.plot(steps, [r["raw_w1"] for r in scored], color=color, ls="--")
    hq.axhline(90, color="grey", ls=":", lw=1, label="issue 9's goal: 90%")
    hq.set(xlabel="generator iteration", ylabel="% high-quality samples (3 sigma)", ylim=(0, 100))
    w1.set(xlabel="generator iteration", ylabel="exact W1 to 2,500 real samples", yscale="log")
    hq.legend(fontsize=7)
    for ax in (hq, w1):
        ax.grid(alpha=0.3)
    fig.suptitle("EMA (solid) against the raw generator (dashed) of the same runs")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def keep(run_dir: Path, folder: Path) -> None:
    """Copy the config, the evaluation rows and every 100th step's row, and the last samples figure if any."""
    kept = folder / run_dir.name
    kept.mkdir(parents=True, exist_ok=True)
    shutil.copy(run_dir / CONFIG_NAME, kept / CONFIG_NAME)
    write_metrics(kept, [r for r in read_metrics(run_dir) if "raw_modes" in r or r["step"] % 100 == 0])
    last = evaluations(run_dir)[1][-1]["step"]
    for earlier in kept.glob("samples_*.png"):  # a copy kept while the run was going: no longer its last
        earlier.unlink()
    if samples_figure(run_dir, last).is_file():
        shutil.copy(samples_figure(run_dir, last), samples_figure(kept, last))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, nargs="+", help="run folders")
    parser.add_argument("--every", type=int, default=1000, help="show the evaluations at multiples of this step")
    parser.add_argument("--plot", type=Path, help="also write this PNG of both generators' scores")
    parser.add_argument("--keep", type=Path, help="copy each run's config, evaluations and last figure here")
    args = parser.parse_args()
    print("| dataset | net | EMA decay | step | EMA: modes | EMA: % HQ | EMA: W1 | raw: modes | raw: % HQ | "
          "raw: W1 | training minutes | learning rate |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for run_dir in args.runs:
        print("\n".join(rows(run_dir, args.every)))
    if args.plot:
        plot(args.runs, args.plot)
    for run_dir in args.runs if args.keep else ():
        keep(run_dir, args.keep)


if __name__ == "__main__":
    main()
