"""Callbacks: what a `wgan.train.Trainer` does around its training steps, each in its own module. A callback of
your own is the same kind of object, passed as ``Trainer(config, callbacks=[...])``.

A callback has any of these hooks; `Trainer.fit` calls them in this order (a plain function is an ``on_step``)::

    on_fit_start(trainer)                  before the first step of fit()
    for each step:
        on_measure(trainer, step, row)     a logged step: add measurements to the row before anything reads it
        on_eval(trainer, step, row)        an evaluation step, its row complete (``trainer.evaluates(step)``)
        on_log(trainer, step, row)         a logged step, after the row joined ``trainer.history``
        on_step(trainer, step, row)        every step
    on_fit_stop(trainer)                   the loop stopped: its last step done, or Ctrl-C (files a stopped run keeps)
    on_fit_end(trainer)                    fit() returns (not after Ctrl-C, which raises KeyboardInterrupt)

``row`` is the step's dict: ``step``, the training terms (``d_loss``, ``w_estimate``, ...; on a device, 0-d device
arrays on steps that are not logged), ``time``, and what ``on_measure`` hooks add. A logged step is one of every
``log_every``, an evaluation step or the last one (``trainer.logs(step)``).

`Trainer.callbacks` holds `standard_callbacks` first, then the user's, in hook order:

==================  ==============  ====================================================================
class               module          what it does
==================  ==============  ====================================================================
`Checkpoints`       checkpoints     the run folder: config.json, metrics.jsonl and .csv, checkpoint.npz
`Evaluation`        evaluation      ground-truth metrics at evaluation steps (and of the raw generator)
`HeldOutEstimate`   heldout         the critic's W estimate on the fixed held-out batch
`Figures`           figures         samples figures, evaluation snapshots, metrics.png
`ProgressBar`       progress        the tqdm bar
`TensorBoardLogger` tensorboard     TensorBoard scalars and figures (opt-in: ``--tensorboard``)
==================  ==============  ====================================================================

A callback of your own, e.g. one that measures something at every logged step and prints it at evaluations::

    class CriticAtOrigin(Callback):
        def on_measure(self, trainer, step, row):        # the key lands in history, metrics.jsonl and .csv
            row["critic_at_origin"] = float(trainer.critic_values(np.zeros((1, 2), np.float32))[0])

        def on_eval(self, trainer, step, row):
            print(step, row["critic_at_origin"], row["w1"])

    Trainer(config, callbacks=[CriticAtOrigin()]).fit()
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from wgan.callbacks.checkpoints import Checkpoints
from wgan.callbacks.evaluation import Evaluation
from wgan.callbacks.figures import Figures
from wgan.callbacks.heldout import HeldOutEstimate
from wgan.callbacks.progress import ProgressBar

if TYPE_CHECKING:
    from wgan.train import Trainer

__all__ = ["Callback", "Checkpoints", "Evaluation", "Figures", "HeldOutEstimate", "ProgressBar",
           "standard_callbacks", "HOOKS"]

#: The hooks, in the order `Trainer.fit` calls them.
HOOKS = ("on_fit_start", "on_measure", "on_eval", "on_log", "on_step", "on_fit_stop", "on_fit_end")


class Callback:
    """A base whose hooks do nothing (optional: the trainer calls whichever hooks an object has)."""

    def on_fit_start(self, trainer: Trainer) -> None:
        """Before the first step of ``fit()``."""

    def on_measure(self, trainer: Trainer, step: int, row: dict) -> None:
        """A logged step: add measurements to `row`."""

    def on_eval(self, trainer: Trainer, step: int, row: dict) -> None:
        """An evaluation step, `row` complete."""

    def on_log(self, trainer: Trainer, step: int, row: dict) -> None:
        """A logged step, `row` appended to ``trainer.history``."""

    def on_step(self, trainer: Trainer, step: int, row: dict) -> None:
        """Every step."""

    def on_fit_stop(self, trainer: Trainer) -> None:
        """The loop stopped (its last step done, or Ctrl-C)."""

    def on_fit_end(self, trainer: Trainer) -> None:
        """``fit()`` returns."""


def standard_callbacks(progress: bool = False) -> list:
    """What every run does, in hook order: `Checkpoints`, `Evaluation`, `HeldOutEstimate`, `Figures` and, with
    `progress`, a `ProgressBar` (each does nothing where the config does not ask for it)."""
    return [Checkpoints(), Evaluation(), HeldOutEstimate(), Figures(), ProgressBar(enabled=progress)]
