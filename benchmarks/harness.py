"""Timing harness shared by the benchmark scripts.

Each case runs minigrad and PyTorch in the same process: warm-up, then `rounds` rounds in
alternating order; per round the median of `iters` timed calls of each, and the ratio
minigrad / PyTorch taken within the round. The reported ratio is the median over rounds.
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

        info["blas"] = [f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')} x{i.get('num_threads')}"
                        for i in threadpool_info() if i.get("user_api") == "blas"]
    except ImportError:
        pass
    try:
        import torch

        info["torch"] = torch.__version__
    except ImportError:
        pass
    return info


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
