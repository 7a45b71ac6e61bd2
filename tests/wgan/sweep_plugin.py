"""A plug-in algorithm for the sweep tests: importable as ``tests.wgan.sweep_plugin:HalfPenaltyGP`` on the
workers (their PYTHONPATH is the repository root), never registered in the client's process."""
from wgan.algorithms.wgan_gp import WGANGP


class HalfPenaltyGP(WGANGP):
    """WGAN-GP whose default penalty weights are half WGAN-GP's (lambda 5; 0.05 with the toy preset)."""

    name = "half-penalty-gp"
    defaults = dict(WGANGP.defaults, gp_lambda=5.0)
    presets = {"toy": dict(WGANGP.presets["toy"], gp_lambda=0.05)}
