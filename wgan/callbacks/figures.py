"""`Figures`: what a run draws. At each evaluation its snapshot (`wgan.snapshots`: the figure's arrays, what
``wgan plot --animate`` replays) and, at every ``plot_every``-th evaluation and the last, ``samples_<step>.png``
(the real and generated points over the critic's contours, or an image grid, titled with the step and the
scores); when the run stops, ``metrics.png`` (`wgan.plots.plot_metrics`). Without ``out_dir`` it draws nothing.

`figure_data`, `figure_title` and `plot_samples` draw the samples figure of a trainer's current step; the
TensorBoard logger shows the same figure.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from wgan import run_folder, snapshots


def figure_data(trainer) -> dict:
    """The arrays of the trainer's current samples figure, from a generator seeded by (seed, step): for 2-D data
    ``real`` and ``fake`` (512, 2), the critic's value ``critic`` (64, 64) on ``axis`` (64,), the half-width
    ``bounds`` of the square and ``n_modes`` (0 when not a mixture); for images ``images`` (64, C, H, W) in
    [-1, 1]."""
    from wgan.plots import critic_grid

    rng = np.random.default_rng([trainer.config.seed, 3, trainer.step])
    if trainer.dataset.kind != "2d":
        return {"images": trainer.sample(64, rng)}
    real = trainer.dataset.reference_sample(512, rng)
    bounds = max(3.0, 1.25 * float(np.abs(real).max()))
    fake = trainer.sample(512, rng)
    axis, values = critic_grid(trainer.critic_values, bounds, grid=64)
    centers = getattr(trainer.dataset, "centers", None)
    return {"real": real, "fake": fake, "axis": axis, "critic": values, "bounds": bounds,
            "n_modes": 0 if centers is None else len(centers)}


def figure_title(trainer, metrics: dict | None = None) -> str:
    """"<algorithm> on <dataset> · step <step>/<steps>" and, on a second line, the scores in `metrics`."""
    from wgan.plots import describe_scores

    centers = getattr(trainer.dataset, "centers", None)
    scores = describe_scores(metrics or {}, n_modes=None if centers is None else len(centers))
    head = f"{trainer.config.algorithm} on {trainer.config.dataset} · step {trainer.step}/{trainer.config.steps}"
    return head + (f"\n{scores}" if scores else "")


def plot_samples(trainer, path: str | Path, metrics: dict | None = None, figure: dict | None = None) -> None:
    """The samples figure at `path`, titled with the step and the scores in `metrics`; `figure` is
    `figure_data`'s dict (computed when None)."""
    from wgan import plots

    figure = figure if figure is not None else figure_data(trainer)
    title = figure_title(trainer, metrics)
    if "images" in figure:
        plots.plot_image_grid(figure["images"], path, nrow=8, title=title.replace("\n", " · "))
    else:
        plots.plot_toy(figure["real"], figure["fake"], path, bounds=figure["bounds"], title=title,
                       values=(figure["axis"], figure["critic"]))


class Figures:
    """Snapshots and samples figures at evaluations, metrics.png when the run stops."""

    def __init__(self):
        self.evaluations = 0  # in the running fit: the samples figure is drawn at every plot_every-th

    def on_fit_start(self, trainer) -> None:
        self.evaluations = 0
        if trainer.out_dir is not None:
            snapshots.drop_snapshots_after(trainer.out_dir, trainer.step)  # a resumed run redoes them

    def on_eval(self, trainer, step: int, row: dict) -> None:
        if trainer.out_dir is not None:
            figure = figure_data(trainer)
            snapshots.save_snapshot(trainer.out_dir, step, figure)
            if self.evaluations % trainer.config.plot_every == 0 or step >= trainer.target_step:
                plot_samples(trainer, run_folder.samples_figure(trainer.out_dir, step), row, figure)
        self.evaluations += 1

    def on_fit_stop(self, trainer) -> None:
        from wgan import plots

        if trainer.out_dir is not None and trainer.history:
            plots.plot_metrics(trainer.history, trainer.out_dir / run_folder.METRICS_FIGURE,
                               title=f"{trainer.config.algorithm} on {trainer.config.dataset}",
                               kind=trainer.dataset.kind)
