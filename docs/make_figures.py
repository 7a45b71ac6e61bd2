"""Render the graphs the chapters show (run from the repository root: python3 docs/make_figures.py).

Each function below builds one graph and returns what `minigrad.viz.render` draws; the chapters
call the same functions, so a figure and the numbers printed beside it come from one place.

- docs/figures/values_and_grads.png (Chapter 0, section 4): L = tanh(a b + c) with every
  tensor's value and gradient, as micrograd draws its graphs.
- docs/figures/grad_of_grad.png (Chapter 0, section 5): the forward graph of L and, framed
  apart, the graph that ``grad(L, a, create_graph=True)`` records while it walks it backward.
- docs/figures/penalty_tanh.png (Chapter 0, section 6): the WGAN-GP penalty of a 2-3-1 tanh
  critic on 2 points: the forward pass, the input gradient's graph, and the penalty on it.
- docs/figures/penalty_double_backward.png (internals.md, section 7): the same for a 2-4-1
  relu critic on 3 points, whose input gradient never reaches x.

Needs Graphviz's ``dot`` (``apt-get install graphviz``); without it this says so and exits.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np

import minigrad
from minigrad import viz

FIGURES = Path(__file__).resolve().parent / "figures"


def scalar_graph() -> dict[str, Any]:
    """L = tanh(a b + c) at a = 2, b = -0.5, c = 1.5, with the gradient of L for every tensor."""
    a, b, c = (minigrad.tensor(v, dtype=minigrad.float64, requires_grad=True) for v in (2.0, -0.5, 1.5))
    e = a * b
    d = e + c
    L = minigrad.tanh(d)
    tensors = {"a": a, "b": b, "c": c, "e = a b": e, "d = e + c": d}
    grads = minigrad.grad(L, list(tensors.values()), retain_graph=True)
    names = {id(t): name for name, t in tensors.items()} | {id(L): "L = tanh(d)"}
    return {"tensors": L, "names": names, "show_values": True, "show_shapes": False, "rankdir": "TB",
            "grads": {id(t): g for t, g in zip(tensors.values(), grads)} | {id(L): minigrad.ones_like(L)}}


def grad_of_grad_graph() -> dict[str, Any]:
    """L = tanh(a b + c) and dL/da = (1 - L²) b, taken with create_graph=True: two graphs, framed apart."""
    a, b, c = (minigrad.tensor(v, dtype=minigrad.float64, requires_grad=True) for v in (2.0, -0.5, 1.5))
    L = minigrad.tanh(a * b + c)
    dL_da, = minigrad.grad(L, a, create_graph=True)
    names = {id(a): "a", id(b): "b", id(c): "c", id(L): "L", id(dL_da): "dL/da"}
    return {"tensors": dL_da, "names": names, "show_values": True, "show_shapes": False, "rankdir": "TB",
            "groups": {"forward: L = tanh(a b + c)": L, "recorded by grad(L, a, create_graph=True)": dL_da}}


def critic(seed: int = 0, hidden: int = 3, points: int = 2, random_bias: bool = True) -> dict[str, minigrad.Tensor]:
    """A 2-`hidden`-1 critic's weights W1, b1, w2, b2 (float64) and `points` points x in 2-d."""
    minigrad.manual_seed(seed)
    bias = minigrad.randn if random_bias else minigrad.zeros
    return {"W1": minigrad.randn(hidden, 2, dtype=np.float64, requires_grad=True),
            "b1": bias(hidden, dtype=np.float64, requires_grad=True),
            "w2": minigrad.randn(1, hidden, dtype=np.float64, requires_grad=True),
            "b2": minigrad.zeros(1, dtype=np.float64, requires_grad=True),
            "x": minigrad.randn(points, 2, dtype=np.float64, requires_grad=True)}


def penalty_figure(p: dict[str, minigrad.Tensor], activation: Any) -> dict[str, Any]:
    """D(x) = w2 · activation(W1 x + b1) + b2 and the WGAN-GP penalty mean((‖∇ₓD‖ - 1)²) on the points x:
    the forward pass, the input gradient's graph and the penalty, framed apart, top to bottom."""
    d = minigrad.linear(activation(minigrad.linear(p["x"], p["W1"], p["b1"])), p["w2"], p["b2"])
    g, = minigrad.grad(d.sum(), p["x"], create_graph=True)
    penalty = ((minigrad.sqrt((g * g).sum(axis=1)) - 1) ** 2).mean()
    names = {id(t): name for name, t in p.items()} | {id(d): "D(x)", id(g): "grad_x D", id(penalty): "penalty"}
    return {"tensors": [d, penalty], "names": names, "rankdir": "TB", "compact": True,
            "groups": {"forward: D(x)": d, "recorded by grad(create_graph=True)": g, "the penalty": penalty}}


def penalty_tanh_graph() -> dict[str, Any]:
    """The penalty of a 2-3-1 tanh critic on 2 points (Chapter 0)."""
    return penalty_figure(critic(), minigrad.tanh)


def penalty_relu_graph() -> dict[str, Any]:
    """The penalty of a 2-4-1 relu critic with zero biases on 3 points (internals.md)."""
    return penalty_figure(critic(hidden=4, points=3, random_bias=False), minigrad.relu)


FIGURE_GRAPHS = {"values_and_grads": scalar_graph, "grad_of_grad": grad_of_grad_graph,
                 "penalty_tanh": penalty_tanh_graph, "penalty_double_backward": penalty_relu_graph}


def main() -> None:
    if shutil.which("dot") is None:
        sys.exit("make_figures: Graphviz's `dot` is not installed (apt-get install graphviz, or brew install "
                 "graphviz); the committed figures in docs/figures/ are unchanged")
    FIGURES.mkdir(exist_ok=True)
    for name, build in FIGURE_GRAPHS.items():
        graph = build()
        path = viz.render(graph.pop("tensors"), FIGURES / f"{name}.png", **graph)
        print("wrote", path)


if __name__ == "__main__":
    main()
