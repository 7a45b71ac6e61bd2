"""Mode coverage of one training config on a toy mixture over several seeds (the budgets of the coverage tests).

Trains ``--config`` (TrainConfig fields as JSON, on top of the toy preset at depth 2 on 8 gaussians) once
per seed and, every ``--check-every`` steps, counts the modes and the share of high-quality samples of
2,500 samples (`wgan.metrics.mode_stats`, 3 sigma; no exact W1, so checks stay cheap). Appends one JSON
line per seed to ``--out``:

    python3 scripts/coverage_runs.py --config '{"algorithm": "lsgan", "width": 64, "steps": 2000}' \\
        --seeds 0 1 2 --check-every 250 --out coverage.jsonl
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from wgan import TrainConfig, Trainer
from wgan.metrics import mode_stats


def coverage_run(config: dict, seed: int, check_every: int) -> dict:
    """One seeded run of `config`: ``checks`` lists (step, modes, hq_fraction) every `check_every` steps."""
    fields = dict(dataset="8gaussians", preset="toy", depth=2, eval_every=0, checkpoint_every=0, seed=seed)
    fields.update(config)
    trainer = Trainer(TrainConfig(**fields))
    start, checks = time.perf_counter(), []
    while trainer.step < trainer.config.steps:
        trainer.train_step()
        if trainer.step % check_every == 0 or trainer.step == trainer.config.steps:
            samples = trainer.sample(2500, np.random.default_rng([seed, 9, trainer.step]))
            stats = mode_stats(samples, trainer.dataset.centers, trainer.dataset.sigma)
            checks.append((trainer.step, int(stats["modes"]), round(float(stats["hq_fraction"]), 3)))
    return dict(spec=config, seed=seed, checks=checks, seconds=round(time.perf_counter() - start, 1),
                load=os.getloadavg()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="TrainConfig fields as a JSON object")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--check-every", type=int, default=250)
    parser.add_argument("--out", required=True, help="JSON-lines file the runs are appended to")
    args = parser.parse_args()
    config = json.loads(args.config)
    for seed in args.seeds:
        row = coverage_run(config, seed, args.check_every)
        with open(args.out, "a") as f:
            f.write(json.dumps(row) + "\n")
        print(json.dumps(config), seed, row["checks"][-1], row["seconds"], flush=True)


if __name__ == "__main__":
    main()
