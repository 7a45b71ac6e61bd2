"""conv2d and conv_transpose2d forward+backward at the DCGAN 32×32 shapes (batch 64, 4×4 kernels, stride 2,
padding 1): minigrad, PyTorch and JAX, each engine in its own process, taking turns (`harness`).

Each case is the gradient of sum(y²) with respect to the input, the weight and the bias. Informational:
the targets are on the whole workloads (bench_workloads.py). ``--interleaved`` adds the old
in-one-process timing of minigrad against torch, labelled as an extra.

Usage: python3 benchmarks/bench_conv.py [--device cpu|cuda] [--quick] [--threads 1 2] [--turns N]
           [--contenders minigrad torch jax] [--baseline TREE] [--out FILE] [--interleaved]
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

import harness
from harness import Contender, Spec

BATCH = 64
#: (op, input shape, weight shape) of the workload-C critic (conv) and generator (conv-transpose)
SHAPES = [
    ("conv2d", (BATCH, 1, 32, 32), (64, 1, 4, 4)),
    ("conv2d", (BATCH, 64, 16, 16), (128, 64, 4, 4)),
    ("conv2d", (BATCH, 128, 8, 8), (256, 128, 4, 4)),
    ("conv_transpose2d", (BATCH, 256, 4, 4), (256, 128, 4, 4)),
    ("conv_transpose2d", (BATCH, 128, 8, 8), (128, 64, 4, 4)),
    ("conv_transpose2d", (BATCH, 64, 16, 16), (64, 1, 4, 4)),
]
CASES = {f"{op} x{x}": f"{op} x{x} w{w} fwd+bwd" for op, x, w in SHAPES}
CONTENDERS = ("minigrad", "torch", "jax")


def arrays(op: str, x_shape, w_shape, seed: int = 0):
    rng = np.random.default_rng([seed, len(x_shape) * 1000 + x_shape[1]])
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = (rng.standard_normal(w_shape) * 0.05).astype(np.float32)
    b = np.zeros(w_shape[0] if op == "conv2d" else w_shape[1], np.float32)
    return x, w, b


def minigrad_case(op, x_shape, w_shape, device: str):
    import minigrad as mg
    import minigrad.functional as F

    ours = [mg.tensor(a, device=device, requires_grad=True) for a in arrays(op, x_shape, w_shape)]
    fn = getattr(F, op)
    sync = mg.backend.xp_for("cuda").cuda.Stream.null.synchronize if device == "cuda" else (lambda: None)

    def run():
        y = fn(*ours, 2, 1)
        mg.grad((y * y).sum(), ours)
        sync()
    return run


def torch_case(torch, op, x_shape, w_shape, device: str):
    tdev = "cuda" if device == "cuda" else "cpu"
    theirs = [torch.tensor(a, device=tdev, requires_grad=True) for a in arrays(op, x_shape, w_shape)]
    fn = getattr(torch.nn.functional, op)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    def run():
        y = fn(*theirs, 2, 1)
        torch.autograd.grad((y * y).sum(), theirs)
        sync()
    return run


def jax_case(op, x_shape, w_shape):
    import jax

    import jax_peer

    x, w, b = (jax.device_put(a) for a in arrays(op, x_shape, w_shape))
    layers = [("conv" if op == "conv2d" else "conv_transpose", 0, {"stride": 2, "padding": 1})]
    grad = jax.jit(jax.grad(lambda x, w, b: (jax_peer.forward(layers, {"0.weight": w, "0.bias": b}, x) ** 2).sum(),
                            argnums=(0, 1, 2)))
    return lambda: jax.block_until_ready(grad(x, w, b))


def contender(threads: int, engine: str, device: str = "cpu") -> Contender:
    """`harness` factory: one engine's six convolution cases, in its own process."""
    if engine == "minigrad":
        return Contender({f"{op} x{x}": minigrad_case(op, x, w, device) for op, x, w in SHAPES})
    if engine == "torch":
        torch = harness.require("torch")
        torch.set_num_threads(threads)
        return Contender({f"{op} x{x}": torch_case(torch, op, x, w, device) for op, x, w in SHAPES})
    if engine == "jax":
        if device != "cpu":
            raise harness.Unavailable("the JAX peer runs on the CPU only here")
        harness.require("jax")
        return Contender({f"{op} x{x}": jax_case(op, x, w) for op, x, w in SHAPES})
    raise ValueError(f"unknown contender {engine!r} (one of {', '.join(CONTENDERS)})")


def interleaved(threads: int, args) -> list[dict]:
    """The old method in THIS process (the labelled extra): minigrad and torch interleaved call by call."""
    torch = harness.try_torch()
    harness.pin_threads(threads, torch)
    rows = []
    for op, x, w in SHAPES:
        theirs = torch_case(torch, op, x, w, args.device) if torch else None
        rows.append(dict(harness.compare(f"{CASES[f'{op} x{x}']}, {threads} thr", minigrad_case(op, x, w, args.device),
                                         theirs, iters=5 if args.quick else 15), threads=threads))
    return rows


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--quick", action="store_true", help="fewer turns (smoke run)")
    parser.add_argument("--turns", type=int, default=None, help="turns per case (default 20; --quick 3)")
    parser.add_argument("--contenders", nargs="+", default=list(CONTENDERS), choices=CONTENDERS)
    harness.add_process_options(parser)
    args = parser.parse_args(argv)
    harness.print_machine()
    rows, extra = [], []
    with tempfile.TemporaryDirectory() as tmp:
        baseline = harness.source_tree(args.baseline, Path(tmp)) if args.baseline else None
        try:
            specs = [Spec(engine, "bench_conv:contender", dict(engine=engine, device=args.device))
                     for engine in args.contenders]
            if baseline is not None and "minigrad" in args.contenders:
                specs.append(Spec("minigrad@baseline", "bench_conv:contender", dict(engine="minigrad",
                                                                                     device=args.device),
                                  root=baseline))
            for threads in args.threads:
                rows += harness.run_turns(specs, CASES, threads, args.turns or (3 if args.quick else 20),
                                          reference="torch", gap=args.gap, cpus=args.cpus)
                if args.interleaved:
                    extra += interleaved(threads, args)
        finally:
            if baseline is not None and not Path(args.baseline).is_dir():
                harness.remove_tree(baseline)
    harness.save(f"conv_{args.device}", rows, {"interleaved_rows": extra} if extra else None, path=args.out)
    return rows


if __name__ == "__main__":
    main()
