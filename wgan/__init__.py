"""wgan: Wasserstein GANs (weight clipping, gradient penalty, spectral norm) on minigrad.

The Python API in a few lines::

    from wgan import TrainConfig, Trainer
    trainer = Trainer(TrainConfig(dataset="8gaussians", algorithm="wgan-gp", preset="toy", steps=2000))
    trainer.fit()

See `wgan.config` for every option, `wgan.algorithms` for the algorithms (one file each, with its paper's
defaults, and how to add your own), and `python -m wgan --help` for the CLI.
"""
from wgan.config import ALGORITHMS, ConfigError, ResolvedConfig, TrainConfig
from wgan.train import Trainer, TrainingDiverged

__all__ = ["ALGORITHMS", "ConfigError", "ResolvedConfig", "TrainConfig", "Trainer", "TrainingDiverged"]
__version__ = "0.1.0"
