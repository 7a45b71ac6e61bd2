"""Timing harness shared by the benchmark scripts.

Each case runs minigrad and PyTorch (and any other contenders) in the same process: warm-up,
then `rounds` x `iters` turns, each contender called once per turn in a rotating order. Times
are medians; the ratio minigrad / PyTorch is the median of the per-turn ratios, so a machine
shared with other work (whose load changes from second to second) slows both sides alike.

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
from collections.abc import Callable

import numpy as np


def machine() -> dict:
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    info = {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__,
            "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(auto)"),
            "loadavg_1_5_15min": [round(v, 2) for v in os.getloadavg()]}  # > cores: the machine was busy
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
    blas = "; ".join(info.get("blas", ["(threadpoolctl missing)"]))
    print(f"CPU: {info['cpu']} ({info['cores']} cores); BLAS: {blas}; "
          f"OPENBLAS_CORETYPE={info['OPENBLAS_CORETYPE']}; numpy {info['numpy']}; torch {info.get('torch', '-')}; "
          f"load average {info['loadavg_1_5_15min']}",
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
    """Time `ours` (minigrad) against `theirs` (PyTorch, or None), call by call interleaved (`compare_many`)."""
    many = compare_many(name, {"minigrad": ours, "torch": theirs}, iters=iters, warmup=warmup, rounds=rounds,
                        sync=sync, echo=False)
    row = {"case": name, "minigrad_ms": many["minigrad_ms"], "rounds": rounds, "iters_per_round": iters}
    if theirs is not None:
        row["torch_ms"], row["ratio"] = many["torch_ms"], many["ratio_minigrad/torch"]
    print(format_row(row), flush=True)
    return row


def compare_many(name: str, contenders: dict[str, Callable], reference: str | None = "torch", iters: int = 20,
                 warmup: int = 3, rounds: int = 3, sync: Callable[[], None] = lambda: None,
                 extra_ratios: tuple = (), echo: bool = True) -> dict:
    """Time every contender interleaved call by call, so that a machine whose load changes hurts all alike.

    `rounds` x `iters` turns; in each turn every contender runs once, in an order rotated (and
    reversed every other turn) from turn to turn. A contender's time is the median over rounds of
    its per-round median; the ratio of a to b is the median over all turns of a's time over b's
    in the same turn. The printed line gives each time with its ratio to `reference`, then the
    (a, b) pairs of `extra_ratios`."""
    labels = [label for label, fn in contenders.items() if fn is not None]
    for _ in range(warmup):
        for label in labels:
            contenders[label]()
    sync()
    turns: list[dict[str, float]] = []
    for turn in range(rounds * iters):
        shift = turn % len(labels)
        order = labels[shift:] + labels[:shift]
        if (turn // len(labels)) % 2:
            order.reverse()
        got = {}
        for label in order:
            start = time.perf_counter()
            contenders[label]()
            sync()
            got[label] = time.perf_counter() - start
        turns.append(got)
    row: dict = {"case": name, "rounds": rounds, "iters_per_round": iters}
    for label in labels:
        per_round = [statistics.median([t[label] for t in turns[r * iters:(r + 1) * iters]]) for r in range(rounds)]
        row[f"{label}_ms"] = 1e3 * statistics.median(per_round)
    for a in labels:
        for b in labels:
            if a != b:
                row[f"ratio_{a}/{b}"] = statistics.median([t[a] / t[b] for t in turns])
    if echo:
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
