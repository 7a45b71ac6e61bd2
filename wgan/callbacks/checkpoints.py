"""`Checkpoints`: the run folder's files (`wgan.run_folder`): ``config.json`` when a fit starts, each logged row
appended to ``metrics.jsonl``, and ``checkpoint.npz`` with ``metrics.csv`` every ``checkpoint_every`` steps and
when the run stops (also on Ctrl-C). Without ``out_dir`` it writes nothing."""
from __future__ import annotations

from wgan import run_folder


class Checkpoints:
    """Writes config.json, the metrics files and the checkpoints of a run with an ``out_dir``."""

    def on_fit_start(self, trainer) -> None:
        if trainer.out_dir is None:
            return
        trainer.out_dir.mkdir(parents=True, exist_ok=True)
        run_folder.write_config(trainer.out_dir, trainer.config)
        run_folder.write_metrics(trainer.out_dir, trainer.history)  # a resumed run's rows up to its checkpoint

    def on_log(self, trainer, step: int, row: dict) -> None:
        if trainer.out_dir is not None:
            run_folder.append_metrics_row(trainer.out_dir, row)

    def on_step(self, trainer, step: int, row: dict) -> None:
        every = trainer.config.checkpoint_every
        if trainer.out_dir is not None and every and step % every == 0:
            self.save(trainer)

    def on_fit_stop(self, trainer) -> None:
        if trainer.out_dir is not None:
            self.save(trainer)

    @staticmethod
    def save(trainer) -> None:
        """The checkpoint and the metrics files, after the finiteness check (never a diverged state)."""
        trainer.read_stats()
        trainer.save_checkpoint()
        run_folder.write_metrics(trainer.out_dir, trainer.history)
