"""`Trainer.train_step` time of two source trees, interleaved: the refactor of issue 9 against a baseline.

Each measurement runs in a fresh subprocess whose working directory (first on ``sys.path``) is one
tree, builds a Trainer on 8 gaussians with the toy preset, warms up, then times `--steps` calls of
``train_step`` and reports the median. The trees alternate within each round (order flipped every
round), so both see the same machine load; the ratio is taken within each round.

    git -C /work/main archive <commit> | tar -x -C /tmp/baseline
    python3 benchmarks/bench_train_step.py --baseline /tmp/baseline
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from harness import print_machine

CHILD = r"""
import json, sys, time
import numpy as np
from wgan import TrainConfig, Trainer
algorithm, width, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
trainer = Trainer(TrainConfig(dataset="8gaussians", algorithm=algorithm, preset="toy", width=width,
                              steps=10 ** 6, eval_every=0, checkpoint_every=0))
for _ in range(3):
    trainer.train_step()
times = []
for _ in range(steps):
    start = time.perf_counter()
    trainer.train_step()
    times.append(time.perf_counter() - start)
print(json.dumps({"median_s": float(np.median(times))}))
"""


def measure(tree: Path, algorithm: str, width: int, steps: int) -> float:
    env = dict(os.environ, PYTHONPATH=str(tree), OPENBLAS_NUM_THREADS=os.environ.get("OPENBLAS_NUM_THREADS", "1"))
    out = subprocess.run([sys.executable, "-c", CHILD, algorithm, str(width), str(steps)], cwd=tree, env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["median_s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, help="root of the baseline source tree")
    parser.add_argument("--current", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--algorithms", nargs="+", default=["wgan-gp", "wgan-clip", "sngan", "gan"])
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None, help="JSON file for the results")
    args = parser.parse_args()
    info = print_machine()
    trees = {"baseline": args.baseline.resolve(), "current": args.current.resolve()}
    rows = []
    for algorithm in args.algorithms:
        ratios, medians = [], {"baseline": [], "current": []}
        for r in range(args.rounds):
            order = ["baseline", "current"] if r % 2 == 0 else ["current", "baseline"]
            got = {name: measure(trees[name], algorithm, args.width, args.steps) for name in order}
            for name in got:
                medians[name].append(got[name])
            ratios.append(got["current"] / got["baseline"])
        row = {"algorithm": algorithm, "width": args.width,
               "baseline_ms": 1e3 * statistics.median(medians["baseline"]),
               "current_ms": 1e3 * statistics.median(medians["current"]),
               "ratio_current_over_baseline": statistics.median(ratios), "ratios": ratios}
        rows.append(row)
        print(f"{algorithm:10s} baseline {row['baseline_ms']:8.1f} ms  current {row['current_ms']:8.1f} ms  "
              f"ratio {row['ratio_current_over_baseline']:.3f}  (per round {', '.join(f'{x:.3f}' for x in ratios)})")
    if args.out:
        args.out.write_text(json.dumps({"machine": info,
                                        "command": " ".join(sys.argv), "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
