"""Issue 2 benchmarks: per-op overhead of small forward+backward chains, and forward+backward of
the 2→512→512→512→1 ReLU MLP at batch 256 (first order, and with a gradient-norm penalty).

Every case runs at each thread count of ``--threads`` (default 1 and 2; NumPy's BLAS through
minigrad.set_num_threads and torch.set_num_threads pinned alike), minigrad and torch interleaved.

Usage: python3 benchmarks/bench_core.py [--device cpu|cuda] [--threads 1 2] [--quick]
"""
from __future__ import annotations

import argparse

import numpy as np

import minigrad as mg
from harness import add_thread_option, compare, pin_threads, print_machine, save, try_torch


def mlp_params(rng, dims=(2, 512, 512, 512, 1)):
    ws = [(rng.standard_normal((o, i)) * np.sqrt(2.0 / i)).astype(np.float32) for i, o in zip(dims, dims[1:])]
    bs = [np.zeros(o, np.float32) for o in dims[1:]]
    return ws, bs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--quick", action="store_true", help="fewer iterations (smoke run)")
    add_thread_option(parser)
    args = parser.parse_args()
    print_machine()
    torch = try_torch()
    dev = args.device
    tdev = "cuda" if dev == "cuda" else "cpu"
    sync = (lambda: (mg.backend.xp_for("cuda").cuda.Stream.null.synchronize(), torch.cuda.synchronize())) \
        if dev == "cuda" else (lambda: None)
    iters = 5 if args.quick else 20
    rows = []
    rng = np.random.default_rng(0)

    # --- per-op cost: 999 elementwise ops on a 256-vector, forward + backward
    x0 = rng.standard_normal(256).astype(np.float32)
    xm = mg.tensor(x0, device=dev, requires_grad=True)

    def chain_mg():
        y = xm
        for _ in range(333):
            y = (y * 1.0001 + 0.001).tanh()
        y.sum().backward()
        xm.grad = None

    chain_t = None
    if torch is not None:
        xt = torch.tensor(x0, device=tdev, requires_grad=True)

        def chain_t():
            y = xt
            for _ in range(333):
                y = (y * 1.0001 + 0.001).tanh()
            y.sum().backward()
            xt.grad = None

    # --- MLP 2→512→512→512→1, batch 256
    ws, bs = mlp_params(rng)
    data = rng.standard_normal((256, 2)).astype(np.float32)
    Wm = [mg.tensor(w, device=dev, requires_grad=True) for w in ws]
    Bm = [mg.tensor(b, device=dev, requires_grad=True) for b in bs]
    Xm = mg.tensor(data, device=dev)

    def mlp_mg(h):
        for i, (w, b) in enumerate(zip(Wm, Bm)):
            h = mg.linear(h, w, b)
            if i < len(Wm) - 1:
                h = mg.relu(h)
        return h

    def fb_mg():
        mlp_mg(Xm).mean().backward()

    def gp_mg():
        xi = mg.tensor(data, device=dev, requires_grad=True)
        g, = mg.grad(mlp_mg(xi).sum(), xi, create_graph=True)
        (((g * g).sum(axis=1) + 1e-12).sqrt() - 1).pow(2).mean().backward()

    fb_t = gp_t = None
    if torch is not None:
        F = torch.nn.functional
        Wt = [torch.tensor(w, device=tdev, requires_grad=True) for w in ws]
        Bt = [torch.tensor(b, device=tdev, requires_grad=True) for b in bs]
        Xt = torch.tensor(data, device=tdev)

        def mlp_t(h):
            for i, (w, b) in enumerate(zip(Wt, Bt)):
                h = F.linear(h, w, b)
                if i < len(Wt) - 1:
                    h = torch.relu(h)
            return h

        def fb_t():
            mlp_t(Xt).mean().backward()

        def gp_t():
            xi = torch.tensor(data, device=tdev, requires_grad=True)
            g, = torch.autograd.grad(mlp_t(xi).sum(), xi, create_graph=True)
            (((g * g).sum(dim=1) + 1e-12).sqrt() - 1).pow(2).mean().backward()

    for threads in args.threads:
        pin_threads(threads, torch)
        row = compare(f"999 elementwise ops on 256-vector, fwd+bwd, {threads} thr", chain_mg, chain_t, iters=iters,
                      sync=sync)
        row["per_op_us_minigrad"] = row["minigrad_ms"] * 1e3 / 999
        rows.append(row)
        rows.append(compare(f"MLP 2-512-512-512-1 b256 fwd+bwd, {threads} thr", fb_mg, fb_t, iters=iters, sync=sync))
        rows.append(compare(f"MLP 2-512-512-512-1 b256 fwd+bwd + grad-norm penalty, {threads} thr", gp_mg, gp_t,
                            iters=iters, sync=sync))
        for row in rows[-3:]:
            row["threads"] = threads
    save(f"core_{dev}", rows)


if __name__ == "__main__":
    main()
