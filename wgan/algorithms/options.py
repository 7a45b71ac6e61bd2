"""Options shared by several algorithms: one `Option` each, put in the ``options`` of every algorithm that
reads it (`wgan.algorithms.base`).

==============  ======================================  =====================================
option          read by                                 meaning
==============  ======================================  =====================================
``gp_lambda``   wgan-gp, wgan-lp, dragan                weight λ of the gradient penalty
``penalty``     wgan-gp, wgan-lp                        two-sided (WGAN-GP) or one-sided (WGAN-LP)
``gp_eps``      wgan-gp, wgan-lp, dragan                added inside the norm's square root
``clip``        wgan-clip                               clipping value c of every critic parameter
``clip_placement`` wgan-clip                            after (the paper) or before (official code)
==============  ======================================  =====================================

Each algorithm's default may differ from the option's (``defaults`` and ``presets`` of the algorithm:
wgan-gp's toy preset sets λ 0.1, dragan keeps 10).

These five were top-level `TrainConfig` fields before they became options, and keep that spelling
everywhere users wrote it (`TOP_LEVEL`): ``TrainConfig(gp_lambda=1.0)``, ``--gp-lambda 1``, a sweep's
``gp_lambda = [...]``, and ``config.json``, which writes each option the run's algorithm reads under its own
name. A new shared option needs none of this: it is an `Option` in the algorithms that read it, set by its
flag or ``algorithm_options``.
"""
from __future__ import annotations

from wgan.algorithms.base import Option

__all__ = ["GP_LAMBDA", "PENALTY", "GP_EPS", "CLIP", "CLIP_PLACEMENT", "TOP_LEVEL"]

GP_LAMBDA = Option("gp_lambda", 10.0, "weight lambda of the gradient penalty", minimum=0.0, metavar="LAMBDA",
                   unused=0.0)
PENALTY = Option("penalty", "two-sided", "two-sided (|| grad D || - 1)^2 as WGAN-GP, or one-sided "
                 "max(0, || grad D || - 1)^2 as WGAN-LP", type=str, choices=("two-sided", "one-sided"),
                 unused="none")
GP_EPS = Option("gp_eps", 1e-12, "added inside the gradient norm's square root", minimum=0.0, positive=True,
                metavar="EPS", unused=1e-12)
CLIP = Option("clip", 0.01, "clip every critic parameter to [-c, c]", minimum=0.0, metavar="C", unused=0.0)
CLIP_PLACEMENT = Option("clip_placement", "after", "clip after each critic step (the paper) or before it "
                        "(the official code)", type=str, choices=("after", "before"),
                        unused="after")

#: The options `TrainConfig` also takes at the top level, under the names they had as fields.
TOP_LEVEL: tuple[Option, ...] = (GP_LAMBDA, PENALTY, GP_EPS, CLIP, CLIP_PLACEMENT)
