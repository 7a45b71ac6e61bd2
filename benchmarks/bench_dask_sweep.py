"""Issue 13: what `wgan sweep` costs on Dask and what the robustness experiment costs at full size.

1. Throughput: the same sweep of `--trials` small trials (8 gaussians, toy preset with 2x64 MLPs,
   `--steps` generator iterations, no evaluation) on a local cluster of 1 worker and of 2 workers,
   one BLAS thread each, alternating 1, 2, 1, 2 for `--rounds` rounds, each into a fresh folder.
   Cluster start-up (processes spawned, workers registered, wgan and POT imported) is timed on its
   own and excluded. Reported: sweep seconds per worker count (median over rounds), the ratio
   2-worker / 1-worker, and Dask's overhead per trial = (workers × sweep seconds − Σ trial seconds
   measured inside the trials) / trials, which also counts idle workers at the end; plus the round
   trip of a no-op task (submit to result), median of 20.
2. Full-size robustness trial: seconds per generator iteration of `--archs` architectures drawn from
   the paper's space (`wgan.reproductions.robustness.PAPER_SPACE`) under GAN and WGAN-GP (median of 2 iterations
   after one warm-up), times `wgan.reproductions.robustness.FULL_STEPS`, plus one evaluation; projected wall time
   of 200 architectures x 2 methods on 1, 8 and 64 workers = 400 × mean trial seconds / workers.

Writes benchmarks/results/dask_sweep.json. Usage:
    python3 benchmarks/bench_dask_sweep.py [--trials 8] [--steps 300] [--rounds 2] [--archs 6] [--skip-full]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import distributed

from harness import machine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from wgan.sweep import run_sweep
from wgan.sweep.engine import TrialWorkerSetup, local_cluster


def small_spec(trials: int, steps: int) -> dict:
    return {"metric": "w_estimate", "seeds": trials,
            "base": {"dataset": "8gaussians", "preset": "toy", "width": 64, "depth": 2, "batch_size": 64,
                     "steps": steps, "eval_every": 0, "checkpoint_every": steps}}


def _noop() -> int:
    return 0


def sweep_once(workers: int, trials: int, steps: int) -> dict:
    start = time.perf_counter()
    cluster = local_cluster(workers)
    client = distributed.Client(cluster)
    client.wait_for_workers(workers)
    client.register_plugin(TrialWorkerSetup([]))
    startup = time.perf_counter() - start
    try:
        latencies = []
        for _ in range(20):
            t = time.perf_counter()
            client.submit(_noop, pure=False).result()
            latencies.append(time.perf_counter() - t)
        with tempfile.TemporaryDirectory() as folder:
            t = time.perf_counter()
            rows = run_sweep(small_spec(trials, steps), Path(folder) / "sweep", scheduler=cluster.scheduler_address,
                             progress=False, report=False)
            elapsed = time.perf_counter() - t
    finally:
        client.close()
        cluster.close()
    inside = sum(r["wall_time"] for r in rows)
    assert all(r["status"] == "ok" for r in rows), rows
    return {"workers": workers, "startup_s": startup, "sweep_s": elapsed, "trial_s": [r["wall_time"] for r in rows],
            "overhead_per_trial_s": (workers * elapsed - inside) / len(rows),
            "noop_roundtrip_s": statistics.median(latencies)}


def full_size_trial(archs: int, samples: int = 1000) -> dict:
    import minigrad
    from wgan import TrainConfig, Trainer
    from wgan.reproductions.robustness import FULL_STEPS, METHODS, PAPER_SPACE, _config, draw_architectures

    minigrad.set_num_threads(1)
    per_method: dict[str, list[float]] = {m: [] for m in METHODS}
    evals = []
    for arch in draw_architectures(archs, PAPER_SPACE, seed=0):
        for method in METHODS:
            cfg = TrainConfig(dataset="digits", model="dcgan", steps=FULL_STEPS, batch_size=64, z_dim=64,
                              eval_every=0, eval_samples=samples, **_config(arch, method))
            trainer = Trainer(cfg)
            trainer.train_step()
            times = []
            for _ in range(2):
                t = time.perf_counter()
                trainer.train_step()
                times.append(time.perf_counter() - t)
            per_method[method].append(statistics.median(times))
            if not evals:
                t = time.perf_counter()
                trainer.evaluate()
                evals.append(time.perf_counter() - t)
            print(f"  {method:8s} {arch}: {per_method[method][-1]:.3f} s/iteration", flush=True)
    eval_s = evals[0]
    trial_s = {m: statistics.mean(v) * FULL_STEPS + eval_s for m, v in per_method.items()}
    mean_trial = statistics.mean(trial_s.values())
    return {"archs": archs, "steps": FULL_STEPS, "s_per_iteration": per_method, "eval_s": eval_s,
            "trial_s": trial_s, "mean_trial_s": mean_trial,
            "projected_wall_h": {w: 400 * mean_trial / w / 3600 for w in (1, 8, 64)}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--archs", type=int, default=6)
    parser.add_argument("--skip-full", action="store_true")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    args = parser.parse_args()
    info = machine()
    print(f"CPU: {info['cpu']} ({info['cores']} cores)", flush=True)
    runs = []
    for _ in range(args.rounds):
        for workers in (1, 2):
            run = sweep_once(workers, args.trials, args.steps)
            runs.append(run)
            print(f"{workers} worker(s): start-up {run['startup_s']:.1f} s, sweep {run['sweep_s']:.1f} s, "
                  f"overhead/trial {run['overhead_per_trial_s']:.2f} s, no-op round trip "
                  f"{run['noop_roundtrip_s'] * 1000:.1f} ms", flush=True)
    med = {w: statistics.median(r["sweep_s"] for r in runs if r["workers"] == w) for w in (1, 2)}
    result = {"machine": info, "command": " ".join(sys.argv), "trials": args.trials, "steps": args.steps,
              "runs": runs, "median_sweep_s": med, "ratio_2_over_1": med[2] / med[1]}
    print(f"ratio 2 workers / 1 worker: {result['ratio_2_over_1']:.3f}", flush=True)
    if not args.skip_full:
        result["full_size"] = full_size_trial(args.archs)
        fs = result["full_size"]
        print(f"full-size trial: {fs['mean_trial_s'] / 60:.1f} min (GAN {fs['trial_s']['gan'] / 60:.1f}, WGAN-GP "
              f"{fs['trial_s']['wgan-gp'] / 60:.1f}); 200 x 2 on 1/8/64 workers: "
              + ", ".join(f"{h:.1f} h" for h in fs["projected_wall_h"].values()), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "dask_sweep.json").write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
