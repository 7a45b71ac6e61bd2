"""`Evaluation`: the ground-truth metrics of the generator at evaluation steps, added to the step's row
(`Trainer.evaluate`: exact W1 and mode coverage for 2-D data, the digit scores for digit images); with
``ema_decay`` and ``eval_raw`` also those of the trained (raw) generator, as ``raw_<key>``. When a fit starts on
image data with a run folder, it records how the image scores are computed, or why not
(``scores_protocol.json``)."""
from __future__ import annotations

from wgan import scores


class Evaluation:
    """Fills an evaluation step's row with `Trainer.evaluate`'s metrics (and the raw generator's)."""

    def on_fit_start(self, trainer) -> None:
        if trainer.out_dir is None or trainer.dataset.kind != "image" or not trainer.config.eval_every:
            return
        scorer = trainer.image_scorer()
        if scorer is None:
            reason = scores.scores_unavailable_reason(trainer.dataset) or "no fixed image array"
            scores.write_protocol(trainer.out_dir, {"computed": False, "reason": reason})
        else:
            scorer.write_protocol(trainer.out_dir)

    def on_measure(self, trainer, step: int, row: dict) -> None:
        if not trainer.evaluates(step):
            return
        row.update(trainer.evaluate())
        if trainer.ema is not None and trainer.config.eval_raw:
            row.update({f"raw_{key}": value for key, value in trainer.evaluate(raw=True).items()})
