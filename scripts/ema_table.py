"""The averaged (EMA) and raw generators of run folders side by side, one markdown row per evaluation.

A run trained with ``--ema-decay D --eval-raw`` logs, at every evaluation, the averaged generator's scores
(``modes``, ``hq_fraction``, ``w1``) and the raw generator's (``raw_modes``, ...): both come from the same
training trajectory, since averaging does not change it (issue 9's EMA target).

    python3 scripts/ema_table.py runs/ema-grid-30k runs/ema-25gaussians --every 1000
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from wgan.run_folder import CONFIG_NAME, read_metrics


def rows(run_dir: Path, every: int) -> list[str]:
    """The markdown rows of one run folder's evaluations at multiples of ``every`` (and its last one)."""
    config = json.loads((run_dir / CONFIG_NAME).read_text())
    evaluations = [r for r in read_metrics(run_dir) if "raw_modes" in r]
    if not evaluations:
        raise SystemExit(f"{run_dir}: no evaluation with raw scores (train with --ema-decay D --eval-raw)")
    last = evaluations[-1]["step"]
    out = []
    for r in evaluations:
        if r["step"] % every and r["step"] != last:
            continue
        out.append(f"| {config['dataset']} | {config['width']}x{config['depth']} | {config['ema_decay']:g} | "
                   f"{r['step']} | {r['modes']} | {100 * r['hq_fraction']:.1f} | {r['w1']:.3f} | "
                   f"{r['raw_modes']} | {100 * r['raw_hq_fraction']:.1f} | {r['raw_w1']:.3f} | "
                   f"{r['time'] / 60:.0f} |")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, nargs="+", help="run folders")
    parser.add_argument("--every", type=int, default=1000, help="show the evaluations at multiples of this step")
    args = parser.parse_args()
    print("| dataset | net | EMA decay | step | EMA: modes | EMA: % HQ | EMA: W1 | raw: modes | raw: % HQ | "
          "raw: W1 | minutes |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for run_dir in args.runs:
        print("\n".join(rows(run_dir, args.every)))


if __name__ == "__main__":
    main()
