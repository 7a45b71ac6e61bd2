"""`Trainer.fit` as a short loop over callbacks (issue 25, item 5): the hooks' order, the standard callbacks
as ordinary members of ``trainer.callbacks``, and a user's callback (the README's) added the same way."""
from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import numpy as np

import wgan
from wgan import TrainConfig, Trainer
from wgan.callbacks import HOOKS, Callback, Checkpoints, Evaluation, Figures, HeldOutEstimate, ProgressBar

SMALL = dict(dataset="ring", algorithm="wgan-gp", preset="toy", width=8, depth=1, batch_size=16, eval_samples=64,
             checkpoint_every=0)


class Recorder(Callback):
    """Records each hook with the row's keys as the hook saw them."""

    def __init__(self):
        self.calls: list[tuple] = []

    def on_fit_start(self, trainer):
        self.calls.append(("on_fit_start",))

    def on_measure(self, trainer, step, row):
        self.calls.append(("on_measure", step, set(row)))

    def on_eval(self, trainer, step, row):
        self.calls.append(("on_eval", step, set(row)))

    def on_log(self, trainer, step, row):
        self.calls.append(("on_log", step, trainer.history[-1] is row))

    def on_step(self, trainer, step, row):
        self.calls.append(("on_step", step))

    def on_fit_stop(self, trainer):
        self.calls.append(("on_fit_stop",))

    def on_fit_end(self, trainer):
        self.calls.append(("on_fit_end",))


def test_hooks_run_in_order_and_evaluation_fills_the_row_first():
    recorder = Recorder()
    trainer = Trainer(TrainConfig(**SMALL, steps=4, log_every=2, eval_every=4, heldout_size=32, heldout_every=2),
                      callbacks=[recorder])
    trainer.fit()
    hooks = [call[0] for call in recorder.calls]
    assert hooks == ["on_fit_start", "on_step", "on_measure", "on_log", "on_step", "on_step",
                     "on_measure", "on_eval", "on_log", "on_step", "on_fit_stop", "on_fit_end"]
    measure, evaluated = recorder.calls[6][2], recorder.calls[7][2]
    # the standard Evaluation and HeldOutEstimate come first: a user's on_measure sees their keys already
    assert {"w1", "modes", "w_estimate_heldout"} <= measure and {"w1", "w_estimate_heldout"} <= evaluated
    assert all(call[2] for call in recorder.calls if call[0] == "on_log")  # the row is in history by then
    assert [row["step"] for row in trainer.history] == [2, 4]
    assert set(HOOKS) == set(hooks)


def test_the_standard_callbacks_are_ordinary_members_of_the_list(tmp_path):
    trainer = Trainer(TrainConfig(**SMALL, steps=2, eval_every=2, out_dir=str(tmp_path)))
    kinds = [type(cb) for cb in trainer.callbacks]
    assert kinds == [Checkpoints, Evaluation, HeldOutEstimate, Figures, ProgressBar]
    trainer.callbacks = [cb for cb in trainer.callbacks if not isinstance(cb, Figures)]  # no figures, the rest
    trainer.fit()
    files = {p.name for p in tmp_path.iterdir()}
    assert {"config.json", "metrics.jsonl", "metrics.csv", "checkpoint.npz"} <= files
    assert not any(name.endswith(".png") for name in files) and "snapshots" not in files
    assert "w1" in trainer.history[-1]


def _readme_callback() -> str:
    """The README's callback class (Python API section), as a user would copy it."""
    text = (Path(wgan.__file__).resolve().parents[1] / "README.md").read_text()
    (block,) = [b for b in re.findall(r"^```python\n(.*?)^```", text, re.M | re.S) if "class CriticAtOrigin" in b]
    return re.search(r"^class CriticAtOrigin:.*?(?=^\S)", block, re.M | re.S).group(0)


def test_the_readmes_callback_adds_a_logged_key_the_same_way(tmp_path, capsys):
    namespace = {"np": np}
    exec(_readme_callback(), namespace)
    trainer = Trainer(TrainConfig(**SMALL, steps=4, log_every=2, eval_every=4, out_dir=str(tmp_path)),
                      callbacks=[namespace["CriticAtOrigin"]()])
    trainer.fit()
    assert all(np.isfinite(row["critic_at_origin"]) for row in trainer.history)
    logged = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [row["critic_at_origin"] for row in logged] == [row["critic_at_origin"] for row in trainer.history]
    assert "critic_at_origin" in (tmp_path / "metrics.csv").read_text().splitlines()[0]
    assert "step 4: W estimate" in capsys.readouterr().out


def test_fit_reads_as_a_short_loop():
    # the loop hands everything but stepping, timing and Ctrl-C to the callbacks' hooks
    assert len(inspect.getsource(Trainer.fit).splitlines()) <= 30
    assert len([name for name in vars(Trainer) if not name.startswith("__")]) <= 36
