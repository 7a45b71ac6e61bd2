"""Modes and % high-quality samples of every algorithm on a toy mixture (issue 9's table).

Each run trains one algorithm with the toy preset (gan_toy.py's models, here at a smaller width and
depth), evaluates 2,500 samples every ``--eval-every`` steps (exact W1, modes, % high quality at
3 sigma) and appends one JSON line per run to ``--out``. Runs go one after another; start two of
these processes for two cores.

    python3 scripts/measure_algorithms.py --algorithms lsgan r1 --steps 5000 --out results.jsonl
    python3 scripts/measure_algorithms.py --table results.jsonl      # the markdown table of the runs
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

from wgan import TrainConfig, Trainer
from wgan.algorithms import ALGORITHMS


class _Evaluations:
    def __init__(self):
        self.rows = []

    def on_eval(self, trainer, step, metrics):
        keys = ("w1", "modes", "hq_fraction", "raw_w1", "raw_modes", "raw_hq_fraction")
        self.rows.append({"step": step, **{k: metrics[k] for k in keys if k in metrics}})


def cpu_model() -> str:
    """The CPU's model name as ``lscpu`` shows it (from /proc/cpuinfo), else the platform's processor."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def run(algorithm: str, args) -> dict:
    fields = dict(dataset=args.dataset, algorithm=algorithm, preset="toy", width=args.width, depth=args.depth,
                  steps=args.steps, seed=args.seed, eval_every=args.eval_every, checkpoint_every=0)
    if args.lr is not None:
        fields.update(lr_g=args.lr, lr_d=args.lr)
    if args.lr_decay:
        fields["lr_decay"] = "linear"
    if args.n_critic is not None:
        fields["n_critic"] = args.n_critic
    if args.betas is not None:
        fields["betas"] = tuple(args.betas)
    if args.ema_decay is not None:
        fields.update(ema_decay=args.ema_decay, eval_raw=True)
    if args.options:
        fields["algorithm_options"] = json.loads(args.options)
    evaluations = _Evaluations()
    trainer = Trainer(TrainConfig(**fields), callbacks=[evaluations])
    load_start = os.getloadavg()[0]
    start = time.perf_counter()
    trainer.fit()
    final = evaluations.rows[-1]
    row = {"algorithm": algorithm, "dataset": args.dataset, "steps": args.steps, "seed": args.seed,
           "width": args.width, "depth": args.depth, "lr": args.lr, "lr_decay": args.lr_decay,
           "n_critic": trainer.config.n_critic, "options": fields.get("algorithm_options", {}),
           "modes": final["modes"], "hq_fraction": final["hq_fraction"], "w1": final["w1"],
           "evaluations": evaluations.rows, "seconds": round(time.perf_counter() - start, 1),
           "config": trainer.config.to_dict(), "machine": platform.processor() or platform.machine(),
           "cpu_model": cpu_model(), "cpus": os.cpu_count(), "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
           "load_average": [round(load_start, 2), round(os.getloadavg()[0], 2)], "command": " ".join(sys.argv)}
    last = trainer.history[-1]
    if "raw_w1" in last:
        row.update({k: last[k] for k in ("raw_modes", "raw_hq_fraction", "raw_w1") if k in last})
    return row


def table(paths: list[Path]) -> str:
    """One markdown table of the runs in JSON-lines files, one row per run, naming the file it came from;
    runs with EMA show the averaged generator's scores and, beside them, the raw (trained) generator's.
    ``load`` is the 1-minute load average at the run's start and end (runs recorded before it was logged: -)."""
    lines = ["| algorithm | steps | n_critic | lr | modes | % high quality | exact W1 | raw: modes | raw: % HQ | "
             "raw: W1 | seconds | load | file |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for path in paths:
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            r = json.loads(line)
            lr = ("default " + f"{r['config']['lr_d']:g}") if r["lr"] is None else f"{r['lr']:g}"
            lr += ", linear decay" if r["lr_decay"] else ""
            raw = (f"{r['raw_modes']} | {100 * r['raw_hq_fraction']:.1f} | {r['raw_w1']:.3f}" if "raw_modes" in r
                   else "| |")
            name = r["algorithm"] + (f" (EMA {r['config']['ema_decay']:g})" if r["config"].get("ema_decay") else "")
            name += "".join(f", {k} {v}" for k, v in r.get("options", {}).items())
            load = "–".join(f"{x:g}" for x in r["load_average"]) if "load_average" in r else "-"
            lines.append(f"| {name} | {r['steps']} | {r['config']['n_critic']} | {lr} | {r['modes']} | "
                         f"{100 * r['hq_fraction']:.1f} | {r['w1']:.3f} | {raw} | {r['seconds']:.0f} | {load} | "
                         f"{path.name} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algorithms", nargs="+", default=list(ALGORITHMS))
    parser.add_argument("--dataset", default="8gaussians")
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--eval-every", type=int, default=1000)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--depth", type=int, default=2)
    parser.add_argument("--lr", type=float, default=None, help="both learning rates (default: the algorithm's)")
    parser.add_argument("--lr-decay", action="store_true", help="decay the learning rates linearly to 0")
    parser.add_argument("--n-critic", type=int, default=None, help="critic steps per generator step")
    parser.add_argument("--betas", type=float, nargs=2, default=None, help="Adam betas")
    parser.add_argument("--ema-decay", type=float, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--options", default=None, help="the algorithm's own options as a JSON object")
    parser.add_argument("--out", type=Path, help="JSON-lines file the runs are appended to")
    parser.add_argument("--table", type=Path, nargs="+", help="print the markdown table of these JSON-lines files")
    args = parser.parse_args()
    if args.table:
        print(table(args.table))
        return
    if args.out is None:
        parser.error("--out: give the JSON-lines file the runs are appended to")
    for algorithm in args.algorithms:
        row = run(algorithm, args)
        with open(args.out, "a") as f:
            f.write(json.dumps(row) + "\n")
        print(f"{algorithm}: modes {row['modes']}, hq {100 * row['hq_fraction']:.1f}%, w1 {row['w1']:.3f}, "
              f"{row['seconds']} s", flush=True)


if __name__ == "__main__":
    main()
