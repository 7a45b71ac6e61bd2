"""Issue 8: bench_core's minigrad cases at two commits, interleaved call by call in one run.

A refactor must not make the engine slower, and a ratio against PyTorch moves more from run to run than
the 5% a refactor may cost. So this script times the *same* three cases of bench_core.py (999 elementwise
ops, MLP fwd+bwd, MLP + gradient-norm penalty) at two commits. Each commit's minigrad lives in its own
long-lived child process (one package cannot be imported twice in one interpreter); the parent asks the
two children for one timed call each in turn, alternating which goes first, so a load that changes from
second to second slows both alike. A ratio is the median over ``--turns`` turns of new / old within the
turn, after warm-up, for wall time and for the process's CPU time (at one thread the CPU time does not count
the time the process waited for a core, so on a shared machine it is the steadier of the two).
Only public names that both commits have are used.

Usage: python3 benchmarks/bench_commits.py OLD [NEW] [--turns 60] [--threads 1 2]
(NEW defaults to the working tree; OLD and NEW are any git revisions, checked out as temporary worktrees.)
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import print_machine, save

REPO = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, sys, time
import numpy as np
import minigrad as mg
threads = int(sys.argv[1])
from threadpoolctl import threadpool_limits
threadpool_limits(threads)
rng = np.random.default_rng(0)
xm = mg.tensor(rng.standard_normal(256).astype(np.float32), requires_grad=True)
def chain():
    y = xm
    for _ in range(333):
        y = (y * 1.0001 + 0.001).tanh()
    y.sum().backward()
    xm.grad = None
dims = (2, 512, 512, 512, 1)
W = [mg.tensor((rng.standard_normal((o, i)) * np.sqrt(2.0 / i)).astype(np.float32), requires_grad=True)
     for i, o in zip(dims, dims[1:])]
B = [mg.tensor(np.zeros(o, np.float32), requires_grad=True) for o in dims[1:]]
data = rng.standard_normal((256, 2)).astype(np.float32)
def mlp(h):
    for i, (w, b) in enumerate(zip(W, B)):
        h = mg.linear(h, w, b)
        if i < len(W) - 1:
            h = mg.relu(h)
    return h
def fb():
    mlp(mg.tensor(data)).mean().backward()
def gp():
    xi = mg.tensor(data, requires_grad=True)
    g, = mg.grad(mlp(xi).sum(), xi, create_graph=True)
    (((g * g).sum(axis=1) + 1e-12).sqrt() - 1).pow(2).mean().backward()
cases = {"chain": chain, "mlp": fb, "penalty": gp}
for fn in cases.values():
    for _ in range(3):
        fn()
print("ready", flush=True)
for line in sys.stdin:
    fn = cases[line.strip()]
    t, c = time.perf_counter(), time.process_time(); fn()
    print((time.perf_counter() - t) * 1e3, (time.process_time() - c) * 1e3, flush=True)
"""

CASES = {"chain": "999 elementwise ops on a 256-vector, fwd+bwd",
         "mlp": "MLP 2-512-512-512-1 b256 fwd+bwd",
         "penalty": "MLP fwd+bwd + grad-norm penalty"}


def checkout(rev: str, into: Path) -> Path:
    """A detached worktree of ``rev`` under ``into``; returns its path."""
    path = into / rev.replace("/", "_")
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(path), rev],
                   check=True, capture_output=True)
    return path


class Child:
    """A process with one commit's minigrad loaded, timing one call of a case per request."""

    def __init__(self, root: Path, threads: int):
        env = dict(os.environ, PYTHONPATH=str(root))
        self.proc = subprocess.Popen([sys.executable, "-c", CHILD, str(threads)], env=env, cwd=root, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "ready"

    def time(self, case: str) -> tuple[float, float]:
        """(wall ms, process CPU ms) of one call of ``case``."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(case + "\n")
        self.proc.stdin.flush()
        wall, cpu = self.proc.stdout.readline().split()
        return float(wall), float(cpu)

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("old")
    parser.add_argument("new", nargs="?", default=None, help="default: the working tree")
    parser.add_argument("--turns", type=int, default=60)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    print_machine()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        old = checkout(args.old, Path(tmp))
        new = checkout(args.new, Path(tmp)) if args.new else REPO
        try:
            for threads in args.threads:
                children = {"old": Child(old, threads), "new": Child(new, threads)}
                for c, title in CASES.items():
                    wall: dict[str, list[float]] = {"old": [], "new": []}
                    wall_ratios, cpu_ratios = [], []
                    for turn in range(args.turns):
                        order = ("old", "new") if turn % 2 == 0 else ("new", "old")
                        got = {label: children[label].time(c) for label in order}
                        wall_ratios.append(got["new"][0] / got["old"][0])
                        cpu_ratios.append(got["new"][1] / max(got["old"][1], 1e-9))
                        for label in order:
                            wall[label].append(got[label][0])
                    row = {"case": f"{title}, {threads} thr", "threads": threads,
                           "old_rev": args.old, "new_rev": args.new or "working tree",
                           "old_ms": statistics.median(wall["old"]), "new_ms": statistics.median(wall["new"]),
                           "new_over_old_wall": statistics.median(wall_ratios),
                           "new_over_old_cpu": statistics.median(cpu_ratios), "turns": args.turns,
                           "wall_ratio_quartiles": statistics.quantiles(wall_ratios, n=4),
                           "cpu_ratio_quartiles": statistics.quantiles(cpu_ratios, n=4)}
                    rows.append(row)
                    print(f"{row['case']:<58} old {row['old_ms']:8.3f} ms  new {row['new_ms']:8.3f} ms  "
                          f"new/old wall {row['new_over_old_wall']:.3f}x  cpu {row['new_over_old_cpu']:.3f}x",
                          flush=True)
                for child in children.values():
                    child.close()
        finally:
            for path in {old, new} - {REPO}:
                subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(path)],
                               capture_output=True)
    save("commits_cpu", rows)


if __name__ == "__main__":
    main()
