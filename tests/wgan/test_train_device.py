"""Training on a device (the CuPy stand-in in CI): no host sync or copy inside a step, statistics read at
log steps in one transfer, the NaN check there, and a resumed run equal to an uninterrupted one."""
import numpy as np
import pytest

from wgan import TrainConfig, Trainer, TrainingDiverged
from wgan.algorithms import ALGORITHMS
from wgan.data import from_array, from_sampler

pytestmark = pytest.mark.cuda


def _small(**kw):
    base = dict(dataset="8gaussians", algorithm="wgan-gp", preset="toy", width=16, depth=2, batch_size=16,
                steps=4, eval_every=0, eval_samples=100, checkpoint_every=0, device="cuda", log_every=2)
    base.update(kw)
    return TrainConfig(**base)


def _one_step_counts(standin, trainer):
    trainer.train_step()  # warm-up: optimizer state, spectral-norm buffers
    with standin.record() as rec:
        trainer.train_step()
    return rec


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("dataset", ["8gaussians", "25gaussians", "array"])
def test_a_train_step_makes_no_sync_and_no_host_copy(standin, algorithm, dataset):
    data = from_array(np.random.default_rng(0).standard_normal((500, 2)).astype(np.float32)) \
        if dataset == "array" else None
    trainer = Trainer(_small(algorithm=algorithm, **({} if data else {"dataset": dataset})), dataset=data)
    rec = _one_step_counts(standin, trainer)
    assert (len(rec.syncs), len(rec.copies)) == (0, 0), rec.summary()
    assert trainer.data_path in ("device mixture", "device slices", "device gather")


def test_the_linear_lr_decay_runs_on_the_device(standin):
    """optim.lr_scheduler.LinearLR: no sync or copy in the step, and the device lr follows the schedule."""
    trainer = Trainer(_small(lr_decay="linear", steps=8))
    rec = _one_step_counts(standin, trainer)
    assert (len(rec.syncs), len(rec.copies)) == (0, 0), rec.summary()
    trainer.train_step()
    for opt, lr in ((trainer.opt_g, trainer.config.lr_g), (trainer.opt_d, trainer.config.lr_d)):
        device_lr = float(opt._lrs[0].array)  # the one read, outside the step
        assert device_lr == opt.param_groups[0]["lr"] == pytest.approx(lr * (1 - 2 / 8))


def test_a_host_sampler_costs_one_copy_per_batch_and_nothing_else(standin):
    sampler = from_sampler(lambda n, rng: rng.standard_normal((n, 2)), (2,))
    trainer = Trainer(_small(algorithm="wgan-clip", n_critic=3), dataset=sampler)
    rec = _one_step_counts(standin, trainer)
    assert trainer.data_path == "host sampler"
    assert len(rec.syncs) == 0 and len(rec.copies) == 3, rec.summary()
    assert all("wgan/device.py" in e.where for e in rec.copies)


def test_statistics_are_read_at_log_steps_in_one_transfer(standin):
    trainer = Trainer(_small(steps=4, log_every=2))
    with standin.record() as rec:
        history = trainer.fit()
    reads = [e for e in rec.syncs if e.what == "get"]
    assert [row["step"] for row in history] == [2, 4]
    assert len(reads) == 2 and len(rec.syncs) == 2, rec.summary()  # one transfer per log step, nothing else
    assert all(isinstance(row[k], float) and np.isfinite(row[k]) for row in history
               for k in ("d_loss", "penalty", "grad_norm", "w_estimate", "g_loss"))



def test_nan_is_found_at_the_log_step_naming_term_and_steps(tmp_path):
    trainer = Trainer(_small(steps=6, log_every=3, out_dir=str(tmp_path), checkpoint_every=0))
    trainer.fit(steps=3)
    trainer.critic.parameters().__next__().data[...] = float("nan")  # poison between log steps
    with pytest.raises(TrainingDiverged, match=r"step 4: the critic loss is nan .*statistics of steps 4-6"):
        trainer.fit()


def test_a_checkpoint_checks_first_and_never_holds_a_diverged_state(tmp_path):
    trainer = Trainer(_small(steps=6, log_every=5, checkpoint_every=2, out_dir=str(tmp_path)))
    trainer.fit(steps=2)
    first = (tmp_path / "checkpoint.npz").read_bytes()
    next(iter(trainer.critic.parameters())).data[...] = float("nan")
    with pytest.raises(TrainingDiverged, match="step 3: the critic loss is nan"):
        trainer.fit()
    assert (tmp_path / "checkpoint.npz").read_bytes() == first


def test_resumed_device_run_reproduces_an_uninterrupted_one(tmp_path):
    whole = Trainer(_small(steps=4, out_dir=str(tmp_path / "whole"), checkpoint_every=2))
    whole.fit()
    part = Trainer(_small(steps=2, out_dir=str(tmp_path / "part"), checkpoint_every=2))
    part.fit()
    resumed = Trainer.resume(tmp_path / "part", steps=4)
    resumed.fit()
    for a, b in zip(list(whole.generator.parameters()) + list(whole.critic.parameters()),
                    list(resumed.generator.parameters()) + list(resumed.critic.parameters())):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert whole.device_noise.state_dict() == resumed.device_noise.state_dict()


def test_the_cpu_keeps_its_numpy_streams():
    cpu = Trainer(_small(device="cpu"))
    assert not cpu.on_device and not hasattr(cpu, "device_noise")


# ----------------------------------------------------------------------------- cuda_graph
def _params(trainer):
    return [p.numpy() for p in list(trainer.generator.parameters()) + list(trainer.critic.parameters())]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_replayed_graph_steps_equal_eager_steps(standin, algorithm):
    config = _small(algorithm=algorithm, dataset="25gaussians" if algorithm == "wgan-clip" else "8gaussians")
    eager, graphed = Trainer(config, cuda_graph=False), Trainer(config, cuda_graph=True)
    assert graphed.cuda_graph and not eager.cuda_graph
    for _ in range(5):
        stats_eager, stats_graph = eager.train_step(), graphed.train_step()
    assert graphed.graphed_step.graph is not None and graphed.graphed_step.calls == 5
    for a, b in zip(_params(eager), _params(graphed)):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(float(stats_graph["d_loss"]), float(stats_eager["d_loss"]), rtol=1e-5, atol=1e-6)
    with standin.record() as rec:
        graphed.train_step()
    assert rec.launches["graph.launch"] == 1 and not rec.syncs and not rec.copies, rec.summary()


def test_a_host_sampler_refills_the_graph_inputs_in_place(standin):
    sampler = from_sampler(lambda n, rng: rng.standard_normal((n, 2)), (2,))
    config = _small(algorithm="wgan-gp", n_critic=2)
    eager, graphed = Trainer(config, dataset=sampler, cuda_graph=False), Trainer(config, dataset=sampler, cuda_graph=True)
    for _ in range(4):
        eager.train_step(), graphed.train_step()
    for a, b in zip(_params(eager), _params(graphed)):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)


def test_cuda_graph_falls_back_with_one_warning_naming_the_reason():
    with pytest.warns(RuntimeWarning, match="running eagerly because the official critic schedule") as record:
        trainer = Trainer(_small(algorithm="wgan-clip", critic_schedule="official", n_critic=5), cuda_graph=True)
    assert len(record) == 1 and not trainer.cuda_graph
    assert Trainer(_small(device="cpu"), cuda_graph=True).cuda_graph  # the CPU captures its step too (issue 26)


def test_a_linear_lr_decay_replays_as_eager_steps():
    config = _small(algorithm="wgan-gp", lr_decay="linear", steps=5)
    eager, graphed = Trainer(config, cuda_graph=False), Trainer(config, cuda_graph=True)
    for _ in range(5):
        eager.train_step(), graphed.train_step()
    assert graphed.graphed_step.graph is not None
    for a, b in zip(_params(eager), _params(graphed)):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
