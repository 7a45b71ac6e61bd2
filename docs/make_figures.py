"""Render the figures the docs show (run from the repository root: python3 docs/make_figures.py).

docs/figures/penalty_double_backward.png: the graph behind the WGAN-GP gradient penalty of a
tiny relu critic, drawn by minigrad.viz: the forward ops and, recorded by
``grad(..., create_graph=True)``, the backward ops that compute the input gradient.
"""
from pathlib import Path

import numpy as np

import minigrad
from minigrad import viz

FIGURES = Path(__file__).resolve().parent / "figures"


def penalty_graph() -> tuple[list[minigrad.Tensor], dict[int, str]]:
    """The critic output D(x) and the penalty (‖∇ₓ D(x)‖ − 1)², averaged over 3 points, of a 2-4-1 relu critic."""
    minigrad.manual_seed(0)
    w1 = minigrad.randn(4, 2, dtype=np.float64, requires_grad=True)
    b1 = minigrad.zeros(4, dtype=np.float64, requires_grad=True)
    w2 = minigrad.randn(1, 4, dtype=np.float64, requires_grad=True)
    b2 = minigrad.zeros(1, dtype=np.float64, requires_grad=True)
    x = minigrad.randn(3, 2, dtype=np.float64, requires_grad=True)
    d = minigrad.linear(minigrad.relu(minigrad.linear(x, w1, b1)), w2, b2)
    g, = minigrad.grad(d.sum(), x, create_graph=True)
    penalty = ((minigrad.sqrt((g * g).sum(axis=1)) - 1) ** 2).mean()
    names = {id(w1): "w1", id(b1): "b1", id(w2): "w2", id(b2): "b2", id(x): "x", id(d): "D(x)", id(g): "grad_x D",
             id(penalty): "penalty"}
    return [d, penalty], names


def main() -> None:
    FIGURES.mkdir(exist_ok=True)
    roots, names = penalty_graph()
    path = viz.render(roots, FIGURES / "penalty_double_backward.png", format="png", names=names)
    print("wrote", path)


if __name__ == "__main__":
    main()
