"""Issue 3 / 5 workloads from ../shared/perf/peers.md, minigrad against PyTorch in one run.

A: toy WGAN-GP iteration (gan_toy.py): G 2-512-512-512-2, D 2-512-512-512-1, ReLU, batch 256,
   5 critic steps with a gradient penalty (λ 0.1) + 1 generator step, Adam 1e-4 (0.5, 0.9).
B: as A without the penalty, RMSprop 5e-5, weight clipping at 0.01.
minigrad's optimizers keep each network's parameters in one flat buffer (minigrad.optim), so the
Adam/RMSprop steps and the clipping are whole-buffer array calls (torch: its default foreach path).
C: DCGAN 32×32 WGAN-GP: D conv 1→64→128→256 (4×4 s2 p1) + LeakyReLU 0.2 + linear 4096→1;
   G linear 128→4·4·256 + ReLU, conv-transpose 256→128→64→1 (4×4 s2 p1), ReLU, tanh; batch 64; λ 10.

Both frameworks start from the same weights and see the same data. Every workload is timed at
each thread count of ``--threads`` (default 1 and 2; minigrad's BLAS and torch pinned alike), with
four contenders interleaved in one `harness.compare_many` call:

  minigrad   this script's own iteration on minigrad (`Workload.iteration`)
  trainer    `wgan.train.Trainer.train_step` with the same configuration (what users run)
  torch      the same iteration in PyTorch
  floor      the iteration's GEMMs alone in plain NumPy (benchmarks/floor.py; 16.15 GFLOP for A)

Peak memory (``--memory``) is measured in a fresh subprocess per framework: the peak RSS growth
over the process's baseline after setup, and RSS sampled through the run for flatness
(``--memory-iters``: 10,000 iterations of A and B and 200 of C by default, far fewer with --quick).

Usage: python3 benchmarks/bench_workloads.py [--workloads A B C] [--threads 1 2] [--device cpu|cuda]
                                             [--quick] [--memory] [--memory-iters N]
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys

import numpy as np

import minigrad as mg
import minigrad.functional as F
import minigrad.nn as nn
import minigrad.optim as optim
from floor import GemmFloor
from harness import add_thread_option, compare_many, pin_threads, print_machine, save, try_torch

TOY_DIMS = (512, 512, 512)


# ----------------------------------------------------------------------------- models (minigrad)
def toy_mlp(n_in: int, n_out: int) -> nn.Module:
    layers, width = [], n_in
    for hidden in TOY_DIMS:
        layers += [nn.Linear(width, hidden), nn.ReLU()]
        width = hidden
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
def torch_twin(torch, module: nn.Module, kind: str, device: str):
    """The same architecture in torch, with the minigrad module's weights copied in."""
    tnn = torch.nn
    if kind == "toy_g" or kind == "toy_d":
        n_out = 2 if kind == "toy_g" else 1
        layers, width = [], 2
        for hidden in TOY_DIMS:
            layers += [tnn.Linear(width, hidden), tnn.ReLU()]
            width = hidden
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

    def __init__(self, name: str, framework: str, device: str, torch=None, seed: int = 0):
        self.name, self.framework, self.device, self.torch = name, framework, device, torch
        mg.manual_seed(seed)
        rng = np.random.default_rng(seed)
        if name in ("A", "B"):
            self.batch, self.z_dim, self.n_critic = 256, 2, 5
            g, d, kinds = toy_mlp(2, 2), toy_mlp(2, 1), ("toy_g", "toy_d")
            noise = rng.standard_normal((8192, 2)) * 0.02  # drawn before the modes, as always
            self.pool = (noise + rng.choice([-1.414, 1.414], (8192, 2))).astype(np.float32)
        else:
            self.batch, self.z_dim, self.n_critic = 64, 128, 5
            g, d, kinds = dcgan_generator(), dcgan_critic(), ("dcgan_g", "dcgan_d")
            self.pool = np.tanh(rng.standard_normal((1024, 1, 32, 32))).astype(np.float32)
        self.gp_lambda = {"A": 0.1, "B": 0.0, "C": 10.0}[name]
        self.clip = 0.01 if name == "B" else None
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
            self.G, self.D = torch_twin(torch, g, kinds[0], tdev), torch_twin(torch, d, kinds[1], tdev)
            self.opt_g, self.opt_d = self._optimizers(torch.optim, self.G.parameters(), self.D.parameters())

    def _optimizers(self, lib, g_params, d_params):
        if self.name == "B":
            return lib.RMSprop(g_params, lr=5e-5), lib.RMSprop(d_params, lr=5e-5)
        betas = (0.5, 0.9) if self.name == "A" else (0.0, 0.9)
        return lib.Adam(g_params, lr=1e-4, betas=betas), lib.Adam(d_params, lr=1e-4, betas=betas)

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


def make_trainer(name: str, device: str, seed: int = 0):
    """A `wgan` Trainer configured as workload `name` (same models, batch, penalty, optimizer)."""
    from wgan import data
    from wgan.config import TrainConfig
    from wgan.train import Trainer

    common = dict(seed=seed, device=device, eval_every=0, checkpoint_every=0)
    if name == "A":
        config = TrainConfig(dataset="8gaussians", algorithm="wgan-gp", preset="toy", **common)
    elif name == "B":
        config = TrainConfig(dataset="8gaussians", algorithm="wgan-clip", preset="toy", rmsprop_alpha=0.99,
                             rmsprop_eps=1e-8, **common)
    else:
        pool = np.tanh(np.random.default_rng(seed).standard_normal((1024, 1, 32, 32))).astype(np.float32)
        config = TrainConfig(dataset="array", algorithm="wgan-gp", model="dcgan", base_filters=64, z_dim=128,
                             g_batchnorm=False, critic_norm="none", batch_size=64, gp_lambda=10.0,
                             betas=(0.0, 0.9), n_critic=5, **common)
        return Trainer(config, dataset=data.from_array(pool))
    return Trainer(config)


def agreement(name: str, device: str, torch) -> float:
    """Max relative difference of all parameters after one iteration from identical weights."""
    ours, theirs = Workload(name, "minigrad", device, torch), Workload(name, "torch", device, torch)
    ours.iteration()
    theirs.iteration()
    worst = 0.0
    for model_ours, model_theirs in ((ours.G, theirs.G), (ours.D, theirs.D)):
        reference = dict(model_theirs.named_parameters())
        for pname, p in model_ours.named_parameters():
            a, b = p.numpy(), reference[pname].detach().cpu().numpy()
            worst = max(worst, float(np.abs(a - b).max() / (np.abs(b).max() + 1e-12)))
    return worst


def peak_memory(workload: str, framework: str, device: str, iters: int, peak_at: int) -> dict:
    """Run `iters` iterations in a fresh process (`memory_child`) and summarise its RSS samples."""
    code = ("import sys; sys.path.insert(0, 'benchmarks'); from bench_workloads import memory_child; "
            f"memory_child({workload!r}, {framework!r}, {device!r}, {iters}, {peak_at})")
    out = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    late = [rss for i, rss in result["rss_samples"] if i >= iters // 10]
    result["rss_drift_after_10pct_mib"] = late[-1] - late[0] if late else 0.0
    result["rss_range_after_10pct_mib"] = max(late) - min(late) if late else 0.0
    return result


def memory_child(workload: str, framework: str, device: str, iters: int, peak_at: int) -> None:
    """In a fresh process: peak RSS growth (MiB) over the post-setup baseline after `peak_at`
    iterations and after all `iters`, and RSS sampled 20 times (progress on stderr, JSON on stdout)."""
    torch = try_torch() if framework == "torch" else None
    w = Workload(workload, framework, device, torch)
    base, samples, peak_early = rss_mib(), [], None
    every = max(1, iters // 20)
    for i in range(1, iters + 1):
        w.iteration()
        if i == peak_at:
            peak_early = peak_rss_mib() - base
        if i % every == 0:
            samples.append((i, round(rss_mib(), 2)))
            print(f"   {framework} {workload}: iteration {i}, RSS {samples[-1][1]} MiB", file=sys.stderr, flush=True)
    print(json.dumps({"iterations": iters, "baseline_mib": base, f"peak_growth_mib_at_{peak_at}": peak_early,
                      "peak_growth_mib": peak_rss_mib() - base, "rss_samples": samples}))


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def peak_rss_mib() -> float:
    """This process's RSS high-water mark (VmHWM). Not ru_maxrss: Linux carries the parent's
    high-water mark into a child's ru_maxrss across fork and exec."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024


_AGREEMENT: dict = {}


def time_workload(name: str, threads: int, args, torch, sync) -> dict:
    """One row: the benchmark's minigrad iteration, the Trainer's train_step, torch and the GEMM floor."""
    pin_threads(threads, torch)
    ours = Workload(name, "minigrad", args.device, torch)
    theirs = Workload(name, "torch", args.device, torch) if torch is not None else None
    trainer = make_trainer(name, args.device)
    floor = GemmFloor(name)
    if torch is not None and name not in _AGREEMENT:
        _AGREEMENT[name] = agreement(name, args.device, torch)
        print(f"   workload {name}: parameters after one iteration agree with torch to {_AGREEMENT[name]:.1e} "
              f"(relative); GEMM floor {floor.gflop:.2f} GFLOP per iteration", flush=True)
    iters = (2 if args.quick else 3) if name == "C" else (4 if args.quick else 15)
    contenders = {"minigrad": ours.iteration, "trainer": trainer.train_step,
                  "torch": theirs.iteration if theirs else None, "floor": floor}
    row = compare_many(f"workload {name} ({args.device}, {threads} thr) ms/iter", contenders,
                       iters=iters, warmup=2, rounds=3 if args.quick or name == "C" else 4, sync=sync,
                       extra_ratios=(("minigrad", "floor"), ("trainer", "minigrad")))
    row.update(workload=name, threads=threads, floor_gflop=floor.gflop,
               max_rel_param_diff_after_1_iter=_AGREEMENT.get(name))
    return row


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--workloads", nargs="+", default=["A", "B", "C"], choices=["A", "B", "C"])
    parser.add_argument("--device", default="cpu")
    add_thread_option(parser)
    parser.add_argument("--quick", action="store_true", help="fewer timed iterations and memory iterations")
    parser.add_argument("--memory", action="store_true", help="also measure peak memory in subprocesses")
    parser.add_argument("--memory-only", action="store_true", help="only the memory runs (no timing)")
    parser.add_argument("--memory-iters", type=int, nargs=2, default=None, metavar=("TOY", "DCGAN"),
                        help="iterations of the memory runs for A/B and for C (default 10000 200; --quick 200 20)")
    args = parser.parse_args()
    print_machine()
    torch = try_torch()
    sync = lambda: None
    if args.device == "cuda":
        cp = mg.backend.xp_for("cuda")
        sync = lambda: (cp.cuda.Stream.null.synchronize(), torch and torch.cuda.synchronize())
    rows = []
    args.memory = args.memory or args.memory_only
    for name in args.workloads:
        for threads in ([] if args.memory_only else args.threads):
            rows.append(time_workload(name, threads, args, torch, sync))
        if args.memory:
            toy_iters, dcgan_iters = args.memory_iters or ((200, 20) if args.quick else (10_000, 200))
            mem_iters = dcgan_iters if name == "C" else toy_iters
            peak_at = min(mem_iters, 25 if name == "C" else 200)
            memory = {"memory_minigrad": peak_memory(name, "minigrad", args.device, mem_iters, peak_at)}
            if torch is not None:
                memory["memory_torch"] = peak_memory(name, "torch", args.device, peak_at, peak_at)
                memory["memory_ratio_at_same_iters"] = (memory["memory_minigrad"][f"peak_growth_mib_at_{peak_at}"]
                                                        / max(memory["memory_torch"]["peak_growth_mib"], 1e-9))
            print(f"   memory {name}: " + json.dumps({k: ({kk: vv for kk, vv in v.items() if kk != "rss_samples"}
                                                        if isinstance(v, dict) else v) for k, v in memory.items()}),
                  flush=True)
            rows.append({"case": f"workload {name} memory", "workload": name, **memory})
    save(f"workloads_{args.device}" + ("_memory" if args.memory_only else ""), rows)


if __name__ == "__main__":
    main()
