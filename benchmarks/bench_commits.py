"""bench_core's minigrad cases at two commits, each commit in its own long-lived process, taking turns.

A refactor must not make the engine slower, and a ratio against PyTorch moves more from run to run than
the few percent a refactor may cost. So this script times the *same* three cases of bench_core.py (999
elementwise ops, MLP fwd+bwd, MLP + gradient-norm penalty) at two commits. Each commit's minigrad lives in
its own process (one package cannot be imported twice in one interpreter); the parent asks the two for one
timed call each per turn (`harness.run_turns`, the mechanism every own-process script uses), alternating
which goes first. A ratio is the median over ``--turns`` turns of new / old within the turn, for wall time
and for the process's CPU time (at one thread the CPU time does not count the time the process waited for
a core, so on a shared machine it is the steadier of the two). Only public names both commits have are used.
(``bench_core.py --baseline OLD`` runs the same comparison against the working tree.)

Usage: python3 benchmarks/bench_commits.py OLD [NEW] [--turns 60] [--threads 1 2] [--out FILE]
(NEW defaults to the working tree; OLD and NEW are source-tree paths or git revisions, checked out as
temporary worktrees.)
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import harness
from bench_core import CASES
from harness import Spec


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new", nargs="?", default=None, help="default: the working tree")
    parser.add_argument("--turns", type=int, default=60)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--gap", type=float, default=None, help="idle seconds before each call (harness default)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    harness.print_machine()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        old = harness.source_tree(args.old, Path(tmp))
        new = harness.source_tree(args.new, Path(tmp)) if args.new else harness.REPO
        try:
            specs = [Spec(label, "bench_core:contender", dict(engine="minigrad"), root=root, warmup=3)
                     for label, root in (("old", old), ("new", new))]
            for threads in args.threads:
                for row in harness.run_turns(specs, CASES, threads, args.turns, reference="old", gap=args.gap):
                    row.update(threads=threads, old_rev=args.old, new_rev=args.new or "working tree",
                               new_over_old_wall=row["ratio_new/old"], new_over_old_cpu=row["cpu_ratio_new/old"],
                               wall_ratio_quartiles=row["ratio_new/old_quartiles"])
                    rows.append(row)
        finally:
            for path, given in ((old, args.old), (new, args.new)):
                if given and not Path(given).is_dir():
                    harness.remove_tree(path)
    harness.save("commits_cpu", rows, path=args.out)
    return rows


if __name__ == "__main__":
    main()
