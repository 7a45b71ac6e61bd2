"""Issue 5 item 5: where CUDA starts to pay off over the CPU for the toy MLP critic step.

One step is workload A's critic update on a 2→W→W→W→1 ReLU critic (nn.Sequential of
nn.Linear/nn.ReLU) at batch B::

    x̂ = ε·real + (1 − ε)·fake,   g = minigrad.grad(D(x̂).sum(), x̂, create_graph=True)
    loss = D(fake).mean() − D(real).mean() + λ·mean((‖g‖ − 1)²),   λ = 0.1
    loss.backward();  Adam(lr 1e-4, betas (0.5, 0.9)).step()

with real, fake and ε fixed tensors already on the device, so a step times device work
only. minigrad is timed on the CPU and, when a CUDA GPU with CuPy is present, on CUDA
(the CUDA column is skipped otherwise), over batch sizes and widths; each cell is the
median of `--iters` steps after warm-up (harness.median_time). Writes
benchmarks/results/sweep.json and sweep.png: time against batch, one panel per width,
with the batch where CUDA overtakes the CPU marked when both columns exist.

Usage: python3 benchmarks/bench_sweep.py [--quick] [--batches B ...] [--widths W ...] [--iters N] [--out DIR]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np

import minigrad as mg
import minigrad.nn as nn
import minigrad.optim as optim
from harness import machine, median_time

FULL = {"batches": [64, 128, 256, 512, 1024, 2048, 4096], "widths": [128, 256, 512, 1024, 2048]}
QUICK = {"batches": [64, 256, 1024], "widths": [128, 512, 2048]}
GP_LAMBDA = 0.1


class CriticStep:
    """One WGAN-GP critic step of the toy MLP at (batch, width) on `device`; call it to run a step."""

    def __init__(self, batch: int, width: int, device: str, seed: int = 0):
        mg.manual_seed(seed)
        self.critic = nn.Sequential(nn.Linear(2, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                                    nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 1)).to(device)
        self.opt = optim.Adam(self.critic.parameters(), lr=1e-4, betas=(0.5, 0.9))
        rng = np.random.default_rng(seed)
        self.real = mg.tensor(rng.standard_normal((batch, 2)).astype(np.float32), device=device)
        self.fake = mg.tensor(rng.standard_normal((batch, 2)).astype(np.float32), device=device)
        self.eps = mg.tensor(rng.random((batch, 1)).astype(np.float32), device=device)

    def __call__(self) -> None:
        d = self.critic
        xhat = (self.eps * self.real + (1 - self.eps) * self.fake).requires_grad_()
        g, = mg.grad(d(xhat).sum(), xhat, create_graph=True)
        norm = ((g * g).sum(axis=1) + 1e-12).sqrt()
        loss = d(self.fake).mean() - d(self.real).mean() + GP_LAMBDA * ((norm - 1) ** 2).mean()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()


def time_cell(batch: int, width: int, device: str, iters: int, sync) -> float:
    """Median milliseconds per step after warm-up (3 steps on CUDA, where kernels compile; 1 on the CPU)."""
    step = CriticStep(batch, width, device)
    for _ in range(3 if device == "cuda" else 1):
        step()
    sync()
    return 1e3 * median_time(step, iters, sync)


def crossover(batches: list[int], cpu_ms: list[float], cuda_ms: list[float]) -> dict:
    """The batch where CUDA becomes faster than the CPU, interpolating log(time ratio) linearly in log(batch)."""
    log_ratio = [math.log(g / c) for c, g in zip(cpu_ms, cuda_ms)]
    if all(r < 0 for r in log_ratio):
        return {"batch": None, "note": f"CUDA faster at every batch (from {batches[0]})"}
    for i in range(len(batches) - 1):
        r0, r1 = log_ratio[i], log_ratio[i + 1]
        if r0 >= 0 > r1:
            b0, b1 = math.log(batches[i]), math.log(batches[i + 1])
            batch = math.exp(b0 + (b1 - b0) * r0 / (r0 - r1))
            return {"batch": round(batch), "note": f"CUDA faster from batch ~{round(batch)}"}
    return {"batch": None, "note": f"CPU faster at every batch (up to {batches[-1]})"}


def plot(path: str, batches: list[int], widths: list[int], rows: list[dict], crossovers: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, axes = plt.subplots(1, len(widths), figsize=(4 * len(widths), 3.6), squeeze=False)
    for ax, width in zip(axes[0], widths):
        cells = [r for r in rows if r["width"] == width]
        ax.plot(batches, [r["cpu_ms"] for r in cells], "o-", label="CPU")
        if all(r["cuda_ms"] is not None for r in cells):
            ax.plot(batches, [r["cuda_ms"] for r in cells], "s-", label="CUDA")
            found = crossovers[str(width)]
            if found["batch"] is not None:
                ax.axvline(found["batch"], color="gray", linestyle="--", label=f"crossover ~{found['batch']}")
        ax.set(xscale="log", yscale="log", title=f"width {width}", xlabel="batch size", ylabel="ms / critic step")
        ax.set_xticks(batches, [str(b) for b in batches], fontsize=7)
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        ax.legend(fontsize=8)
    skipped = "" if crossovers else " (CUDA column skipped: no GPU)"
    fig.suptitle(f"minigrad toy MLP WGAN-GP critic step (2→W→W→W→1, Adam): CPU vs CUDA{skipped}")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def cuda_sync_or_reason():
    """(sync function, GPU name) when CUDA works, else (None, why the column is skipped)."""
    if not mg.cuda_is_available():
        return None, "no CUDA GPU with CuPy on this machine"
    cp = mg.backend.xp_for("cuda")
    name = cp.cuda.runtime.getDeviceProperties(cp.cuda.Device().id)["name"]
    return (lambda: cp.cuda.get_current_stream().synchronize()), name.decode() if isinstance(name, bytes) else name


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"small grid {QUICK} (under a minute on 2 CPU cores)")
    parser.add_argument("--batches", type=int, nargs="+", help="override the grid's batch sizes")
    parser.add_argument("--widths", type=int, nargs="+", help="override the grid's widths")
    parser.add_argument("--iters", type=int, help="timed steps per cell (default 5, 3 with --quick)")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results"),
                        help="directory for sweep.json and sweep.png")
    args = parser.parse_args(argv)
    grid = QUICK if args.quick else FULL
    batches, widths = sorted(args.batches or grid["batches"]), sorted(args.widths or grid["widths"])
    iters = args.iters or (3 if args.quick else 5)
    cuda_sync, gpu = cuda_sync_or_reason()
    if cuda_sync is None:
        print(f"CUDA column skipped: {gpu}")
    load_start = os.getloadavg()
    if load_start[0] > (os.cpu_count() or 1):
        print(f"warning: load average {load_start[0]:.1f} exceeds the {os.cpu_count()} cores; "
              "multithreaded BLAS stalls on a busy machine, so CPU times will be inflated")

    rows = []
    for width in widths:
        for batch in batches:
            row = {"width": width, "batch": batch, "cpu_ms": time_cell(batch, width, "cpu", iters, lambda: None),
                   "cuda_ms": None}
            if cuda_sync is not None:
                row["cuda_ms"] = time_cell(batch, width, "cuda", iters, cuda_sync)
                row["cpu_over_cuda"] = row["cpu_ms"] / row["cuda_ms"]
            cuda_part = f"cuda {row['cuda_ms']:9.2f} ms" if row["cuda_ms"] is not None else "cuda  skipped"
            print(f"width {width:5d} batch {batch:5d}   cpu {row['cpu_ms']:9.2f} ms   {cuda_part}", flush=True)
            rows.append(row)

    crossovers = {}
    if cuda_sync is not None:
        for width in widths:
            cells = [r for r in rows if r["width"] == width]
            crossovers[str(width)] = crossover(batches, [r["cpu_ms"] for r in cells], [r["cuda_ms"] for r in cells])
            print(f"width {width}: {crossovers[str(width)]['note']}")

    os.makedirs(args.out, exist_ok=True)
    png = os.path.join(args.out, "sweep.png")
    plot(png, batches, widths, rows, crossovers)
    payload = {
        "machine": {**machine(), "gpu": gpu if cuda_sync is not None else None},
        "command": " ".join([os.path.basename(sys.executable), "benchmarks/bench_sweep.py"]
                            + (sys.argv[1:] if argv is None else argv)),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "step": "toy MLP 2-W-W-W-1 ReLU WGAN-GP critic step (grad create_graph, λ 0.1, Adam), float32",
        "iters_per_cell": iters,
        "load_average_start_end": [round(load_start[0], 2), round(os.getloadavg()[0], 2)],
        "cuda": "timed" if cuda_sync is not None else f"skipped: {gpu}",
        "rows": rows,
        "crossover": crossovers,
    }
    path = os.path.join(args.out, "sweep.json")
    with open(path + ".tmp", "w") as f:
        json.dump(payload, f, indent=2)
    os.replace(path + ".tmp", path)
    print(f"wrote {path} and {png}")


if __name__ == "__main__":
    main()
