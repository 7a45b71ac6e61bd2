"""The GEMM floor of workloads A, B and C: every matrix product a minimal hand-derived iteration needs.

A layer is a linear map applied at `rows` positions per sample: a Linear layer has 1 position, a
4x4 stride-2 convolution one per output pixel (its im2col GEMM), a transposed convolution one
per *input* pixel. With batch b, fan-in i and fan-out o, the layer's forward is the GEMM
(b·rows, i) @ (i, o); the gradient of its input is (b·rows, o) @ (o, i); the gradient of its weight
(o, b·rows) @ (b·rows, i). Every GEMM below is one of those three.

One critic step with a gradient penalty (as workloads A and C; B has no penalty):

  G forward on z (no graph)                 forward of every G layer, batch b
  D forward on real and fake                forward of every D layer, batch 2b
  D forward on x^                           forward of every D layer, batch b
  g = dD(x^)/dx^ (create_graph)             input gradient of every D layer, batch b
  backward of the loss on real and fake     weight gradient of every D layer; input gradient of
                                            every D layer but the first, batch 2b
  backward of the penalty through g         the graph of g is y_l = u_l @ W_l per layer; its
                                            backward needs the weight gradient u_lᵀ @ ḡ_l of every
                                            layer and the gradient ḡ_l @ W_lᵀ of every u_l but the
                                            outermost (the last layer's u is a constant)

Piecewise-linear activations (ReLU, LeakyReLU) have a zero second derivative, so nothing
flows back through the forward graph of x^: no more GEMMs. The generator step is G forward,
D forward, D's input gradients (no D weight gradients), G's weight gradients and its input
gradients but the first layer's, all at batch b. Elementwise work, im2col/col2im, bias
gradients and the optimizer are not part of the floor: it is what the BLAS alone would take.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Layer:
    rows: int  # GEMM rows per sample: 1 for Linear, output pixels for a conv, input pixels for a conv-transpose
    fan_in: int
    fan_out: int


def mlp(dims: tuple) -> list[Layer]:
    return [Layer(1, i, o) for i, o in zip(dims, dims[1:])]


#: (generator, critic, batch, penalty) per workload; shapes as benchmarks/bench_workloads.py
WORKLOADS = {
    "A": (mlp((2, 512, 512, 512, 2)), mlp((2, 512, 512, 512, 1)), 256, True),
    "B": (mlp((2, 512, 512, 512, 2)), mlp((2, 512, 512, 512, 1)), 256, False),
    "C": ([Layer(1, 128, 4096), Layer(16, 256, 128 * 16), Layer(64, 128, 64 * 16), Layer(256, 64, 1 * 16)],
          [Layer(256, 1 * 16, 64), Layer(64, 64 * 16, 128), Layer(16, 128 * 16, 256), Layer(1, 4096, 1)],
          64, True),
}
N_CRITIC = 5


def networks(workload: str, hidden: tuple[int, ...] | None = None, batch: int | None = None) -> tuple:
    """(generator, critic, batch, penalty) of workload "A", "B" or "C"; A and B's MLPs with the ``hidden``
    widths (default 512, 512, 512) and any workload at another ``batch`` if given."""
    g, d, b, penalty = WORKLOADS[workload]
    if hidden is not None:
        if workload == "C":
            raise ValueError("floor: workload C's networks are fixed (DCGAN 32x32); hidden widths are for A and B")
        g, d = mlp((2, *hidden, 2)), mlp((2, *hidden, 1))
    return g, d, batch or b, penalty


def _forward(net, b):
    return [(b * layer.rows, layer.fan_in, layer.fan_out) for layer in net]


def _input_grads(net, b, skip_first=False):
    return [(b * layer.rows, layer.fan_out, layer.fan_in) for layer in net[1 if skip_first else 0:]]


def _weight_grads(net, b):
    return [(layer.fan_out, b * layer.rows, layer.fan_in) for layer in net]


def _double_backward(net, b):
    """Backward of the input-gradient graph: weight gradients, and ḡ_l @ W_lᵀ for all but the outermost."""
    return _weight_grads(net, b) + [(b * layer.rows, layer.fan_in, layer.fan_out) for layer in net[:-1]]


def iteration_gemms(workload: str, hidden: tuple[int, ...] | None = None,
                    batch: int | None = None) -> list[tuple[int, int, int]]:
    """Every (m, k, n) GEMM of one iteration (N_CRITIC critic steps + 1 generator step)."""
    g, d, b, penalty = networks(workload, hidden, batch)
    critic = _forward(g, b) + _forward(d, 2 * b) + _weight_grads(d, 2 * b) + _input_grads(d, 2 * b, skip_first=True)
    if penalty:
        critic += _forward(d, b) + _input_grads(d, b) + _double_backward(d, b)
    generator = (_forward(g, b) + _forward(d, b) + _input_grads(d, b) + _weight_grads(g, b)
                 + _input_grads(g, b, skip_first=True))
    return critic * N_CRITIC + generator


def gflop(workload: str, hidden: tuple[int, ...] | None = None, batch: int | None = None) -> float:
    return sum(2.0 * m * k * n for m, k, n in iteration_gemms(workload, hidden, batch)) / 1e9


class GemmFloor:
    """Runs the workload's GEMMs in plain NumPy on preallocated float32 operands (`np.matmul(out=)`)."""

    def __init__(self, workload: str, seed: int = 0, hidden: tuple[int, ...] | None = None, batch: int | None = None):
        rng = np.random.default_rng(seed)
        self.gemms = iteration_gemms(workload, hidden, batch)
        self.operands = {}
        for m, k, n in set(self.gemms):
            self.operands[(m, k, n)] = (rng.standard_normal((m, k), dtype=np.float32),
                                        rng.standard_normal((k, n), dtype=np.float32),
                                        np.empty((m, n), np.float32))
        self.gflop = sum(2.0 * m * k * n for m, k, n in self.gemms) / 1e9

    def __call__(self) -> None:
        operands = self.operands
        for shape in self.gemms:
            a, b, out = operands[shape]
            np.matmul(a, b, out=out)


if __name__ == "__main__":
    for name in WORKLOADS:
        floor = GemmFloor(name)
        floor()
        start = time.perf_counter()
        floor()
        print(f"workload {name}: {len(floor.gemms)} GEMMs, {floor.gflop:.2f} GFLOP, "
              f"{1e3 * (time.perf_counter() - start):.1f} ms")
