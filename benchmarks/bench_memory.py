"""Issue 2 target: no memory growth over 10,000 gradient-penalty iterations.

Runs forward, input gradient with create_graph, penalty, backward into the weights and an Adam
step on the 2→512→512→512→1 ReLU MLP at batch 256, sampling the process's RSS and the number of
live minigrad Functions and Tensors every 1,000 iterations.

Usage: python3 benchmarks/bench_memory.py [--iters 10000]
"""
from __future__ import annotations

import argparse
import gc
import resource

import numpy as np

import minigrad as mg
import minigrad.nn as nn
from minigrad.autograd import Function
from harness import save


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def live_objects() -> int:
    return sum(isinstance(o, (Function, mg.Tensor)) for o in gc.get_objects())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--iters", type=int, default=10_000)
    args = parser.parse_args()
    mg.manual_seed(0)
    critic = nn.Sequential(nn.Linear(2, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                           nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 1))
    opt = mg.optim.Adam(critic.parameters(), lr=1e-4, betas=(0.5, 0.9))
    data = np.random.default_rng(0).standard_normal((256, 2)).astype(np.float32)
    samples = []
    for i in range(1, args.iters + 1):
        x = mg.tensor(data, requires_grad=True)
        g, = mg.grad(critic(x).sum(), x, create_graph=True)
        penalty = (((g * g).sum(axis=1) + 1e-12).sqrt() - 1).pow(2).mean()
        opt.zero_grad()
        penalty.backward()
        opt.step()
        if i % 1000 == 0 or i == 100:
            samples.append({"iteration": i, "rss_mib": round(rss_mib(), 2),
                            "live_functions_and_tensors": live_objects()})
            print(samples[-1], flush=True)
    after_warmup = [s for s in samples if s["iteration"] >= 1000]
    row = {"case": f"{args.iters} gradient-penalty iterations, MLP 2-512-512-512-1 b256",
           "rss_growth_after_1000_iters_mib": after_warmup[-1]["rss_mib"] - after_warmup[0]["rss_mib"],
           "live_objects_first_last": [after_warmup[0]["live_functions_and_tensors"],
                                       after_warmup[-1]["live_functions_and_tensors"]],
           "samples": samples}
    print(f"RSS growth from iteration 1000 to {args.iters}: {row['rss_growth_after_1000_iters_mib']:.2f} MiB; "
          f"live Functions+Tensors {row['live_objects_first_last']}")
    save("memory", [row])


if __name__ == "__main__":
    main()
