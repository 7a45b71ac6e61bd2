"""The trainer: one step of every algorithm against hand-computed references, schedules, clipping,
resume, interruption, divergence, callbacks and configs."""
import json
import os
import signal

import numpy as np
import pytest

from wgan import ConfigError, TrainConfig, Trainer, TrainingDiverged
from wgan.data import Dataset, from_array, from_sampler

ALGORITHMS = ["wgan-clip", "wgan-gp", "wgan-lp", "sngan", "gan"]


# ----------------------------------------------------------------------------- hand-computed reference
def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _optimizer_step(cfg, p, g, lr):
    """The first step of a fresh optimizer, written out (PyTorch's formulas)."""
    if cfg.optimizer == "adam":
        b1, b2 = cfg.betas
        m_hat, v_hat = (1 - b1) * g / (1 - b1), (1 - b2) * g * g / (1 - b2)
        return p - lr * m_hat / (np.sqrt(v_hat) + 1e-8)
    v = (1 - cfg.rmsprop_alpha) * g * g
    return p - lr * g / (np.sqrt(v) + cfg.rmsprop_eps)


def _reference_step(cfg, A, c, w, b, real, z, eps, z2):
    """One critic and one generator update of a linear G(z) = A z + c and a linear critic D(x) = w.x + b."""
    A, c, w, b = (np.asarray(a, np.float64) for a in (A, c, w, b))
    real, z, eps, z2 = (np.asarray(a, np.float64) for a in (real, z, eps, z2))
    B = len(real)
    fake = z @ A.T + c

    def effective(w):  # spectral norm of a 1 x 2 matrix: sigma = |w| exactly after one power iteration
        return w / np.linalg.norm(w) if cfg.algorithm == "sngan" else w

    def weight_grad(w, gx):  # chain rule from dL/dw_eff to dL/dw
        if cfg.algorithm != "sngan":
            return gx
        n = np.linalg.norm(w)
        w_hat = w[0] / n
        return ((np.eye(2) - np.outer(w_hat, w_hat)) @ gx[0] / n)[None]

    we = effective(w)
    dr, df = real @ we[0] + b[0], fake @ we[0] + b[0]
    if cfg.loss == "wgan":
        ar, af = np.full(B, -1 / B), np.full(B, 1 / B)
    elif cfg.loss == "hinge":
        ar, af = -(1 - dr > 0).astype(float) / B, (1 + df > 0).astype(float) / B
    else:
        ar, af = -_sigmoid(-dr) / B, _sigmoid(df) / B
    gw = (ar @ real + af @ fake)[None]
    gb = np.array([ar.sum() + af.sum()])
    if cfg.penalty != "none":  # grad_x D = w for every x^, so the penalty depends on w alone
        n = np.sqrt(np.sum(w * w) + cfg.gp_eps)
        coef = 2 * (n - 1) / n if (cfg.penalty == "two-sided" or n > 1) else 0.0
        gw = gw + cfg.gp_lambda * coef * w
    gw = weight_grad(w, gw)
    w1 = _optimizer_step(cfg, w, gw, cfg.lr_d)
    b1 = _optimizer_step(cfg, b, gb, cfg.lr_d)
    if cfg.clip > 0:
        w1, b1 = np.clip(w1, -cfg.clip, cfg.clip), np.clip(b1, -cfg.clip, cfg.clip)
    we = effective(w1)
    fake2 = z2 @ A.T + c
    d2 = fake2 @ we[0] + b1[0]
    a = (-_sigmoid(-d2) if cfg.loss == "gan" else -np.ones(B)) / B
    gfake = a[:, None] * we
    gA, gc = gfake.T @ z2, gfake.sum(0)
    return {"critic": (w1, b1, gw, gb), "generator": (_optimizer_step(cfg, A, gA, cfg.lr_g),
                                                    _optimizer_step(cfg, c, gc, cfg.lr_g), gA, gc)}


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_one_step_of_each_algorithm_matches_a_hand_computed_reference(algorithm):
    # lambda 0.1 keeps the penalty's gradient comparable to the critic loss's (lambda 10 would swamp it)
    cfg = TrainConfig(dataset="8gaussians", algorithm=algorithm, width=4, depth=0, batch_size=6, seed=3,
                      gp_lambda=0.1 if algorithm in ("wgan-gp", "wgan-lp") else None)
    trainer = Trainer(cfg)
    rng = np.random.default_rng(0)
    real, z, z2 = (rng.normal(size=(6, 2)).astype(np.float32) for _ in range(3))
    eps = rng.random((6, 1)).astype(np.float32)
    G, D = trainer.generator.net[0], trainer.critic.net[0]
    if algorithm in ("wgan-gp", "wgan-lp"):  # ||grad D|| = ||w|| = 3: the one-sided penalty is active too
        D.weight.data *= 3 / np.linalg.norm(D.weight.data)
    w0 = (D.weight_orig if algorithm == "sngan" else D.weight).numpy().copy()
    expected = _reference_step(trainer.config, G.weight.numpy(), G.bias.numpy(), w0, D.bias.numpy(), real, z, eps, z2)
    stats = trainer.critic_step(real, z, eps if trainer.config.penalty != "none" else None)
    w_param = D.weight_orig if algorithm == "sngan" else D.weight
    w1, b1, gw, gb = expected["critic"]
    np.testing.assert_allclose(w_param.grad.numpy(), gw, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(D.bias.grad.numpy(), gb, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(w_param.numpy(), w1, rtol=1e-5, atol=1e-7)
    if gb.any():
        np.testing.assert_allclose(D.bias.numpy(), b1, rtol=1e-5, atol=1e-7)
    # (the WGAN losses' bias gradient is exactly 0; float32 rounding leaves ~1e-9, which a
    # normalising optimizer's first step turns into a full-size step: nothing to compare there)
    assert np.isfinite(stats["w_estimate"])
    trainer.generator_step(z2)
    A1, c1, gA, gc = expected["generator"]
    np.testing.assert_allclose(G.weight.grad.numpy(), gA, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(G.bias.grad.numpy(), gc, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(G.weight.numpy(), A1, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(G.bias.numpy(), c1, rtol=1e-5, atol=1e-7)


# ----------------------------------------------------------------------------- algorithm details
def test_paper_defaults_per_algorithm():
    clip = TrainConfig(algorithm="wgan-clip").resolve()
    assert (clip.optimizer, clip.lr_d, clip.clip, clip.batch_size, clip.n_critic, clip.rmsprop_alpha) == \
        ("rmsprop", 5e-5, 0.01, 64, 5, 0.99)
    gp = TrainConfig(algorithm="wgan-gp").resolve()
    assert (gp.optimizer, gp.lr_d, gp.betas, gp.gp_lambda, gp.n_critic, gp.penalty) == \
        ("adam", 1e-4, (0.0, 0.9), 10.0, 5, "two-sided")
    assert TrainConfig(algorithm="wgan-lp").resolve().penalty == "one-sided"
    sn = TrainConfig(algorithm="sngan").resolve()
    assert (sn.loss, sn.lr_d, sn.betas, sn.n_critic) == ("hinge", 1e-4, (0.5, 0.9), 5)
    assert TrainConfig(algorithm="gan").resolve().n_critic == 1
    toy = TrainConfig(algorithm="wgan-gp", preset="toy").resolve()
    assert (toy.width, toy.depth, toy.batch_size, toy.gp_lambda, toy.betas, toy.z_dim, toy.init) == \
        (512, 3, 256, 0.1, (0.5, 0.9), 2, "toy")
    toy_clip = TrainConfig(algorithm="wgan-clip", preset="toy").resolve()
    assert (toy_clip.optimizer, toy_clip.lr_d, toy_clip.rmsprop_alpha, toy_clip.gp_lambda) == \
        ("rmsprop", 5e-5, 0.9, 0.0)
    toy_gan = TrainConfig(algorithm="gan", preset="toy").resolve()
    assert (toy_gan.width, toy_gan.n_critic, toy_gan.lr_d, toy_gan.betas) == (512, 1, 2e-4, (0.5, 0.999))
    assert TrainConfig(dataset="digits").resolve(sample_ndim=3).model == "dcgan"


def test_official_critic_schedule():
    trainer = Trainer(TrainConfig(algorithm="wgan-clip", critic_schedule="official", width=4, depth=1))
    assert [trainer.critic_iterations(s) for s in (0, 24, 25, 499, 500, 501, 1000)] == [100, 100, 5, 5, 100, 5, 100]
    assert Trainer(TrainConfig(algorithm="wgan-clip", width=4, depth=1)).critic_iterations(0) == 5


def test_linear_learning_rate_decay():
    trainer = Trainer(_small(steps=4, lr_decay="linear", lr_g=1e-3, lr_d=2e-3, checkpoint_every=0))
    seen = []
    trainer.callbacks.append(lambda t, step, m: seen.append((t.opt_g.param_groups[0]["lr"],
                                                             t.opt_d.param_groups[0]["lr"])))
    trainer.fit()
    np.testing.assert_allclose(seen, [(1e-3 * f, 2e-3 * f) for f in (1.0, 0.75, 0.5, 0.25)])


@pytest.mark.parametrize("placement", ["after", "before"])
def test_clipping_placement(placement):
    trainer = Trainer(TrainConfig(algorithm="wgan-clip", clip_placement=placement, width=8, depth=1, lr_d=0.1,
                                  batch_size=8))
    for p in trainer.critic.parameters():
        p.data[...] = 1.0
    trainer.train_step()
    values = np.concatenate([p.numpy().ravel() for p in trainer.critic.parameters()])
    if placement == "after":
        assert np.abs(values).max() <= 0.01
    else:  # clamped before each step: the step moves the weights out of [-c, c] again (official code)
        assert np.abs(values).max() > 0.01
        assert np.abs(values).max() <= 0.01 + 0.1 * 10  # at most ~lr * 1 / sqrt(1 - alpha) away


def test_batch_norm_critic_with_penalty_is_refused():
    with pytest.raises(ConfigError, match="critic_norm: batch norm"):
        TrainConfig(algorithm="wgan-gp", critic_norm="batchnorm").resolve()


# ----------------------------------------------------------------------------- runs
def _small(**kw):
    base = dict(dataset="8gaussians", algorithm="wgan-gp", preset="toy", width=16, depth=2, batch_size=32,
                steps=4, eval_every=0, eval_samples=100, checkpoint_every=2)
    base.update(kw)
    return TrainConfig(**base)


def _state(trainer):
    return [p.numpy().copy() for p in list(trainer.generator.parameters()) + list(trainer.critic.parameters())]


def test_resume_with_linear_lr_decay_equals_an_uninterrupted_run(tmp_path):
    """The decay runs on the device (optim.lr_scheduler.LinearLR); a resumed run picks it up at its step."""
    full = Trainer(_small(lr_decay="linear", steps=6, out_dir=str(tmp_path / "full")))
    full.fit()
    part = Trainer(_small(lr_decay="linear", steps=6, out_dir=str(tmp_path / "part")))
    part.fit(steps=3)
    resumed = Trainer.resume(tmp_path / "part")
    assert resumed.step == 3 and [s.last_epoch for s in resumed.lr_schedules] == [2, 2]
    resumed.fit()
    for a, b in zip(_state(full), _state(resumed)):
        np.testing.assert_array_equal(a, b)
    cfg = resumed.config
    for ours, theirs, lr in ((resumed.opt_g, full.opt_g, cfg.lr_g), (resumed.opt_d, full.opt_d, cfg.lr_d)):
        assert ours.param_groups[0]["lr"] == theirs.param_groups[0]["lr"] == pytest.approx(lr * (1 - 5 / 6))


@pytest.mark.parametrize("algorithm, dataset", [("wgan-gp", "8gaussians"), ("sngan", "25gaussians")])
def test_resume_equals_an_uninterrupted_run(tmp_path, algorithm, dataset):
    # 25gaussians is read in order from a fixed set (gan_toy.py): its position is part of the checkpoint
    full = Trainer(_small(algorithm=algorithm, dataset=dataset, out_dir=str(tmp_path / "full"), eval_every=3))
    full.fit()
    part = Trainer(_small(algorithm=algorithm, dataset=dataset, out_dir=str(tmp_path / "part"), steps=2,
                          eval_every=3))
    part.fit()
    resumed = Trainer.resume(tmp_path / "part", steps=4)
    assert resumed.step == 2
    resumed.fit()
    for a, b in zip(_state(full), _state(resumed)):
        np.testing.assert_array_equal(a, b)
    rows_full = [json.loads(line) for line in (tmp_path / "full" / "metrics.jsonl").read_text().splitlines()]
    rows_res = [json.loads(line) for line in (tmp_path / "part" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows_res] == [1, 2, 3, 4]
    for a, b in zip(rows_full, rows_res):  # step 2 of the short run also holds its final evaluation
        assert {k: v for k, v in a.items() if k != "time"} == {k: b[k] for k in a if k != "time"}
    assert "w1" in rows_full[2] and rows_full[3].keys() == rows_res[3].keys()


def test_runs_are_reproducible_from_the_seed():
    a, b = Trainer(_small(steps=2)), Trainer(_small(steps=2))
    a.fit(), b.fit()
    for x, y in zip(_state(a), _state(b)):
        np.testing.assert_array_equal(x, y)
    c = Trainer(_small(steps=2, seed=1))
    c.fit()
    assert not np.array_equal(_state(a)[0], _state(c)[0])


def test_run_folder_contents(tmp_path):
    Trainer(_small(out_dir=str(tmp_path), eval_every=2)).fit()
    names = set(os.listdir(tmp_path))
    assert {"config.json", "metrics.csv", "metrics.jsonl", "metrics.png", "checkpoint.npz",
            "samples_000002.png", "samples_000004.png"} <= names
    config = TrainConfig.load(tmp_path / "config.json")
    assert config.gp_lambda == 0.1 and config.width == 16
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3, 4]
    assert {"w_estimate", "penalty", "d_loss", "g_loss"} <= set(rows[0])
    assert {"w1", "modes", "hq_fraction"} <= set(rows[1])
    header = (tmp_path / "metrics.csv").read_text().splitlines()[0].split(",")
    assert {"step", "w_estimate", "penalty", "w1", "modes"} <= set(header)


def test_keyboard_interrupt_writes_a_checkpoint(tmp_path):
    def interrupt(trainer, step, metrics):
        if step == 3:
            os.kill(os.getpid(), signal.SIGINT)

    trainer = Trainer(_small(out_dir=str(tmp_path), steps=10, checkpoint_every=100), callbacks=[interrupt])
    with pytest.raises(KeyboardInterrupt, match="step 3"):
        trainer.fit()
    assert Trainer.resume(tmp_path).step == 3


class _PoisonedData(Dataset):
    """8 gaussians-like points that turn NaN from the `bad`-th call on (a diverging run)."""

    name, kind, sample_shape = "poisoned", "2d", (2,)

    def __init__(self, bad):
        self.calls, self.bad = 0, bad

    def sample(self, n, rng):
        self.calls += 1
        x = rng.normal(size=(n, 2)).astype(np.float32)
        return x * np.nan if self.calls >= self.bad else x


def test_nan_stops_the_run_naming_the_step_and_term_and_keeps_the_last_good_checkpoint(tmp_path):
    trainer = Trainer(_small(out_dir=str(tmp_path), steps=10, checkpoint_every=2), dataset=_PoisonedData(bad=16))
    with pytest.raises(TrainingDiverged, match="step 4: the critic loss is nan"):
        trainer.fit()  # 5 critic batches per step: the 16th batch is step 4's first
    good = Trainer.resume(tmp_path, dataset=_PoisonedData(bad=10 ** 9))
    assert good.step == 2
    assert all(np.isfinite(p).all() for p in _state(good))


def test_callbacks_and_training_on_the_users_array_and_sampler():
    seen = []

    class Logger:
        def on_fit_start(self, trainer):
            seen.append("start")

        def on_step(self, trainer, step, metrics):
            seen.append(step)

        def on_fit_end(self, trainer):
            seen.append("end")

    points = np.random.default_rng(0).normal(size=(100, 2)).astype(np.float32)
    trainer = Trainer(_small(steps=2), dataset=from_array(points, name="mine"), callbacks=[Logger()])
    trainer.fit()
    assert seen == ["start", 1, 2, "end"] and trainer.config.dataset == "mine"
    sampler = from_sampler(lambda n, rng: rng.uniform(-1, 1, size=(n, 2)), (2,), name="square")
    trainer = Trainer(_small(steps=1, eval_every=1, eval_samples=100), dataset=sampler,
                      callbacks=[lambda trainer, step, metrics: seen.append(step)])
    history = trainer.fit()
    assert "w1" in history[-1] and "modes" not in history[-1]


def test_image_training_step_runs_with_every_algorithm_family():
    images = np.random.default_rng(0).uniform(-1, 1, size=(20, 1, 8, 8)).astype(np.float32)
    for algorithm in ("wgan-gp", "wgan-clip", "sngan"):
        trainer = Trainer(TrainConfig(algorithm=algorithm, base_filters=4, z_dim=8, batch_size=4, n_critic=1,
                                      steps=1, eval_every=0), dataset=from_array(images, name="tiny"))
        stats = trainer.fit()[-1]
        assert np.isfinite(stats["w_estimate"]) and trainer.config.model == "dcgan"


def test_short_seeded_run_covers_every_mode_of_8_gaussians():
    # the gan_toy recipe (lambda 0.1, Adam betas (0.5, 0.9), n_critic 5, batch 256) on smaller, faster nets,
    # lr decayed linearly as the default run does (seeds 0-3 all reach 8/8 here; ~20 s on 2 cores)
    trainer = Trainer(TrainConfig(dataset="8gaussians", algorithm="wgan-gp", preset="toy", width=128, depth=2,
                                  lr_g=3e-4, lr_d=3e-4, lr_decay="linear", steps=2000, eval_every=0, seed=0))
    trainer.fit()
    result = trainer.evaluate()
    assert result["modes"] == 8, result
    assert result["w1"] < 0.3, result


# ----------------------------------------------------------------------------- configs
@pytest.mark.parametrize("fields, message", [
    (dict(algorithm="wgan"), "algorithm: 'wgan' is not one of"),
    (dict(steps=0), "steps: expected an int >= 1"),
    (dict(lr_d=-1.0), "lr_d: expected a finite number > 0"),
    (dict(betas=(0.5, 1.5)), "betas: expected two numbers"),
    (dict(algorithm="wgan-clip", clip=0.0), "clip: wgan-clip needs"),
    (dict(preset="big"), "preset: 'big' is not one of"),
    (dict(device="tpu"), "device: unknown device"),
    (dict(batch_size=2.5), "batch_size: expected an int"),
])
def test_bad_configs_name_the_field(fields, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig(**fields).resolve()


def test_config_json_round_trip_and_unknown_fields():
    cfg = TrainConfig(algorithm="sngan", betas=(0.0, 0.9), steps=7).resolve()
    assert TrainConfig.from_json(cfg.to_json()) == cfg
    with pytest.raises(ConfigError, match="unknown config fields \\['lr'\\]"):
        TrainConfig.from_dict({"lr": 1.0})


def test_bad_data_gives_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.npy"):
        Trainer(TrainConfig(dataset=f"points:{tmp_path / 'nothing.npy'}"))
    with pytest.raises(ValueError, match="DCGAN models support images of side"):
        Trainer(TrainConfig(), dataset=from_array(np.zeros((4, 1, 20, 20), np.float32)))
