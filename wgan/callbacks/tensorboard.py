"""TensorBoard logs of a run (the optional ``tensorboard`` extra: ``pip install -e ".[tensorboard]"``).

`TensorBoardLogger` is a `Trainer` callback writing, with tensorboardX's ``SummaryWriter``, into
``RUN/tensorboard/``:

- every logged row's numbers as scalars: the training terms under ``train/`` (``train/w_estimate``,
  ``train/penalty``, ``train/grad_norm``, ``train/d_loss``, ``train/g_loss``) and the evaluation scores under
  ``eval/`` (``eval/w1``, ``eval/modes``, ``eval/hq_fraction``, ``eval/fid``, ...), at the generator step;
- at each evaluation the samples figure as the image ``samples`` (for 2-D data the samples over the critic's
  contours, for images the sample grid).

View with ``tensorboard --logdir RUN/tensorboard``. On a resumed run the events after the checkpoint's step
are purged, so the curves read as one run.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from wgan.metrics import METRICS

__all__ = ["TensorBoardLogger", "TENSORBOARD_DIR", "EVAL_KEYS"]

TENSORBOARD_DIR = "tensorboard"
#: Row keys logged under ``eval/`` (`wgan.metrics.METRICS`' evaluated ones); every other number under ``train/``.
EVAL_KEYS = tuple(key for key, entry in METRICS.items() if entry.evaluated)


def _writer_class():
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise ImportError("--tensorboard needs tensorboardX: pip install -e \".[tensorboard]\" "
                          "(or pip install tensorboardX)") from None
    return SummaryWriter


class TensorBoardLogger:
    """A `Trainer` callback writing scalars and sample figures to ``log_dir`` (default ``RUN/tensorboard``).

    Raises ImportError with the install command when tensorboardX is missing, ValueError when there is
    neither a `log_dir` nor a run folder.
    """

    def __init__(self, log_dir: str | Path | None = None):
        self.writer_class = _writer_class()
        self.log_dir = None if log_dir is None else Path(log_dir)
        self.writer = None

    def on_fit_start(self, trainer) -> None:
        if self.log_dir is None:
            if trainer.out_dir is None:
                raise ValueError("TensorBoardLogger: the config has no out_dir; give log_dir")
            self.log_dir = trainer.out_dir / TENSORBOARD_DIR
        # a resumed run rewrites the steps after its checkpoint: purge them from the old event files. The
        # file name holds the second it was opened: the suffix keeps a resume within that second from
        # overwriting the earlier file, and sorts the files in step order.
        self.writer = self.writer_class(logdir=str(self.log_dir), purge_step=trainer.step + 1 if trainer.step else None,
                                        flush_secs=30, filename_suffix=f".step{trainer.step:010d}")

    def on_step(self, trainer, step: int, metrics: dict) -> None:
        if self.writer is None or not trainer.logs(step):  # the rows the run's metrics files keep
            return
        for key, value in metrics.items():
            if key in ("step", "time") or isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
                continue
            if math.isfinite(value):
                self.writer.add_scalar(("eval/" if key in EVAL_KEYS else "train/") + key, float(value), step)

    def on_eval(self, trainer, step: int, metrics: dict) -> None:
        if self.writer is None:
            return
        from wgan.callbacks.figures import figure_data, figure_title
        from wgan.plots import image_grid_pixels, toy_pixels

        figure = figure_data(trainer)
        if "images" in figure:
            pixels = image_grid_pixels(figure["images"], nrow=8)
            self.writer.add_image("samples", pixels, step, dataformats="CHW")
        else:
            self.writer.add_image("samples", toy_pixels(figure, figure_title(trainer, metrics)), step,
                                  dataformats="HWC")

    def on_fit_end(self, trainer) -> None:
        self.close()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None
