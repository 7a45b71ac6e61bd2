"""Measure issue 4's quality targets for ``wgan-gp`` on the 2-D mixtures and write them to JSON.

Targets (VEEGAN / PacGAN measures on 2,500 samples, mean over seeds):
  - 25-mode grid ({-4..4}^2, sigma 0.05) and gan_toy's 25 gaussians: 25/25 modes and >= 90% high quality;
  - 8-mode ring (radius 1, sigma 0.01): 8/8 modes and >= 95% high quality.

Each (dataset, seed) run trains with `wgan.Trainer` on the gan_toy recipe (``preset="toy"``: ReLU MLPs,
He/Glorot init, z ~ N(0, I_2), batch 256, n_critic 5, lambda 0.1, Adam betas (0.5, 0.9)) with the options
given on the command line (by default the smaller, faster nets of ``wgan train``'s embedded default:
2 hidden layers of 128, lr 3e-4), optionally decaying both learning rates linearly to
``--lr-final`` x lr over the run (``--lr-decay linear``), then evaluates 2,500 samples: modes,
% high quality (within 3 sigma of the nearest center) and exact W1. Results are written after every run, so
an interrupted measurement keeps what it finished.

    python scripts/measure_targets.py --steps 6000 --seeds 0 1 2 --out benchmarks/results/targets.json

BLAS threads are pinned to one per process (set before NumPy loads): these small matrices run many times
faster single-threaded on a busy machine than with threads fighting for the cores.
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

TARGETS = {"grid": {"modes": 25, "hq_fraction": 0.90}, "25gaussians": {"modes": 25, "hq_fraction": 0.90},
           "ring": {"modes": 8, "hq_fraction": 0.95}}


class LinearLRDecay:
    """An ``on_step`` callback: lr_t = lr_0 * (1 - (1 - final) * t / T) for both optimizers."""

    def __init__(self, trainer, total_steps: int, final: float):
        self.base = {id(opt): [g["lr"] for g in opt.param_groups] for opt in (trainer.opt_g, trainer.opt_d)}
        self.total, self.final = total_steps, final

    def on_step(self, trainer, step: int, metrics: dict) -> None:
        scale = 1.0 - (1.0 - self.final) * min(step, self.total) / self.total
        for opt in (trainer.opt_g, trainer.opt_d):
            for group, lr in zip(opt.param_groups, self.base[id(opt)]):
                group["lr"] = lr * scale


def run_one(dataset: str, seed: int, args) -> dict:
    """Train one (dataset, seed) run and return its final metrics and the evaluation curve."""
    from wgan import TrainConfig, Trainer

    config = TrainConfig(dataset=dataset, algorithm="wgan-gp", preset="toy", width=args.width, depth=args.depth,
                         lr_g=args.lr, lr_d=args.lr, steps=args.steps, seed=seed, eval_every=0,
                         checkpoint_every=0)
    trainer = Trainer(config)
    if args.lr_decay == "linear":
        trainer.callbacks.append(LinearLRDecay(trainer, args.steps, args.lr_final))
    curve = []
    start = time.perf_counter()
    chunk = max(1, args.steps // max(1, args.evals))
    while trainer.step < args.steps:
        trainer.fit(min(args.steps, trainer.step + chunk))
        metrics = trainer.evaluate()
        curve.append({"step": trainer.step, "seconds": round(time.perf_counter() - start, 1),
                      **{k: metrics[k] for k in ("modes", "hq_fraction", "w1")}})
        print(f"  {dataset} seed {seed} step {trainer.step}: {curve[-1]}", flush=True)
    final = dict(curve[-1])
    final["curve"] = curve
    return final


def summarize(runs: list[dict]) -> dict:
    modes = [r["modes"] for r in runs]
    hq = [r["hq_fraction"] for r in runs]
    w1 = [r["w1"] for r in runs]
    return {"seeds": len(runs), "modes_mean": float(np.mean(modes)), "modes_min": int(np.min(modes)),
            "hq_percent_mean": 100 * float(np.mean(hq)), "hq_percent_min": 100 * float(np.min(hq)),
            "w1_mean": float(np.mean(w1))}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(TARGETS), choices=list(TARGETS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--steps", type=int, default=20000, help="generator iterations per run")
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--depth", type=int, default=2)
    parser.add_argument("--lr", type=float, default=3e-4, help="Adam lr of both networks")
    parser.add_argument("--lr-decay", choices=("none", "linear"), default="linear")
    parser.add_argument("--lr-final", type=float, default=0.1, help="final lr as a fraction of --lr")
    parser.add_argument("--evals", type=int, default=4, help="evaluations per run (the last one is reported)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/targets.json"))
    parser.add_argument("--append", action="store_true",
                        help="add these seeds' runs to an existing --out measured with the same settings")
    args = parser.parse_args(argv)

    result = {
        "what": "issue 4 quality targets: wgan-gp on 2-D mixtures, 2,500 samples, VEEGAN/PacGAN measures",
        "command": "python scripts/measure_targets.py " + " ".join(argv if argv is not None else os.sys.argv[1:]),
        "settings": {"algorithm": "wgan-gp", "preset": "toy", "width": args.width, "depth": args.depth,
                     "lr": args.lr, "lr_decay": args.lr_decay, "lr_final_fraction": args.lr_final,
                     "steps": args.steps, "seeds": args.seeds, "batch_size": 256, "n_critic": 5, "gp_lambda": 0.1,
                     "betas": [0.5, 0.9]},
        "machine": {"python": platform.python_version(), "cpu_count": os.cpu_count(),
                    "blas_threads": os.environ.get("OMP_NUM_THREADS"),
                    "loadavg_at_start": list(os.getloadavg())},
        "targets": TARGETS,
        "datasets": {},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.append and args.out.is_file():
        previous = json.loads(args.out.read_text())
        mismatch = {k: (v, result["settings"][k]) for k, v in previous["settings"].items()
                    if k != "seeds" and result["settings"].get(k) != v}
        if mismatch:
            parser.error(f"--append: {args.out} was measured with other settings (old, new): {mismatch}")
        result["datasets"] = previous["datasets"]
        result["command"] = previous["command"] + " && " + result["command"]
        result["settings"]["seeds"] = sorted(set(previous["settings"]["seeds"]) | set(args.seeds))
    for dataset in args.datasets:
        runs = result["datasets"].get(dataset, {}).get("runs", [])
        for seed in args.seeds:
            if any(run["seed"] == seed for run in runs):
                continue
            t0 = time.perf_counter()
            run = run_one(dataset, seed, args)
            run["wall_seconds"] = round(time.perf_counter() - t0, 1)
            runs.append({"seed": seed, **run})
            entry = {"runs": runs, "summary": summarize(runs)}
            s, target = entry["summary"], TARGETS[dataset]
            entry["met"] = {"modes": s["modes_mean"] >= target["modes"],
                            "hq": s["hq_percent_mean"] >= 100 * target["hq_fraction"]}
            result["datasets"][dataset] = entry
            args.out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"{dataset}: {result['datasets'][dataset]['summary']}", flush=True)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
