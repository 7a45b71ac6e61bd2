"""`ProgressBar`: a tqdm bar over the steps of a fit, showing the critic's W estimate (on a device, at logged
steps only: other steps keep their statistics on the device)."""
from __future__ import annotations


class ProgressBar:
    """The progress bar of ``Trainer(progress=True)``; disabled, it draws nothing."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.bar = None

    def on_fit_start(self, trainer) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(total=trainer.target_step, initial=trainer.step, disable=not self.enabled, unit="it",
                        dynamic_ncols=True)

    def on_step(self, trainer, step: int, row: dict) -> None:
        if self.bar is None:
            return
        if not trainer.on_device or trainer.logs(step):
            self.bar.set_postfix(W=f"{row['w_estimate']:.4f}", refresh=False)
        self.bar.update(1)

    def on_fit_stop(self, trainer) -> None:
        self.close()

    def on_fit_end(self, trainer) -> None:
        self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
