"""Timing harness shared by the benchmark scripts.

Each case runs minigrad and PyTorch in the same process: warm-up, then `rounds` rounds in
alternating order; per round the median of `iters` timed calls of each, and the ratio
minigrad / PyTorch taken within the round. The reported ratio is the median over rounds.
`compare_many` does the same for any number of contenders (rotating their order each round).

Thread counts: `pin_threads(n, torch)` gives NumPy's BLAS/OpenMP (through
`minigrad.set_num_threads`) and PyTorch (`torch.set_num_threads`) the same n threads; the
scripts run every case at each count of ``--threads`` (default 1 and 2) in one process. The
BLAS kernel choice (OPENBLAS_CORETYPE and the like) is never changed: `machine()` reports it.
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from typing import Callable

import numpy as np


def machine() -> dict:
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    info = {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__,
            "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(auto)")}
    try:
        from threadpoolctl import threadpool_info

        info["blas"] = [f"{i.get('internal_api')} {i.get('version')} kernel {i.get('architecture')} "
                        f"({i.get('threading_layer')}, {os.path.basename(i.get('filepath', ''))})"
                        for i in threadpool_info() if i.get("user_api") == "blas"]
    except ImportError:
        pass
    try:
        import torch

        info["torch"] = torch.__version__
    except ImportError:
        pass
    return info


def print_machine() -> dict:
    """Print (and return) the CPU model, the BLAS library and kernel, and the versions."""
    info = machine()
    print(f"CPU: {info['cpu']} ({info['cores']} cores); BLAS: {'; '.join(info.get('blas', ['(threadpoolctl missing)']))}; "
          f"OPENBLAS_CORETYPE={info['OPENBLAS_CORETYPE']}; numpy {info['numpy']}; torch {info.get('torch', '-')}",
          flush=True)
    return info


def pin_threads(n: int, torch=None) -> None:
    """n BLAS/OpenMP threads for NumPy (minigrad.set_num_threads) and n intra-op threads for torch."""
    import minigrad

    minigrad.set_num_threads(n)
    if torch is not None:
        torch.set_num_threads(n)
    print(f"--- {n} thread{'s' if n > 1 else ''} (minigrad.set_num_threads({n}), torch.set_num_threads({n}))",
          flush=True)


def add_thread_option(parser) -> None:
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                        help="BLAS/OpenMP thread counts to run every case at (default: 1 2)")


def median_time(fn: Callable[[], object], iters: int, sync: Callable[[], None] = lambda: None) -> float:
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def compare(name: str, ours: Callable, theirs: Callable | None, iters: int = 20, warmup: int = 3,
            rounds: int = 3, sync: Callable[[], None] = lambda: None) -> dict:
    """Time `ours` (minigrad) against `theirs` (PyTorch, or None) and return a result row."""
    for _ in range(warmup):
        ours()
        if theirs is not None:
            theirs()
    sync()
    ours_t, theirs_t, ratios = [], [], []
    for r in range(rounds):
        order = [("ours", ours), ("theirs", theirs)] if r % 2 == 0 else [("theirs", theirs), ("ours", ours)]
        got = {}
        for label, fn in order:
            if fn is not None:
                got[label] = median_time(fn, iters, sync)
        ours_t.append(got["ours"])
        if "theirs" in got:
            theirs_t.append(got["theirs"])
            ratios.append(got["ours"] / got["theirs"])
    row = {"case": name, "minigrad_ms": 1e3 * statistics.median(ours_t)}
    if ratios:
        row["torch_ms"] = 1e3 * statistics.median(theirs_t)
        row["ratio"] = statistics.median(ratios)
    print(format_row(row), flush=True)
    return row


def compare_many(name: str, contenders: dict[str, Callable], reference: str | None = "torch", iters: int = 20,
                 warmup: int = 3, rounds: int = 3, sync: Callable[[], None] = lambda: None,
                 extra_ratios: tuple = ()) -> dict:
    """Time every contender interleaved: `rounds` rounds, the order rotated each round, the
    median of `iters` calls per contender per round. Ratios to `reference` (and to every other
    contender) are taken within each round; the row holds medians over rounds. The printed line
    gives each time with its ratio to `reference`, then the (a, b) pairs of `extra_ratios`."""
    labels = [label for label, fn in contenders.items() if fn is not None]
    for _ in range(warmup):
        for label in labels:
            contenders[label]()
    sync()
    times: dict[str, list[float]] = {label: [] for label in labels}
    for r in range(rounds):
        order = labels[r % len(labels):] + labels[:r % len(labels)]
        if r % 2:
            order.reverse()
        for label in order:
            times[label].append(median_time(contenders[label], iters, sync))
    row: dict = {"case": name, "rounds": rounds, "iters_per_round": iters}
    for label in labels:
        row[f"{label}_ms"] = 1e3 * statistics.median(times[label])
    for a in labels:
        for b in labels:
            if a != b:
                row[f"ratio_{a}/{b}"] = statistics.median([x / y for x, y in zip(times[a], times[b])])
    parts = []
    for label in labels:
        ratio = f" ({row[f'ratio_{label}/{reference}']:.2f}x)" if reference in labels and label != reference else ""
        parts.append(f"{label} {row[label + '_ms']:8.2f} ms{ratio}")
    parts += [f"{a}/{b} {row[f'ratio_{a}/{b}']:.2f}x" for a, b in extra_ratios if a in labels and b in labels]
    print(f"{name:<40} " + "  ".join(parts), flush=True)
    return row


def format_row(row: dict) -> str:
    torch_part = f"{row['torch_ms']:10.3f} ms   ratio {row['ratio']:.2f}x" if "ratio" in row else "   (no torch)"
    return f"{row['case']:<48} minigrad {row['minigrad_ms']:10.3f} ms   torch {torch_part}"


def save(script: str, rows: list[dict], extra: dict | None = None) -> str:
    """Write benchmarks/results/<script>.json with the machine, the command and the rows."""
    out_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, f"{script}.json")
    payload = {"machine": machine(), "command": " ".join([os.path.basename(sys.executable)] + sys.argv),
               "date": time.strftime("%Y-%m-%d %H:%M:%S"), "rows": rows, **(extra or {})}
    with open(path + ".tmp", "w") as f:
        json.dump(payload, f, indent=2)
    os.replace(path + ".tmp", path)
    print(f"wrote {path}")
    return path


def try_torch(threads: int | None = None):
    """The torch module (threads pinned to the core count) or None when it isn't installed."""
    try:
        import torch
    except ImportError:
        print("torch is not installed: timing minigrad alone (pip install torch==2.13.0 for the comparison)")
        return None
    torch.set_num_threads(threads or os.cpu_count() or 1)
    return torch
