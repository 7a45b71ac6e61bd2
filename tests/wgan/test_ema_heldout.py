"""The EMA generator (ema_decay) and the held-out W estimate (heldout_size)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from wgan import ConfigError, TrainConfig, Trainer, cli
from wgan.checkpoint import load_checkpoint
from wgan.data import from_array, make_dataset


def _small(**kw):
    base = dict(dataset="8gaussians", algorithm="wgan-gp", preset="toy", width=16, depth=2, batch_size=32,
                steps=4, eval_every=0, eval_samples=100, checkpoint_every=2)
    base.update(kw)
    return TrainConfig(**base)


def _params(module):
    return [p.numpy().copy() for p in module.parameters()]


# ----------------------------------------------------------------------------- EMA
def test_ema_does_not_change_the_training_trajectory_and_averages_as_yazici_et_al():
    plain, averaged = Trainer(_small()), Trainer(_small(ema_decay=0.9))
    start = _params(averaged.generator)
    np.testing.assert_array_equal(start[0], _params(averaged.ema.module)[0])
    plain.train_step(), averaged.train_step()
    after_one = _params(averaged.generator)
    for e, s, a in zip(_params(averaged.ema.module), start, after_one):  # theta_EMA = theta0 + 0.1 (theta1 - theta0)
        np.testing.assert_allclose(e, s + 0.1 * (a - s), rtol=1e-6, atol=1e-7)
    for _ in range(3):
        plain.train_step(), averaged.train_step()
    for module_a, module_b in ((plain.generator, averaged.generator), (plain.critic, averaged.critic)):
        for a, b in zip(_params(module_a), _params(module_b)):
            np.testing.assert_array_equal(a, b)
    assert not np.array_equal(_params(averaged.generator)[0], _params(averaged.ema.module)[0])
    assert averaged.rng.bit_generator.state == plain.rng.bit_generator.state


def test_sampling_and_evaluation_use_the_average_unless_raw():
    trainer = Trainer(_small(ema_decay=0.5, steps=2))
    trainer.fit()
    rng = lambda: np.random.default_rng(7)  # noqa: E731
    averaged, raw = trainer.sample(50, rng()), trainer.sample(50, rng(), raw=True)
    assert not np.array_equal(averaged, raw)
    z = trainer.sample_noise(50, rng())
    np.testing.assert_array_equal(raw, trainer.generate(z, raw=True))
    plain = Trainer(_small(steps=2))
    plain.fit()
    np.testing.assert_array_equal(raw, plain.sample(50, rng()))  # the raw generator is the one without EMA
    assert trainer.evaluate(100, raw=True) == plain.evaluate(100)


def test_eval_raw_logs_both_generators_scores_side_by_side():
    history = Trainer(_small(ema_decay=0.9, eval_every=2, eval_raw=True)).fit()
    row = history[1]
    assert {"w1", "modes", "hq_fraction", "raw_w1", "raw_modes", "raw_hq_fraction"} <= set(row)
    assert "raw_w1" not in Trainer(_small(eval_every=2, eval_raw=True)).fit()[1]  # no EMA: nothing to compare


def test_ema_table_script_shows_both_generators_of_a_run_folder(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    from wgan.run_folder import write_config, write_metrics

    def run_folder(path, config):  # config.json and the metrics, without the figures (which cost seconds)
        trainer = Trainer(config)
        history = trainer.fit()
        path.mkdir()
        write_config(path, trainer.config)
        write_metrics(path, history)
        return history

    history = run_folder(tmp_path / "run", _small(ema_decay=0.9, eval_every=2, eval_raw=True))
    script = Path(__file__).resolve().parents[2] / "scripts" / "ema_table.py"
    out = subprocess.run([sys.executable, str(script), str(tmp_path / "run"), "--every", "4",
                          "--plot", str(tmp_path / "ema.png"), "--keep", str(tmp_path / "kept")],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    last = history[-1]
    assert len(out) == 3 and out[2].startswith("| 8gaussians | 16x2 | 0.9 | 4 | ")  # header, rule, step 4 only
    cells = [c.strip() for c in out[2].strip("|").split("|")]
    assert cells[4:10] == [str(last["modes"]), f"{100 * last['hq_fraction']:.1f}", f"{last['w1']:.3f}",
                           str(last["raw_modes"]), f"{100 * last['raw_hq_fraction']:.1f}", f"{last['raw_w1']:.3f}"]
    assert (tmp_path / "ema.png").stat().st_size > 10_000
    kept = subprocess.run([sys.executable, str(script), str(tmp_path / "kept" / "run"), "--every", "4"],
                          capture_output=True, text=True, check=True).stdout.splitlines()
    assert kept == out  # the kept copy holds the evaluations
    run_folder(tmp_path / "plain", _small(eval_every=2))
    failed = subprocess.run([sys.executable, str(script), str(tmp_path / "plain")], capture_output=True, text=True)
    assert failed.returncode != 0 and "no evaluation with raw scores" in failed.stderr


def test_both_weight_sets_are_checkpointed_and_resume_stays_exact(tmp_path):
    full = Trainer(_small(ema_decay=0.9, out_dir=str(tmp_path / "full")))
    full.fit()
    part = Trainer(_small(ema_decay=0.9, steps=2, out_dir=str(tmp_path / "part")))
    part.fit()
    assert {"G", "D", "G_ema"} <= set(load_checkpoint(tmp_path / "part").models)
    resumed = Trainer.resume(tmp_path / "part", steps=4)
    resumed.fit()
    for a, b in zip(_params(full.ema.module) + _params(full.generator),
                    _params(resumed.ema.module) + _params(resumed.generator)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(Trainer.from_checkpoint(tmp_path / "full").sample(20), full.sample(20))


def test_batch_norm_buffers_are_copied_from_the_trained_generator():
    images = np.random.default_rng(0).uniform(-1, 1, size=(16, 1, 16, 16)).astype(np.float32)
    trainer = Trainer(TrainConfig(algorithm="wgan-gp", base_filters=4, z_dim=8, batch_size=4, n_critic=1, steps=2,
                                  eval_every=0, checkpoint_every=0, ema_decay=0.99), dataset=from_array(images))
    trainer.fit()
    buffers = dict(trainer.generator.named_buffers())
    averaged = dict(trainer.ema.module.named_buffers())
    assert any(name.endswith("running_mean") for name in buffers)
    for name, value in buffers.items():
        np.testing.assert_array_equal(np.asarray(averaged[name].data), np.asarray(value.data))


def test_ema_config_and_cli(tmp_path, capsys):
    with pytest.raises(ConfigError, match="ema_decay: must lie in"):
        TrainConfig(ema_decay=1.0).resolve()
    run = tmp_path / "run"
    assert cli.main(["train", "--ema-decay", "0.9", "--eval-raw", "--steps", "2", "--eval-every", "2", "--width", "8",
                     "--depth", "1", "--batch-size", "16", "--eval-samples", "100", "--no-progress",
                     "--out", str(run)]) == 0
    last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {"w1", "raw_w1"} <= set(last)
    assert cli.main(["eval", str(run), "-n", "100", "--raw"]) == 0
    assert json.loads(capsys.readouterr().out)["w1"] == pytest.approx(last["raw_w1"], rel=1e-6)
    assert cli.main(["sample", str(run), "-n", "5", "--raw", "--out", str(tmp_path / "s.npy")]) == 0


# ----------------------------------------------------------------------------- held-out estimate
def test_heldout_estimate_on_a_mixture_is_a_fixed_draw_logged_beside_the_training_estimate():
    trainer = Trainer(_small(heldout_size=64, heldout_every=2))
    again = Trainer(_small(heldout_size=64, heldout_every=2))
    np.testing.assert_array_equal(trainer.heldout, again.heldout)
    np.testing.assert_array_equal(trainer.heldout_z, again.heldout_z)
    assert trainer.heldout.shape == (64, 2) and trainer.dataset.name == "8gaussians"
    rows = trainer.fit()
    assert ["w_estimate_heldout" in r for r in rows] == [False, True, False, True]
    d_real = trainer.critic_values(trainer.heldout)
    d_fake = trainer.critic_values(trainer.generate(trainer.heldout_z, raw=True))
    assert rows[-1]["w_estimate_heldout"] == pytest.approx(float(d_real.mean() - d_fake.mean()), rel=1e-6)
    # held-out estimates leave the training itself untouched
    plain = Trainer(_small())
    plain.fit()
    np.testing.assert_array_equal(_params(plain.critic)[0], _params(trainer.critic)[0])


def test_heldout_split_of_a_finite_dataset_is_removed_from_training():
    points = np.arange(200, dtype=np.float32).reshape(100, 2)
    trainer = Trainer(_small(heldout_size=10), dataset=from_array(points, name="pts"))
    assert len(trainer.dataset.data) == 90 and trainer.heldout.shape == (10, 2)
    held = {tuple(p) for p in trainer.heldout}
    assert not held & {tuple(p) for p in trainer.dataset.data}
    assert held | {tuple(p) for p in trainer.dataset.data} == {tuple(p) for p in points}
    seq, held_seq = make_dataset("25gaussians").heldout_split(1000, np.random.default_rng(0))
    assert len(seq.data) == 99000 and seq.order == "sequential" and seq.cursor == 0
    assert np.all(np.diff(np.flatnonzero(np.isin(make_dataset("25gaussians").data[:, 0], seq.data[:50, 0]))) > 0)
    with pytest.raises(ValueError, match="heldout_size: 100 samples cannot be held out of dataset 'pts'"):
        Trainer(_small(heldout_size=100), dataset=from_array(points, name="pts"))


def test_heldout_resume_is_exact(tmp_path):
    full = Trainer(_small(heldout_size=32, heldout_every=1, out_dir=str(tmp_path / "full"),
                          dataset="25gaussians"))
    full.fit()
    Trainer(_small(heldout_size=32, heldout_every=1, steps=2, out_dir=str(tmp_path / "part"),
                   dataset="25gaussians")).fit()
    Trainer.resume(tmp_path / "part", steps=4).fit()
    rows = [json.loads(line) for line in (tmp_path / "part" / "metrics.jsonl").read_text().splitlines()]
    assert [r["w_estimate_heldout"] for r in rows] == [r["w_estimate_heldout"] for r in full.history]


@pytest.mark.parametrize("algorithm", ["wgan-gp", "sngan"])
def test_heldout_every_leaves_the_run_alone_so_a_resume_applies_and_lists_it(tmp_path, algorithm):
    # the held-out estimate runs in eval mode without gradients on its own fixed draws: how often it is taken
    # changes nothing of the training stream (sngan: no power iteration either), so it is a logging field
    often = Trainer(_small(algorithm=algorithm, heldout_size=32, heldout_every=1))
    rarely = Trainer(_small(algorithm=algorithm, heldout_size=32, heldout_every=1000))
    often.fit(), rarely.fit()
    for module_a, module_b in ((often.generator, rarely.generator), (often.critic, rarely.critic)):
        for a, b in zip(_params(module_a), _params(module_b)):
            np.testing.assert_array_equal(a, b)
    Trainer(_small(algorithm=algorithm, heldout_size=32, heldout_every=1000, steps=2,
                   out_dir=str(tmp_path))).fit()
    resumed = Trainer.resume(tmp_path, steps=4, changes={"heldout_every": 1})
    assert resumed.config.heldout_every == 1 and resumed.resume_plan.changes == ["--heldout-every 1 (was 1000)"]
    resumed.fit()
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert ["w_estimate_heldout" in r for r in rows] == [False, True, True, True]  # step 2 ended the first run
    assert rows[-1]["w_estimate_heldout"] == often.history[-1]["w_estimate_heldout"]
    assert cli.main(["train", "--resume", str(tmp_path), "--steps", "5", "--heldout-every", "2",
                     "--no-progress"]) == 0
    with pytest.raises(ConfigError, match="--heldout-size .*cannot change"):
        Trainer.resume(tmp_path, changes={"heldout_size": 16})
