"""The Trainer's captured step on the CPU (wgan.capture over minigrad.graphed): the default, bit for bit the eager
steps for every algorithm and dataset, across a resume that captures again, stopping where eager stops, and its
fallbacks named in one line."""
import logging
import struct
import warnings

import numpy as np
import pytest

from wgan import TrainConfig, Trainer
from wgan.algorithms import registered_names
from wgan.data import Dataset
from wgan.train import TrainingDiverged

ALGORITHMS = registered_names()


def _config(**kw):
    base = dict(dataset="8gaussians", algorithm="wgan-gp", preset="toy", width=16, depth=2, batch_size=16,
                steps=8, eval_every=0, seed=3)
    base.update(kw)
    return TrainConfig(**base)


def _state(trainer):
    models = [trainer.generator, trainer.critic] + ([trainer.ema.module] if trainer.ema is not None else [])
    arrays = [t.numpy().copy() for m in models for t in list(m.parameters()) + [b for _, b in m.named_buffers()]]
    return arrays + [np.array(trainer.rng.bit_generator.state["state"]["state"], dtype=object)]


def _run(config, steps, graph, dataset=None):
    trainer = Trainer(config, dataset=dataset, graph=graph)
    return trainer, [trainer.train_step() for _ in range(steps)]


def assert_same_run(config, steps=8, dataset=None):
    """Eager and captured trainers of `config` give the same statistics at every step and the same state after."""
    eager, eager_stats = _run(config, steps, graph=False, dataset=dataset)
    graphed, graph_stats = _run(config, steps, graph=None, dataset=dataset)
    assert graphed.graph and not eager.graph, graphed.graphed_step.eager_reason
    assert graphed.graphed_step.captured and graphed.graphed_step.calls == steps
    assert eager_stats == graph_stats
    for a, b in zip(_state(eager), _state(graphed)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_every_algorithm_is_captured_by_default_and_replays_its_eager_steps(algorithm):
    assert_same_run(_config(algorithm=algorithm))


def _idx(images: np.ndarray) -> bytes:
    return bytes([0, 0, 0x08, images.ndim]) + struct.pack(f">{images.ndim}I", *images.shape) + images.tobytes()


def _dataset_spec(name, tmp_path):
    rng = np.random.default_rng(0)
    if name == "points:PATH":
        path = tmp_path / "points.npy"
        np.save(path, rng.standard_normal((200, 2)))
    elif name == "npz:PATH":
        path = tmp_path / "images.npz"
        np.savez(path, images=rng.uniform(-1, 1, (40, 1, 8, 8)).astype(np.float32))
    elif name == "mnist:PATH":
        path = tmp_path / "train-images-idx3-ubyte"
        path.write_bytes(_idx(rng.integers(0, 256, (40, 28, 28), dtype=np.uint8)))
    elif name == "folder:PATH":
        from PIL import Image
        path = tmp_path / "folder"
        path.mkdir()
        for i in range(20):
            Image.fromarray(rng.integers(0, 256, (8, 8), dtype=np.uint8)).save(path / f"{i}.png")
    else:
        return name
    return name.replace("PATH", str(path))


DATASETS = ["8gaussians", "25gaussians", "swissroll", "ring", "grid", "digits", "points:PATH", "npz:PATH",
            "mnist:PATH", "folder:PATH"]


@pytest.mark.parametrize("dataset", DATASETS)
def test_every_dataset_is_captured_and_replays_its_eager_steps(dataset, tmp_path):
    assert_same_run(_config(dataset=_dataset_spec(dataset, tmp_path), batch_size=8), steps=7)


def test_options_that_change_the_step_replay_exactly_too():
    """An EMA of the generator, a linearly decaying learning rate, batch norm in the generator, weight clipping."""
    assert_same_run(_config(ema_decay=0.9, lr_decay="linear", steps=8))
    assert_same_run(_config(algorithm="wgan-clip", g_norm="batchnorm", optimizer="rmsprop"))


# every algorithm on each kind of data path (a sampler, a fixed order, images), every dataset with wgan-gp
THOUSAND = sorted({(a, d) for a in ALGORITHMS for d in ("8gaussians", "25gaussians", "digits")}
                  | {("wgan-gp", d) for d in DATASETS})


@pytest.mark.slow
@pytest.mark.parametrize("algorithm, dataset", THOUSAND)
def test_a_thousand_captured_steps_equal_a_thousand_eager_ones(algorithm, dataset, tmp_path):
    spec = _dataset_spec(dataset, tmp_path)
    assert_same_run(_config(algorithm=algorithm, dataset=spec, batch_size=8, steps=1000), steps=1000)


def test_a_resume_captures_again_at_another_step_and_stays_exact(tmp_path):
    config = _config(steps=14, lr_decay="linear", checkpoint_every=3)
    eager = Trainer(config, graph=False)
    eager.fit()
    part = Trainer(_config(steps=14, lr_decay="linear", checkpoint_every=3, out_dir=str(tmp_path / "run")))
    part.fit(steps=6)  # captured from step 4 (two warm-up steps, two recorded ones)
    assert part.graph and part.graphed_step.captured
    resumed = Trainer.resume(tmp_path / "run")  # captured again, from step 6 + 4
    assert resumed.step == 6
    resumed.fit()
    assert resumed.graph and resumed.graphed_step.captured and resumed.graphed_step.calls == 8
    for a, b in zip(_state(eager), _state(resumed)):
        np.testing.assert_array_equal(a, b)


class _PoisonedData(Dataset):
    """Gaussian points until the `bad`-th batch, NaN from then on."""

    name, kind, sample_shape = "poisoned", "2d", (2,)

    def __init__(self, bad):
        self.calls, self.bad = 0, bad

    def sample(self, n, rng):
        self.calls += 1
        x = rng.normal(size=(n, 2)).astype(np.float32)
        return x * np.nan if self.calls >= self.bad else x


@pytest.mark.parametrize("bad", [43, 45])  # step 9's third critic batch, or its last
def test_a_diverging_run_stops_at_the_eager_runs_step_with_its_message(bad):
    stops = []
    for graph in (False, None):
        trainer = Trainer(_config(steps=20), dataset=_PoisonedData(bad), graph=graph)
        with pytest.raises(TrainingDiverged) as info:
            trainer.fit()
        stops.append((trainer.step, str(info.value)))
    assert trainer.graphed_step.captured
    assert stops[0] == stops[1] == (8, "step 9: the critic loss is nan; stopping (the last checkpoint, if any, holds "
                                       "the last good state)")


def test_fallbacks_are_named_in_one_line(caplog):
    official = _config(algorithm="wgan-clip", critic_schedule="official", n_critic=5)
    with caplog.at_level(logging.INFO, logger="wgan"), warnings.catch_warnings():
        warnings.simplefilter("error")
        trainer = Trainer(official)  # the default: a log line
    assert not trainer.graph
    assert [r.getMessage() for r in caplog.records] == [
        "graph: running eagerly because the official critic schedule changes n_critic between steps (100 at some "
        "steps), which a captured iteration cannot"]
    with pytest.warns(RuntimeWarning, match="running eagerly because the official critic schedule") as record:
        Trainer(official, graph=True)
    assert len(record) == 1

    def reads_the_host(trainer):
        estimate = trainer.algorithm.w_estimate
        trainer.algorithm.w_estimate = lambda d_real, d_fake: float(estimate(d_real, d_fake))

    eager = Trainer(_config(), graph=False)
    reads_the_host(eager)
    asked = Trainer(_config(), graph=True)
    reads_the_host(asked)
    with pytest.warns(RuntimeWarning, match=r"the step could not be captured: the step reads an array's value into "
                                             r"Python \(float at .*test_graph.py") as record:
        for _ in range(6):
            eager_stats, asked_stats = eager.train_step(), asked.train_step()
    assert len(record) == 1 and not asked.graph and asked.cuda_graph is False
    assert eager_stats == asked_stats


def test_rebinding_an_array_the_captured_step_reads_raises():
    trainer = Trainer(_config(ema_decay=0.9))
    for _ in range(5):
        trainer.train_step()
    assert trainer.graph
    averaged = next(iter(trainer.ema.module.parameters()))
    averaged.data = averaged.data.copy()
    with pytest.raises(RuntimeError, match="rebound to another array"):
        trainer.train_step()


def test_cuda_graph_is_another_name_for_graph():
    assert not Trainer(_config(), cuda_graph=False).graph
    assert Trainer(_config(), cuda_graph=True).cuda_graph
    with pytest.raises(ValueError, match="disagree"):
        Trainer(_config(), graph=True, cuda_graph=False)


def test_the_captured_replay_allocates_nothing():
    trainer = Trainer(_config(algorithm="wgan-gp"))
    for _ in range(5):
        trainer.train_step()
    replay = trainer.graphed_step.replay
    assert replay.allocating == [] and replay.nbytes > 0
