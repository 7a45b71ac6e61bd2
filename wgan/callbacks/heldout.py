"""`HeldOutEstimate`: with ``heldout_size``, the critic's W estimate on the fixed held-out real batch and noise
(`Trainer.heldout_estimate`), added to the row as ``w_estimate_heldout`` every ``heldout_every`` steps, at
evaluations and at the last step."""
from __future__ import annotations


class HeldOutEstimate:
    """Adds ``w_estimate_heldout`` to the rows of held-out steps."""

    def on_measure(self, trainer, step: int, row: dict) -> None:
        if trainer.heldout is None:
            return
        if step % trainer.config.heldout_every == 0 or step >= trainer.target_step or trainer.evaluates(step):
            row["w_estimate_heldout"] = trainer.heldout_estimate()
