"""Issue 3: conv2d and conv_transpose2d forward+backward at the DCGAN 32×32 shapes (batch 64,
4×4 kernels, stride 2, padding 1), minigrad against PyTorch in one run.

Usage: python3 benchmarks/bench_conv.py [--device cpu|cuda] [--quick]
"""
from __future__ import annotations

import argparse

import numpy as np

import minigrad as mg
import minigrad.functional as F
from harness import compare, save, try_torch

BATCH = 64
#: (op, input shape, weight shape) of the workload-C critic (conv) and generator (conv-transpose)
CASES = [
    ("conv2d", (BATCH, 1, 32, 32), (64, 1, 4, 4)),
    ("conv2d", (BATCH, 64, 16, 16), (128, 64, 4, 4)),
    ("conv2d", (BATCH, 128, 8, 8), (256, 128, 4, 4)),
    ("conv_transpose2d", (BATCH, 256, 4, 4), (256, 128, 4, 4)),
    ("conv_transpose2d", (BATCH, 128, 8, 8), (128, 64, 4, 4)),
    ("conv_transpose2d", (BATCH, 64, 16, 16), (64, 1, 4, 4)),
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    torch = try_torch()
    dev, tdev = args.device, ("cuda" if args.device == "cuda" else "cpu")
    sync = lambda: None  # noqa: E731
    if dev == "cuda":
        cp = mg.backend.xp_for("cuda")
        sync = lambda: (cp.cuda.Stream.null.synchronize(), torch and torch.cuda.synchronize())  # noqa: E731
    rng = np.random.default_rng(0)
    rows = []
    for op, x_shape, w_shape in CASES:
        x = rng.standard_normal(x_shape).astype(np.float32)
        w = (rng.standard_normal(w_shape) * 0.05).astype(np.float32)
        b = np.zeros(w_shape[0] if op == "conv2d" else w_shape[1], np.float32)
        ours = [mg.tensor(a, device=dev, requires_grad=True) for a in (x, w, b)]
        fn = getattr(F, op)

        def run_ours():
            y = fn(*ours, 2, 1)
            mg.grad((y * y).sum(), ours)

        run_theirs = None
        if torch is not None:
            theirs = [torch.tensor(a, device=tdev, requires_grad=True) for a in (x, w, b)]
            tfn = getattr(torch.nn.functional, op)

            def run_theirs():
                y = tfn(*theirs, 2, 1)
                torch.autograd.grad((y * y).sum(), theirs)

        rows.append(compare(f"{op} x{x_shape} w{w_shape} fwd+bwd", run_ours, run_theirs,
                            iters=5 if args.quick else 15, sync=sync))
    save(f"conv_{dev}", rows)


if __name__ == "__main__":
    main()
