"""`Trainer.train_step` of every algorithm, each contender in its own long-lived process, taking turns.

The Trainer runs 8 gaussians with the toy preset (``--width`` x ``--depth`` MLPs, batch 256), its defaults
otherwise: what `wgan train --preset toy` runs. Contenders (`harness`: one call each per turn, ratios of
same-turn times):

  trainer            this tree's Trainer, its defaults (a captured CPU step, once that is the default)
  trainer-eager      the same Trainer asked for eager steps (``graph=False``), where it has that option
  trainer@baseline   ``--baseline TREE``'s Trainer (a path, or a git revision checked out as a temporary
                     worktree), its defaults: the before/after check of a refactor, in one sitting
  torch, jax         the same iteration in PyTorch eager / under one `jax.jit`, for the algorithms that have a
                     twin in bench_workloads.py (wgan-gp: workload A, wgan-clip: workload B, same shapes)

    git worktree add --detach /tmp/baseline 0d1a6c1
    python3 benchmarks/bench_train_step.py --baseline /tmp/baseline --threads 1 2

Usage: python3 benchmarks/bench_train_step.py [--algorithms wgan-gp wgan-clip sngan gan] [--width 512]
           [--depth 3] [--threads 1 2] [--turns 30] [--contenders ...] [--baseline TREE] [--out FILE]
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import harness
from harness import Contender, Spec

ALGORITHMS = ("wgan-gp", "wgan-clip", "sngan", "gan")
CONTENDERS = ("trainer", "trainer-eager", "torch", "jax")
TWINS = {"wgan-gp": "A", "wgan-clip": "B"}  # the algorithms whose iteration bench_workloads has in torch and JAX


def make_trainer(algorithm: str, width: int, depth: int, graph: bool | None = None, seed: int = 0):
    from bench_workloads import trainer_options
    from wgan import TrainConfig, Trainer

    config = TrainConfig(dataset="8gaussians", algorithm=algorithm, preset="toy", width=width, depth=depth,
                         steps=10 ** 6, eval_every=0, checkpoint_every=0, seed=seed)
    return Trainer(config, **trainer_options(graph, "cpu"))


def contender(threads: int, engine: str, algorithm: str, width: int, depth: int) -> Contender:
    """`harness` factory: one contender for one algorithm, built in its own process."""
    if engine in ("trainer", "trainer-eager"):
        from bench_workloads import trainer_info, trainer_options

        graph = False if engine == "trainer-eager" else None
        trainer, options = make_trainer(algorithm, width, depth, graph), trainer_options(graph, "cpu")
        return Contender({algorithm: trainer.train_step}, info=lambda: trainer_info(trainer, options))
    if algorithm not in TWINS:
        raise harness.Unavailable(f"no {engine} twin of {algorithm} (only of {', '.join(TWINS)})")
    import bench_workloads

    twin = bench_workloads.contender(threads, engine, f"{TWINS[algorithm]}-{depth}x{width}")
    return Contender({algorithm: next(iter(twin.cases.values()))}, twin.parameters, twin.info)


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algorithms", nargs="+", default=list(ALGORITHMS))
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--turns", type=int, default=30)
    parser.add_argument("--contenders", nargs="+", default=None, choices=CONTENDERS,
                        help="default: trainer trainer-eager torch jax; with --baseline: trainer trainer-eager")
    harness.add_process_options(parser)
    args = parser.parse_args(argv)
    if args.interleaved:
        parser.error("--interleaved: bench_train_step has no in-one-process mode (bench_workloads.py has)")
    harness.print_machine()
    engines = args.contenders or (["trainer", "trainer-eager"] if args.baseline else list(CONTENDERS))
    reference = "trainer@baseline" if args.baseline else "torch"
    pairs = (("trainer", "trainer-eager"), ("trainer", "jax"), ("trainer-eager", "trainer@baseline"))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        baseline = harness.source_tree(args.baseline, Path(tmp)) if args.baseline else None
        try:
            for algorithm in args.algorithms:
                for threads in args.threads:
                    specs = []
                    for engine in engines:
                        kwargs = dict(engine=engine, algorithm=algorithm, width=args.width, depth=args.depth)
                        specs.append(Spec(engine, "bench_train_step:contender", kwargs, warmup=3))
                        if baseline is not None and engine == "trainer":
                            specs.append(Spec("trainer@baseline", "bench_train_step:contender", kwargs,
                                              root=baseline, warmup=3))
                    title = f"train_step {algorithm} {args.depth}x{args.width}"
                    for row in harness.run_turns(specs, {algorithm: title}, threads, args.turns, reference=reference,
                                                 pairs=pairs, gap=args.gap, cpus=args.cpus):
                        row.update(algorithm=algorithm, width=args.width, depth=args.depth)
                        rows.append(row)
        finally:
            if baseline is not None and not Path(args.baseline).is_dir():
                harness.remove_tree(baseline)
    harness.save("train_step_cpu", rows, path=args.out)
    return rows


if __name__ == "__main__":
    main()
