"""Per-op overhead of small forward+backward chains, and forward+backward of the 2→512→512→512→1 ReLU MLP at
batch 256 (first order, and with a gradient-norm penalty), each engine in its own process, taking turns.

Cases (the same in every engine, from the same arrays):

  chain    999 elementwise ops on a 256-vector (333 x (y * 1.0001 + 0.001).tanh()), forward + backward
  mlp      MLP 2-512-512-512-1, batch 256: mean of the output, backward into the weights
  penalty  the same MLP: input gradient with create_graph, (‖g‖ - 1)² mean, backward into the weights

Contenders, each in its own long-lived process (`harness`: one call each per turn, ratios of same-turn
times): ``minigrad``, ``torch`` (eager) and ``jax`` (each case one `jax.jit` gradient); torch and JAX are
optional and skipped, saying so, when absent. With ``--baseline TREE`` (a path or a git revision) a
``minigrad@baseline`` process runs the same cases with that tree's minigrad, and the rows give
minigrad / minigrad@baseline: the before/after check of a refactor, in one sitting. ``--interleaved`` adds the
old in-one-process measurement, labelled as an extra (never a claimed ratio).

Usage: python3 benchmarks/bench_core.py [--device cpu|cuda] [--threads 1 2] [--turns N] [--quick]
           [--contenders minigrad torch jax] [--baseline TREE] [--out FILE] [--interleaved]
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

import harness
from harness import Contender, Spec

CASES = {"chain": "999 elementwise ops on 256-vector, fwd+bwd",
         "mlp": "MLP 2-512-512-512-1 b256 fwd+bwd",
         "penalty": "MLP 2-512-512-512-1 b256 fwd+bwd + grad-norm penalty"}
CONTENDERS = ("minigrad", "torch", "jax")


def arrays(seed: int = 0, dims=(2, 512, 512, 512, 1)):
    """(x0, weights, biases, data): every engine's inputs, drawn alike."""
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal(256).astype(np.float32)
    ws = [(rng.standard_normal((o, i)) * np.sqrt(2.0 / i)).astype(np.float32) for i, o in zip(dims, dims[1:])]
    bs = [np.zeros(o, np.float32) for o in dims[1:]]
    data = rng.standard_normal((256, 2)).astype(np.float32)
    return x0, ws, bs, data


def minigrad_cases(device: str = "cpu") -> dict:
    import minigrad as mg

    x0, ws, bs, data = arrays()
    xm = mg.tensor(x0, device=device, requires_grad=True)

    def chain():
        y = xm
        for _ in range(333):
            y = (y * 1.0001 + 0.001).tanh()
        y.sum().backward()
        xm.grad = None

    W = [mg.tensor(w, device=device, requires_grad=True) for w in ws]
    B = [mg.tensor(b, device=device, requires_grad=True) for b in bs]
    X = mg.tensor(data, device=device)

    def mlp(h):
        for i, (w, b) in enumerate(zip(W, B)):
            h = mg.linear(h, w, b)
            if i < len(W) - 1:
                h = mg.relu(h)
        return h

    def fb():
        mlp(X).mean().backward()

    def gp():
        xi = mg.tensor(data, device=device, requires_grad=True)
        g, = mg.grad(mlp(xi).sum(), xi, create_graph=True)
        (((g * g).sum(axis=1) + 1e-12).sqrt() - 1).pow(2).mean().backward()

    cases = {"chain": chain, "mlp": fb, "penalty": gp}
    if device == "cuda":
        sync = mg.backend.xp_for("cuda").cuda.Stream.null.synchronize
        cases = {k: (lambda fn=fn: (fn(), sync())) for k, fn in cases.items()}
    return cases


def torch_cases(torch, device: str = "cpu") -> dict:
    x0, ws, bs, data = arrays()
    tdev = "cuda" if device == "cuda" else "cpu"
    F = torch.nn.functional
    xt = torch.tensor(x0, device=tdev, requires_grad=True)

    def chain():
        y = xt
        for _ in range(333):
            y = (y * 1.0001 + 0.001).tanh()
        y.sum().backward()
        xt.grad = None

    W = [torch.tensor(w, device=tdev, requires_grad=True) for w in ws]
    B = [torch.tensor(b, device=tdev, requires_grad=True) for b in bs]
    X = torch.tensor(data, device=tdev)

    def mlp(h):
        for i, (w, b) in enumerate(zip(W, B)):
            h = F.linear(h, w, b)
            if i < len(W) - 1:
                h = torch.relu(h)
        return h

    def fb():
        mlp(X).mean().backward()

    def gp():
        xi = torch.tensor(data, device=tdev, requires_grad=True)
        g, = torch.autograd.grad(mlp(xi).sum(), xi, create_graph=True)
        (((g * g).sum(dim=1) + 1e-12).sqrt() - 1).pow(2).mean().backward()

    cases = {"chain": chain, "mlp": fb, "penalty": gp}
    if device == "cuda":
        cases = {k: (lambda fn=fn: (fn(), torch.cuda.synchronize())) for k, fn in cases.items()}
    return cases


def contender(threads: int, engine: str, device: str = "cpu") -> Contender:
    """`harness` factory: one engine's three cases, built in its own process."""
    if engine == "minigrad":
        return Contender(minigrad_cases(device))
    if engine == "torch":
        torch = harness.require("torch")
        torch.set_num_threads(threads)
        return Contender(torch_cases(torch, device), info={"torch": torch.__version__})
    if engine == "jax":
        if device != "cpu":
            raise harness.Unavailable("the JAX peer runs on the CPU only here")
        jax = harness.require("jax")
        import jax_peer

        return Contender(jax_peer.core_cases(*arrays()), info={"jax": jax.__version__})
    raise ValueError(f"unknown contender {engine!r} (one of {', '.join(CONTENDERS)})")


def specs(engines, device: str, baseline: Path | None) -> list[Spec]:
    out = []
    for engine in engines:
        out.append(Spec(engine, "bench_core:contender", dict(engine=engine, device=device), warmup=3))
        if baseline is not None and engine == "minigrad":
            out.append(Spec("minigrad@baseline", "bench_core:contender", dict(engine=engine, device=device),
                            root=baseline, warmup=3))
    return out


def interleaved(threads: int, args) -> list[dict]:
    """The old method in THIS process (the labelled extra): minigrad and torch interleaved call by call."""
    torch = harness.try_torch()
    harness.pin_threads(threads, torch)
    ours, theirs = minigrad_cases(args.device), torch_cases(torch, args.device) if torch else {}
    return [dict(harness.compare(f"{title}, {threads} thr", ours[case], theirs.get(case), iters=5 if args.quick
                                 else 20), threads=threads, case_key=case) for case, title in CASES.items()]


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--quick", action="store_true", help="fewer turns (smoke run)")
    parser.add_argument("--turns", type=int, default=None, help="turns per case (default 60; --quick 5)")
    parser.add_argument("--contenders", nargs="+", default=None, choices=CONTENDERS,
                        help="default: minigrad torch jax; with --baseline: minigrad (and minigrad@baseline)")
    harness.add_process_options(parser)
    args = parser.parse_args(argv)
    harness.print_machine()
    engines = args.contenders or (["minigrad"] if args.baseline else list(CONTENDERS))
    turns = args.turns or (5 if args.quick else 60)
    reference = "minigrad@baseline" if args.baseline else "torch"
    rows, extra = [], []
    with tempfile.TemporaryDirectory() as tmp:
        baseline = harness.source_tree(args.baseline, Path(tmp)) if args.baseline else None
        try:
            for threads in args.threads:
                for row in harness.run_turns(specs(engines, args.device, baseline), CASES, threads, turns,
                                             reference=reference, gap=args.gap, cpus=args.cpus):
                    if row["case_key"] == "chain" and "minigrad_ms" in row:
                        row["per_op_us_minigrad"] = row["minigrad_ms"] * 1e3 / 999
                    rows.append(row)
                if args.interleaved:
                    extra += interleaved(threads, args)
        finally:
            if baseline is not None and not Path(args.baseline).is_dir():
                harness.remove_tree(baseline)
    harness.save(f"core_{args.device}", rows, {"interleaved_rows": extra} if extra else None, path=args.out)
    return rows


if __name__ == "__main__":
    main()
