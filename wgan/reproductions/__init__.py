"""Reproductions of the papers' experiments, in one place: ``python -m wgan reproduce NAME``.

Each function ``fn(out_dir, quick=False, ...)`` writes its figure(s) and a JSON of numbers under
`out_dir` and returns a short dict of the headline numbers. ``quick=True`` runs a small version
(for tests and smoke runs); its figures are not meaningful.

- `lines` (`wgan.reproductions.lines`): WGAN's Example 1, W against JS on parallel lines;
- `fig1a`, `fig1b` (`wgan.reproductions.wgan_gp_figure1`): WGAN-GP's Figure 1;
- `correlation` (`wgan.reproductions.correlation`): the critic's estimate against the exact W1;
- `architectures` (`wgan.reproductions.architectures`): WGAN-GP's architecture table (Table 2) on digits;
- `robustness` (`wgan.reproductions.robustness`): WGAN-GP's random-architecture robustness table, as a sweep;
- `optimizers`, `batchnorm-critic`, `clipping-window` (`wgan.reproductions.optimizers`, `.batchnorm_critic`,
  `.clipping_window`): the reading group's claims 5.1, 5.4 and 5.2 (``shared/seeds/002``), as sweeps.

`REPRODUCTIONS` maps each name to its function; a new reproduction is a module here plus one entry.
"""
from __future__ import annotations

from collections.abc import Callable

from wgan.reproductions.architectures import architectures
from wgan.reproductions.batchnorm_critic import batchnorm_critic
from wgan.reproductions.clipping_window import clipping_window
from wgan.reproductions.correlation import correlation
from wgan.reproductions.lines import lines
from wgan.reproductions.optimizers import optimizers
from wgan.reproductions.robustness import robustness
from wgan.reproductions.wgan_gp_figure1 import (FIG1A_DATASETS, FIG1B_SETTINGS, PAPER_GP_LAMBDA, fig1a, fig1b,
                                                layer_gradient_norms, train_fixed_generator_critic)

__all__ = ["REPRODUCTIONS", "architectures", "lines", "fig1a", "fig1b", "correlation", "robustness", "optimizers",
           "batchnorm_critic", "clipping_window",
           "layer_gradient_norms",
           "train_fixed_generator_critic", "FIG1A_DATASETS", "FIG1B_SETTINGS", "PAPER_GP_LAMBDA"]

#: name -> function(out_dir, quick=False) -> dict of the numbers it measured (figures are written to out_dir).
REPRODUCTIONS: dict[str, Callable[..., dict]] = {
    "lines": lines,
    "fig1a": fig1a,
    "fig1b": fig1b,
    "correlation": correlation,
    "architectures": architectures,
    "robustness": robustness,
    "optimizers": optimizers,
    "batchnorm-critic": batchnorm_critic,
    "clipping-window": clipping_window,
}
