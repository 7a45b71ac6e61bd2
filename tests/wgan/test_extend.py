"""Resume and extend a run honestly (wgan.extend): exact continuations, refused silent schedule changes,
named extension schedules without jumps, changes applied or refused, the history in config.json."""
import json

import numpy as np
import pytest

from wgan import ConfigError, TrainConfig, Trainer, cli
from wgan.extend import learning_rates, plan_resume


def _small(out_dir=None, **kw):
    base = dict(dataset="8gaussians", algorithm="wgan-gp", preset="toy", width=8, depth=1, batch_size=16, steps=4,
                eval_every=0, checkpoint_every=100, out_dir=None if out_dir is None else str(out_dir))
    base.update(kw)
    return TrainConfig(**base)


def _state(trainer):
    return [p.numpy().copy() for p in list(trainer.generator.parameters()) + list(trainer.critic.parameters())]


class _Rates:
    """Records the learning rates each step used (set by train_step before the updates)."""

    def __init__(self):
        self.rates = {}

    def __call__(self, trainer, step, metrics):
        self.rates[step] = (trainer.opt_g.param_groups[0]["lr"], trainer.opt_d.param_groups[0]["lr"])


def test_resume_to_the_planned_steps_of_a_decaying_run_is_bit_exact(tmp_path):
    full = Trainer(_small(tmp_path / "full", lr_decay="linear", lr_g=1e-3, lr_d=1e-3))
    full.fit()
    part = Trainer(_small(tmp_path / "part", lr_decay="linear", lr_g=1e-3, lr_d=1e-3))
    part.fit(steps=2)  # stops (and checkpoints) half way through a 4-step plan
    resumed = Trainer.resume(tmp_path / "part")
    assert resumed.resume_plan.message == \
        "resume: continuing from step 2 to the planned 4 (the same run, bit-identical on the CPU)"
    resumed.fit()
    for a, b in zip(_state(full), _state(resumed)):
        np.testing.assert_array_equal(a, b)
    assert TrainConfig.load(tmp_path / "part" / "config.json").extensions == []


def test_a_constant_schedule_extends_exactly_as_if_planned_longer(tmp_path):
    planned = Trainer(_small(steps=6))
    planned.fit()
    Trainer(_small(tmp_path, steps=3)).fit()
    resumed = Trainer.resume(tmp_path, steps=6)
    assert "exactly a run planned for 6 steps" in resumed.resume_plan.message
    resumed.fit()
    for a, b in zip(_state(planned), _state(resumed)):
        np.testing.assert_array_equal(a, b)
    record = TrainConfig.load(tmp_path / "config.json").extensions
    assert record == [{"at_step": 3, "from_steps": 3, "to_steps": 6, "extend_lr": None,
                       "lr_g": 1e-4, "lr_d": 1e-4}]


def test_extending_a_decaying_schedule_is_refused_unless_named(tmp_path):
    Trainer(_small(tmp_path, lr_decay="linear")).fit()
    with pytest.raises(ConfigError, match=r"--steps 8: this run's learning rates decay linearly to 0 at step 4, "
                                          r"so it cannot continue as if it had been planned for 8 steps.*"
                                          r"--extend-lr constant .*--extend-lr linear"):
        Trainer.resume(tmp_path, steps=8)
    with pytest.raises(ConfigError, match="--steps 2 is below the checkpoint's step 4 .*checkpoint.npz.*"
                                          "give --steps 4 or more"):
        Trainer.resume(tmp_path, steps=2, extend_lr="linear")
    with pytest.raises(ConfigError, match="--extend-lr constant: the run keeps its 4 planned steps"):
        Trainer.resume(tmp_path, extend_lr="constant")
    assert TrainConfig.load(tmp_path / "config.json").steps == 4  # nothing was rewritten


@pytest.mark.parametrize("extend_lr, device", [("constant", "cpu"), ("linear", "cpu"),
                                               pytest.param("linear", "cuda", marks=pytest.mark.cuda)])
def test_named_extension_schedules_continue_without_a_jump(tmp_path, extend_lr, device):
    rates = _Rates()
    config = _small(tmp_path, lr_decay="linear", lr_g=2e-3, lr_d=1e-3, steps=4, device=device)
    Trainer(config, callbacks=[rates]).fit()
    np.testing.assert_allclose([rates.rates[s][0] for s in (1, 2, 3, 4)], [2e-3, 1.5e-3, 1e-3, 5e-4])
    resumed = Trainer.resume(tmp_path, steps=8, extend_lr=extend_lr, callbacks=[rates])
    assert f"(--extend-lr {extend_lr})" in resumed.resume_plan.message and "lr_g 0.0005" in resumed.resume_plan.message
    resumed.fit()
    new = [rates.rates[s] for s in (5, 6, 7, 8)]
    expected_g = [5e-4] * 4 if extend_lr == "constant" else [5e-4, 3.75e-4, 2.5e-4, 1.25e-4]
    np.testing.assert_allclose([g for g, _ in new], expected_g)
    np.testing.assert_allclose([d for _, d in new], np.asarray(expected_g) / 2)
    saved = TrainConfig.load(tmp_path / "config.json")
    assert saved.steps == 8 and saved.extensions == [
        {"at_step": 4, "from_steps": 4, "to_steps": 8, "extend_lr": extend_lr, "lr_g": 5e-4, "lr_d": 2.5e-4}]


def test_extensions_stack_and_the_history_is_kept():
    saved = _small(lr_decay="linear", lr_g=1.0, lr_d=1.0, steps=10).resolve()
    first = plan_resume(saved, 10, steps=20, extend_lr="constant").config
    assert learning_rates(first, 9) == learning_rates(saved, 9) == (pytest.approx(0.1), pytest.approx(0.1))
    assert learning_rates(first, 15) == (pytest.approx(0.1), pytest.approx(0.1))
    second = plan_resume(first, 20, steps=30).config  # constant since step 10: extends exactly, no --extend-lr
    third = plan_resume(second, 30, steps=40, extend_lr="linear").config
    assert [e["to_steps"] for e in third.extensions] == [20, 30, 40]
    assert [e["extend_lr"] for e in third.extensions] == ["constant", None, "linear"]
    assert learning_rates(third, 30) == (pytest.approx(0.1), pytest.approx(0.1))
    assert learning_rates(third, 35)[0] == pytest.approx(0.05)
    with pytest.raises(ConfigError, match="decay linearly"):
        plan_resume(third, 40, steps=50)


def test_other_fields_are_applied_and_listed_or_refused(tmp_path):
    Trainer(_small(tmp_path)).fit()
    resumed = Trainer.resume(tmp_path, steps=4, changes={"eval_every": 2, "checkpoint_every": 100})
    assert resumed.config.eval_every == 2
    assert resumed.resume_plan.changes == ["--eval-every 2 (was 0)"]
    assert resumed.resume_plan.message.endswith("; applied --eval-every 2 (was 0)")
    with pytest.raises(ConfigError, match=r"--lr-d \(saved: 0.0001\), --width \(saved: 8\) cannot change"):
        Trainer.resume(tmp_path, changes={"lr_d": 0.1, "width": 16})


def test_cli_prints_the_rule_in_one_line_and_refuses_in_one_line(tmp_path, capsys):
    out = tmp_path / "run"
    tiny = ["--width", "8", "--depth", "1", "--batch-size", "16", "--eval-samples", "100", "--no-progress"]
    assert cli.main(["train", "--steps", "2", "--eval-every", "0", "--out", str(out), *tiny]) == 0
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        cli.main(["train", "--resume", str(out), "--steps", "3", "--no-progress"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.count("\n") == 1 and "--extend-lr constant" in err
    with pytest.raises(SystemExit):
        cli.main(["train", "--resume", str(out), "--steps", "1", "--no-progress"])
    assert "--steps 1 is below the checkpoint's step 2" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["train", "--resume", str(out), "--lr-d", "0.1", "--no-progress"])
    assert "not --lr-d" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["train", "--extend-lr", "linear", "--out", str(tmp_path / "x"), "--no-progress"])
    assert "--extend-lr: only with --resume" in capsys.readouterr().err
    (out / "checkpoint.npz.dead1234.tmp").write_bytes(b"killed write")
    assert cli.main(["train", "--resume", str(out), "--steps", "3", "--extend-lr", "constant", "--eval-every", "3",
                     "--no-progress"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("resume: extending the run from 2 to 3 steps at step 2 with the last learning rates "
                             "held constant") and err[0].endswith("applied --eval-every 3 (was 0)")
    assert not list(out.glob("*.tmp"))
    history = json.loads((out / "config.json").read_text())["extensions"]
    assert [(e["at_step"], e["to_steps"], e["extend_lr"]) for e in history] == [(2, 3, "constant")]
