"""The training workloads of ../shared/perf/peers.md, each contender in its own process, taking turns.

A: toy WGAN-GP iteration (gan_toy.py): G 2-512-512-512-2, D 2-512-512-512-1, ReLU, batch 256,
   5 critic steps with a gradient penalty (λ 0.1) + 1 generator step, Adam 1e-4 (0.5, 0.9).
B: as A without the penalty, RMSprop 5e-5, weight clipping at 0.01.
C: DCGAN 32×32 WGAN-GP: D conv 1→64→128→256 (4×4 s2 p1) + LeakyReLU 0.2 + linear 4096→1;
   G linear 128→4·4·256 + ReLU, conv-transpose 256→128→64→1 (4×4 s2 p1), ReLU, tanh; batch 64; λ 10.
A-2x64, B-2x64: A and B with 2 hidden layers of 64 (the small nets most experiments train); any
   "A-<depth>x<width>" / "B-<depth>x<width>" is understood.
minigrad's optimizers keep each network's parameters in one flat buffer (minigrad.optim), so the
Adam/RMSprop steps and the clipping are whole-buffer array calls (torch: its default foreach path).

Contenders, each in its own long-lived process (`harness`: one call each per turn, ratios of same-turn times):

  minigrad       this script's own iteration on minigrad (`Workload.iteration`)
  trainer        `wgan.train.Trainer.train_step` configured as the workload, with the Trainer's defaults
                 (what `wgan train` runs; once the Trainer captures the CPU step by default, that)
  trainer-eager  the same Trainer asked for eager steps (`graph=False`); only where the Trainer has that
                 option, since without it the default *is* eager (on a GPU: `cuda_graph=False`)
  torch          the same iteration in PyTorch eager, from the same weights and data
  jax            the same iteration as one `jax.jit` function (benchmarks/jax_peer.py), same weights and data
  floor          the iteration's GEMMs alone in plain NumPy (benchmarks/floor.py; 16.15 GFLOP for A)

torch and JAX are optional: a contender whose engine is not installed is skipped and says so. After one
iteration from the same state, torch's and JAX's parameters are compared with minigrad's (printed, stored).
With ``--baseline TREE`` the minigrad and Trainer contenders of that source tree run as well
("minigrad@baseline", "trainer@baseline"), each in its own process, for before/after ratios in one sitting.

Peak memory (``--memory``) runs every memory contender in a fresh process of its own (one thread, the
runs spread over the CPUs, since memory does not depend on the load): the peak RSS growth over the
process's baseline after setup at ``peak_at`` iterations, and RSS sampled through a long run of the
Trainer (``--memory-iters``: 10,000 iterations of A and B, 200 of C by default, capped by
``--memory-minutes``).

``--interleaved`` adds the old measurement (minigrad, Trainer, torch and floor interleaved call by call in
ONE process), labelled as such: it is never a claimed ratio (see harness.py for why).

Usage: python3 benchmarks/bench_workloads.py [--workloads A B C A-2x64 B-2x64] [--threads 1 2] [--turns N]
           [--contenders minigrad trainer ...] [--baseline TREE] [--quick] [--memory] [--memory-only]
           [--memory-iters TOY DCGAN] [--memory-minutes M] [--out FILE] [--interleaved]
"""
from __future__ import annotations

import argparse
import inspect
import json
import os
import re
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

import minigrad as mg
import minigrad.functional as F
import minigrad.nn as nn
import minigrad.optim as optim
import harness
from floor import GemmFloor
from harness import Contender, Spec

TOY_DIMS = (512, 512, 512)
ALL_WORKLOADS = ("A", "B", "C", "A-2x64", "B-2x64")
CONTENDERS = ("minigrad", "trainer", "trainer-eager", "torch", "jax", "floor")
BASELINE_CONTENDERS = ("minigrad", "trainer")  # the engines a source tree carries
PAIRS = (("minigrad", "floor"), ("trainer", "floor"), ("trainer", "minigrad"), ("trainer", "jax"),
         ("trainer", "trainer-eager"), ("minigrad", "minigrad@baseline"), ("trainer", "trainer@baseline"))


def parse_workload(name: str) -> tuple[str, tuple[int, ...] | None]:
    """("A", None) for "A"; ("A", (64, 64)) for "A-2x64": the kind and the toy MLPs' hidden widths."""
    match = re.fullmatch(r"([ABC])(?:-(\d+)x(\d+))?", name)
    if match is None or (match.group(1) == "C" and match.group(2)):
        raise ValueError(f"unknown workload {name!r}: A, B, C, or A-<depth>x<width> / B-<depth>x<width>")
    kind, depth, width = match.groups()
    return kind, ((int(width),) * int(depth) if depth else None)


# ----------------------------------------------------------------------------- models (minigrad)
def toy_mlp(n_in: int, n_out: int, hidden: tuple[int, ...] | None = None) -> nn.Module:
    layers, width = [], n_in
    for size in hidden or TOY_DIMS:
        layers += [nn.Linear(width, size), nn.ReLU()]
        width = size
    layers.append(nn.Linear(width, n_out))
    return nn.Sequential(*layers)


def dcgan_critic() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(64, 128, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(128, 256, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(4096, 1))


def dcgan_generator() -> nn.Module:
    return nn.Sequential(
        nn.Linear(128, 4 * 4 * 256), nn.ReLU(), nn.Unflatten(1, (256, 4, 4)),
        nn.ConvTranspose2d(256, 128, 4, 2, 1), nn.ReLU(),
        nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.ReLU(),
        nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh())


# ----------------------------------------------------------------------------- models (torch)
def torch_twin(torch, module: nn.Module, kind: str, device: str, hidden: tuple[int, ...] | None = None):
    """The same architecture in torch, with the minigrad module's weights copied in."""
    tnn = torch.nn
    if kind == "toy_g" or kind == "toy_d":
        n_out = 2 if kind == "toy_g" else 1
        layers, width = [], 2
        for size in hidden or TOY_DIMS:
            layers += [tnn.Linear(width, size), tnn.ReLU()]
            width = size
        layers.append(tnn.Linear(width, n_out))
        twin = tnn.Sequential(*layers)
    elif kind == "dcgan_d":
        twin = tnn.Sequential(
            tnn.Conv2d(1, 64, 4, 2, 1), tnn.LeakyReLU(0.2), tnn.Conv2d(64, 128, 4, 2, 1), tnn.LeakyReLU(0.2),
            tnn.Conv2d(128, 256, 4, 2, 1), tnn.LeakyReLU(0.2), tnn.Flatten(), tnn.Linear(4096, 1))
    else:
        twin = tnn.Sequential(
            tnn.Linear(128, 4 * 4 * 256), tnn.ReLU(), tnn.Unflatten(1, (256, 4, 4)),
            tnn.ConvTranspose2d(256, 128, 4, 2, 1), tnn.ReLU(), tnn.ConvTranspose2d(128, 64, 4, 2, 1), tnn.ReLU(),
            tnn.ConvTranspose2d(64, 1, 4, 2, 1), tnn.Tanh())
    ours = dict(module.named_parameters())
    with torch.no_grad():
        for name, p in twin.named_parameters():
            p.copy_(torch.from_numpy(ours[name].numpy()))
    return twin.to(device)


# ----------------------------------------------------------------------------- one iteration
class Workload:
    """Holds models, optimizers and a fixed data pool for one framework."""

    def __init__(self, name: str, framework: str, device: str, torch=None, seed: int = 0, batch: int | None = None):
        self.name, self.framework, self.device, self.torch = name, framework, device, torch
        self.kind, self.hidden = parse_workload(name)
        mg.manual_seed(seed)
        rng = np.random.default_rng(seed)
        if self.kind in ("A", "B"):
            self.batch, self.z_dim, self.n_critic = batch or 256, 2, 5
            hidden = self.hidden or TOY_DIMS
            g, d, kinds = toy_mlp(2, 2, hidden), toy_mlp(2, 1, hidden), ("toy_g", "toy_d")
            noise = rng.standard_normal((8192, 2)) * 0.02  # drawn before the modes, as always
            self.pool = (noise + rng.choice([-1.414, 1.414], (8192, 2))).astype(np.float32)
        else:
            self.batch, self.z_dim, self.n_critic = batch or 64, 128, 5
            g, d, kinds = dcgan_generator(), dcgan_critic(), ("dcgan_g", "dcgan_d")
            self.pool = np.tanh(rng.standard_normal((1024, 1, 32, 32))).astype(np.float32)
        self.gp_lambda = {"A": 0.1, "B": 0.0, "C": 10.0}[self.kind]
        self.clip = 0.01 if self.kind == "B" else None
        self.noise = [rng.standard_normal((self.batch, self.z_dim)).astype(np.float32) for _ in range(8)]
        self.eps = [rng.random((self.batch,) + (1,) * (self.pool.ndim - 1)).astype(np.float32) for _ in range(8)]
        self.index = [rng.integers(0, len(self.pool), self.batch) for _ in range(8)]
        self.pool_batches = [self.pool[i] for i in self.index]
        self.counter = 0
        if framework == "minigrad":
            g.to(device)
            d.to(device)
            self.G, self.D = g, d
            self.opt_g, self.opt_d = self._optimizers(optim, g.parameters(), d.parameters())
        else:
            tdev = "cuda" if device == "cuda" else "cpu"
            self.G = torch_twin(torch, g, kinds[0], tdev, self.hidden)
            self.D = torch_twin(torch, d, kinds[1], tdev, self.hidden)
            self.opt_g, self.opt_d = self._optimizers(torch.optim, self.G.parameters(), self.D.parameters())

    def _optimizers(self, lib, g_params, d_params):
        if self.kind == "B":
            return lib.RMSprop(g_params, lr=5e-5), lib.RMSprop(d_params, lr=5e-5)
        betas = (0.5, 0.9) if self.kind == "A" else (0.0, 0.9)
        return lib.Adam(g_params, lr=1e-4, betas=betas), lib.Adam(d_params, lr=1e-4, betas=betas)

    def parameters(self) -> dict[str, np.ndarray]:
        """Both networks' parameters as NumPy arrays, named "G.<minigrad name>" / "D.<...>" in every engine."""
        out = {}
        for prefix, model in (("G", self.G), ("D", self.D)):
            for pname, p in model.named_parameters():
                out[f"{prefix}.{pname}"] = (p.numpy() if self.framework == "minigrad"
                                            else p.detach().cpu().numpy()).copy()
        return out

    def _arrays(self):
        k = self.counter % 8
        self.counter += 1
        return self.pool_batches[k], self.noise[k], self.eps[k]

    def iteration(self):
        step = self._step_minigrad if self.framework == "minigrad" else self._step_torch
        for _ in range(self.n_critic):
            step(critic=True)
        step(critic=False)

    def _step_minigrad(self, critic: bool):
        real_np, z_np, eps_np = self._arrays()
        z = mg.tensor(z_np, device=self.device)
        if critic:
            with mg.no_grad():
                fake = self.G(z)
            real = mg.tensor(real_np, device=self.device)
            loss = self.D(fake).mean() - self.D(real).mean()
            if self.gp_lambda:
                eps = mg.tensor(eps_np, device=self.device)
                xhat = F.convex_combination(real, fake, eps).detach().requires_grad_()  # one kernel on a GPU
                g, = mg.grad(self.D(xhat).sum(), xhat, create_graph=True)
                norm = F.sample_norms(g, 1e-12)  # one kernel each on a GPU (minigrad.ops.penalty)
                loss = loss + self.gp_lambda * F.norm_penalty(norm, reduction="mean")
            self.opt_d.zero_grad()
            loss.backward()
            self.opt_d.step()
            if self.clip:
                nn.utils.clamp_parameters_(self.D, -self.clip, self.clip)  # one call per flat buffer
        else:
            loss = -self.D(self.G(z)).mean()
            self.opt_g.zero_grad()
            loss.backward()
            self.opt_g.step()

    def _step_torch(self, critic: bool):
        torch, dev = self.torch, ("cuda" if self.device == "cuda" else "cpu")
        real_np, z_np, eps_np = self._arrays()
        z = torch.from_numpy(z_np).to(dev)
        if critic:
            with torch.no_grad():
                fake = self.G(z)
            real = torch.from_numpy(real_np).to(dev)
            loss = self.D(fake).mean() - self.D(real).mean()
            if self.gp_lambda:
                eps = torch.from_numpy(eps_np).to(dev)
                xhat = (eps * real + (1 - eps) * fake).detach().requires_grad_()
                g, = torch.autograd.grad(self.D(xhat).sum(), xhat, create_graph=True)
                norm = ((g * g).reshape(g.shape[0], -1).sum(dim=1) + 1e-12).sqrt()
                loss = loss + self.gp_lambda * ((norm - 1) ** 2).mean()
            self.opt_d.zero_grad()
            loss.backward()
            self.opt_d.step()
            if self.clip:
                with torch.no_grad():
                    for p in self.D.parameters():
                        p.clamp_(-self.clip, self.clip)
        else:
            loss = -self.D(self.G(z)).mean()
            self.opt_g.zero_grad()
            loss.backward()
            self.opt_g.step()


# ----------------------------------------------------------------------------- the Trainer
def trainer_options(graph: bool | None, device: str) -> dict:
    """The keyword asking this tree's Trainer for captured (True) or eager (False) steps; {} for its defaults.

    Raises `harness.Unavailable` when the Trainer cannot be asked: a Trainer without a ``graph`` option has
    only eager CPU steps, which its defaults already are."""
    from wgan.train import Trainer

    if graph is None:
        return {}
    accepted = inspect.signature(Trainer).parameters
    if "graph" in accepted:
        return {"graph": graph}
    if device == "cuda" and "cuda_graph" in accepted:
        return {"cuda_graph": graph}
    raise harness.Unavailable("this tree's Trainer has no `graph` option: its default CPU step is eager already "
                              "(the 'trainer' contender)")


def make_trainer(name: str, device: str, seed: int = 0, graph: bool | None = None, batch: int | None = None):
    """A `wgan` Trainer configured as workload `name` (same models, batch, penalty, optimizer), with the
    Trainer's defaults, or asked for eager (``graph=False``) or captured (``graph=True``) steps."""
    from wgan import data
    from wgan.config import TrainConfig
    from wgan.train import Trainer

    kind, hidden = parse_workload(name)
    options = trainer_options(graph, device)
    common: dict = dict(seed=seed, device=device, eval_every=0, checkpoint_every=0, steps=10 ** 6)
    if kind in ("A", "B"):
        hidden = hidden or TOY_DIMS
        if len(set(hidden)) != 1:
            raise ValueError(f"make_trainer: the Trainer's MLPs have one width, got hidden widths {hidden}")
        common.update(width=hidden[0], depth=len(hidden), **({"batch_size": batch} if batch else {}))
    if kind == "A":
        config = TrainConfig(dataset="8gaussians", algorithm="wgan-gp", preset="toy", **common)
    elif kind == "B":
        config = TrainConfig(dataset="8gaussians", algorithm="wgan-clip", preset="toy", rmsprop_alpha=0.99,
                             rmsprop_eps=1e-8, **common)
    else:
        pool = np.tanh(np.random.default_rng(seed).standard_normal((1024, 1, 32, 32))).astype(np.float32)
        config = TrainConfig(dataset="array", algorithm="wgan-gp", model="dcgan", base_filters=64, z_dim=128,
                             g_batchnorm=False, critic_norm="none", batch_size=batch or 64, gp_lambda=10.0,
                             betas=(0.0, 0.9), n_critic=5, **common)
        return Trainer(config, dataset=data.from_array(pool), **options)
    return Trainer(config, **options)


def trainer_info(trainer, options: dict) -> dict:
    """What the Trainer was asked for and what it runs (its capture flags, where it has them)."""
    info: dict = {"asked": options or "defaults"}
    for flag in ("graph", "cuda_graph", "captured"):
        value = getattr(trainer, flag, None)
        if isinstance(value, bool):
            info[flag] = value
    return info


# ----------------------------------------------------------------------------- contenders (own processes)
def _synced(fn, sync):
    if sync is None:
        return fn

    def call():
        fn()
        sync()
    return call


def contender(threads: int, engine: str, workload: str, device: str = "cpu", batch: int | None = None,
              seed: int = 0) -> Contender:
    """`harness` factory: one contender of one workload, built in its own process."""
    kind, hidden = parse_workload(workload)
    sync = None
    if device == "cuda" and engine in ("minigrad", "trainer", "trainer-eager"):
        sync = mg.backend.xp_for("cuda").cuda.Stream.null.synchronize
    if engine == "minigrad":
        w = Workload(workload, "minigrad", device, seed=seed, batch=batch)
        return Contender({workload: _synced(w.iteration, sync)}, w.parameters)
    if engine in ("trainer", "trainer-eager"):
        graph = False if engine == "trainer-eager" else None
        trainer = make_trainer(workload, device, seed, graph=graph, batch=batch)
        options = trainer_options(graph, device)
        return Contender({workload: _synced(trainer.train_step, sync)}, info=lambda: trainer_info(trainer, options))
    if engine == "torch":
        torch = harness.require("torch")
        torch.set_num_threads(threads)
        w = Workload(workload, "torch", device, torch, seed=seed, batch=batch)
        return Contender({workload: _synced(w.iteration, torch.cuda.synchronize if device == "cuda" else None)},
                         w.parameters, info={"torch": torch.__version__, "threads": torch.get_num_threads()})
    if engine == "jax":
        if device != "cpu":
            raise harness.Unavailable("the JAX peer runs on the CPU only here")
        jax = harness.require("jax")
        import jax_peer

        jw = jax_peer.JaxWorkload(Workload(workload, "minigrad", "cpu", seed=seed, batch=batch))
        return Contender({workload: jw.iteration}, jw.parameters,
                         info={"jax": jax.__version__, "backend": jax.default_backend()})
    if engine == "floor":
        floor = GemmFloor(kind, seed, hidden, batch)
        return Contender({workload: floor}, info={"gflop": round(floor.gflop, 3)})
    raise ValueError(f"unknown contender {engine!r} (one of {', '.join(CONTENDERS)})")


def specs(workload: str, engines, args, baseline: Path | None, snapshots: Path | None) -> list[Spec]:
    """One `Spec` per contender (and per baseline contender), snapshotting the agreement's engines."""
    warmup = 2 if parse_workload(workload)[0] == "C" else 3
    out = []
    for engine in engines:
        kwargs = dict(engine=engine, workload=workload, device=args.device, batch=args.batch)
        snapshot = snapshots / f"{engine}.npz" if snapshots and engine in ("minigrad", "torch", "jax") else None
        out.append(Spec(engine, "bench_workloads:contender", kwargs, warmup=warmup, snapshot=snapshot))
        if baseline is not None and engine in BASELINE_CONTENDERS:
            out.append(Spec(f"{engine}@baseline", "bench_workloads:contender", kwargs, root=baseline, warmup=warmup))
    return out


def default_turns(workload: str, quick: bool) -> int:
    kind, hidden = parse_workload(workload)
    if kind == "C":
        return 2 if quick else 8
    if hidden and max(hidden) <= 128:
        return 10 if quick else 80
    return 4 if quick else 30


def time_workload(workload: str, threads: int, args, baseline: Path | None, check_agreement: bool) -> dict | None:
    """One row: every contender in its own process, ``turns`` turns (plus the agreement after one iteration)."""
    with tempfile.TemporaryDirectory() as tmp:
        snapshots = Path(tmp) if check_agreement else None
        rows = harness.run_turns(specs(workload, args.contenders, args, baseline, snapshots),
                                 {workload: f"workload {workload} ({args.device}) ms/iter"}, threads,
                                 args.turns or default_turns(workload, args.quick), reference="torch", pairs=PAIRS,
                                 gap=args.gap, cpus=args.cpus)
        if not rows:
            return None
        row = rows[0]
        kind, hidden = parse_workload(workload)
        row.update(workload=workload, kind=kind, hidden=hidden, batch=args.batch, device=args.device)
        if snapshots is not None and (snapshots / "minigrad.npz").exists():
            row["agreement_after_1_iter"] = {}
            for engine in ("torch", "jax"):
                if (snapshots / f"{engine}.npz").exists():
                    diff = harness.agreement(snapshots / "minigrad.npz", snapshots / f"{engine}.npz")
                    row["agreement_after_1_iter"][engine] = diff
                    print(f"   workload {workload}: {engine}'s parameters after one iteration agree with minigrad's "
                          f"to {diff:.1e} (max relative difference)", flush=True)
    return row


# ----------------------------------------------------------------------------- peak memory
def memory_jobs(workload: str, args) -> list[tuple[Spec, int, int]]:
    """(spec, iterations, peak_at) of each memory run: the Trainer's defaults for the long run (flatness),
    the others (Trainer eager, minigrad's step, torch) for the peak at ``peak_at`` iterations."""
    kind = parse_workload(workload)[0]
    toy_iters, dcgan_iters = args.memory_iters or ((200, 20) if args.quick else (10_000, 200))
    long_iters = dcgan_iters if kind == "C" else toy_iters
    peak_at = min(long_iters, 25 if kind == "C" else 200)
    jobs = []
    for engine in ("trainer", "trainer-eager", "minigrad", "torch"):
        if engine in args.contenders:
            kwargs = dict(engine=engine, workload=workload, device=args.device, batch=args.batch)
            jobs.append((Spec(engine, "bench_workloads:contender", kwargs), long_iters if engine == "trainer"
                         else peak_at, peak_at))
    return jobs


def measure_memory(workloads, args) -> list[dict]:
    """Every workload's memory runs, spread over the CPUs (one process per CPU at a time, one thread each)."""
    jobs = [(workload, *job) for workload in workloads for job in memory_jobs(workload, args)]
    jobs.sort(key=lambda job: -job[2] * (15 if parse_workload(job[0])[0] == "C" else 1))  # longest first
    cpus = sorted(args.cpus or os.sched_getaffinity(0))
    queue = list(jobs)
    lock = threading.Lock()
    results: dict = {}

    def worker(cpu: int) -> None:
        while True:
            with lock:
                if not queue:
                    return
                workload, spec, iters, peak_at = queue.pop(0)
            print(f"   memory {workload} {spec.label}: {iters} iterations on CPU {cpu}", flush=True)
            results[workload, spec.label] = (harness.run_memory(spec, workload, iters, peak_at, threads=1, cpus=[cpu],
                                                                minutes=args.memory_minutes), peak_at)

    with ThreadPoolExecutor(len(cpus)) as pool:
        list(pool.map(worker, cpus))
    rows = []
    for workload in workloads:
        memory = {label: result for (w, label), (result, _) in results.items() if w == workload and result}
        peak_at = next(p for (w, _), (_, p) in results.items() if w == workload)
        at = f"peak_growth_mib_at_{peak_at}"
        row: dict = {"case": f"workload {workload} memory", "workload": workload, "peak_at": peak_at,
                     "memory": memory, "skipped": sorted(label for (w, label), (r, _) in results.items()
                                                         if w == workload and r is None)}
        for a, b in (("trainer", "trainer-eager"), ("minigrad", "torch"), ("trainer", "torch")):
            if a in memory and b in memory and memory[a][at] is not None and memory[b][at] is not None:
                row[f"peak_ratio_{a}/{b}"] = memory[a][at] / max(memory[b][at], 1e-9)
        rows.append(row)
        keys = (at, "peak_growth_mib", "iterations", "rss_drift_after_10pct_mib", "rss_range_after_10pct_mib")
        brief = {label: {k: v for k, v in m.items() if k in keys} for label, m in memory.items()}
        print(f"   memory {workload}: " + json.dumps(brief) + "  " +
              "  ".join(f"{k[len('peak_ratio_'):]} {v:.2f}x" for k, v in row.items() if k.startswith("peak_ratio_")),
              flush=True)
    return rows


# ----------------------------------------------------------------------------- interleaved (extra)
def interleaved_workload(workload: str, threads: int, args) -> dict:
    """The old method, in THIS process: minigrad, Trainer, torch and floor interleaved call by call.
    Labelled, stored apart, never a claimed ratio."""
    torch = harness.try_torch()
    harness.pin_threads(threads, torch)
    kind, hidden = parse_workload(workload)
    theirs = Workload(workload, "torch", args.device, torch, batch=args.batch) if torch else None
    contenders = {"minigrad": Workload(workload, "minigrad", args.device, torch, batch=args.batch).iteration,
                  "trainer": make_trainer(workload, args.device, batch=args.batch).train_step,
                  "torch": theirs.iteration if theirs else None,
                  "floor": GemmFloor(kind, 0, hidden, args.batch)}
    iters = 2 if kind == "C" else (4 if args.quick else 15)
    row = harness.compare_many(f"workload {workload} ({args.device}, {threads} thr) ms/iter", contenders, iters=iters,
                               warmup=2, rounds=3, extra_ratios=(("minigrad", "floor"), ("trainer", "minigrad")))
    row.update(workload=workload, threads=threads)
    return row


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", nargs="+", default=list(ALL_WORKLOADS), type=str,
                        help="A, B, C, A-2x64, B-2x64 (or A-<depth>x<width>, B-<depth>x<width>)")
    parser.add_argument("--contenders", nargs="+", default=list(CONTENDERS), choices=CONTENDERS)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--turns", type=int, default=None,
                        help="turns per row (default: A, B 30; the small nets 80; C 8; --quick fewer)")
    parser.add_argument("--batch", type=int, default=None, help="another batch size (smoke runs)")
    parser.add_argument("--quick", action="store_true", help="fewer turns and memory iterations")
    parser.add_argument("--memory", action="store_true", help="also measure peak memory, fresh process per run")
    parser.add_argument("--memory-only", action="store_true", help="only the memory runs (no timing)")
    parser.add_argument("--memory-iters", type=int, nargs=2, default=None, metavar=("TOY", "DCGAN"),
                        help="iterations of the Trainer's long memory run for A/B and for C (default 10000 200; "
                             "--quick 200 20)")
    parser.add_argument("--memory-minutes", type=float, default=None,
                        help="stop a long memory run after this many minutes (its iterations are recorded)")
    harness.add_process_options(parser)
    args = parser.parse_args(argv)
    for name in args.workloads:
        parse_workload(name)
    harness.print_machine()
    rows: list[dict] = []
    interleaved: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        baseline = harness.source_tree(args.baseline, Path(tmp)) if args.baseline else None
        try:
            if not args.memory_only:
                for workload in args.workloads:
                    for i, threads in enumerate(args.threads):
                        row = time_workload(workload, threads, args, baseline, check_agreement=i == 0)
                        if row is not None:
                            rows.append(row)
                        if args.interleaved:
                            interleaved.append(interleaved_workload(workload, threads, args))
            if args.memory or args.memory_only:
                rows += measure_memory(args.workloads, args)
        finally:
            if baseline is not None and args.baseline and not Path(args.baseline).is_dir():
                harness.remove_tree(baseline)
    name = f"workloads_{args.device}" + ("_memory" if args.memory_only else "")
    harness.save(name, rows, {"interleaved_rows": interleaved} if interleaved else None, path=args.out)
    return rows


if __name__ == "__main__":
    main()
