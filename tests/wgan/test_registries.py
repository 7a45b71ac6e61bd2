"""Optimizers and datasets as registries like the algorithms': built-in names, import paths, names registered
from Python, and what the CLI and the config read from them (issue 25, item 4)."""
import json

import numpy as np
import pytest

from minigrad import optim
from wgan import ConfigError, TrainConfig, Trainer, cli, data, optimizers
from wgan.data import DATASET_KINDS, DATASETS
from wgan.metrics import METRICS_BY_KIND

PLUGIN = "tests.wgan.sweep_plugin"
TINY = dict(dataset="8gaussians", preset="toy", width=8, depth=1, batch_size=16, steps=2, eval_every=0,
            checkpoint_every=0)


@pytest.fixture
def registered():
    """The plug-in's optimizer and dataset registered by name, for one test."""
    from tests.wgan import sweep_plugin

    sweep_plugin.register_all()
    yield sweep_plugin
    optimizers._REGISTRY.pop("sign-sgd", None)
    data._REGISTERED.pop("plugin-moons", None)


def test_the_built_in_optimizers_are_the_engines():
    built = {name: optimizers.make_optimizer(TrainConfig(optimizer=name).resolve(), [_param()], 0.1)
             for name in optimizers.OPTIMIZERS}
    assert {name: type(opt).__name__ for name, opt in built.items()} == {"adam": "Adam", "rmsprop": "RMSprop",
                                                                         "sgd": "SGD"}
    assert {cls.__name__.lower() for cls in optim.OPTIMIZERS} == set(optimizers.OPTIMIZERS)


def _param():
    import minigrad

    return minigrad.zeros(3, requires_grad=True)


@pytest.mark.parametrize("name", optimizers.OPTIMIZERS)
def test_each_registered_optimizer_trains(name):
    trainer = Trainer(TrainConfig(algorithm="wgan-gp", optimizer=name, **TINY))
    trainer.fit()
    assert trainer.step == 2 and type(trainer.opt_d).__name__.lower() == name


def test_a_users_optimizer_and_dataset_by_import_path_from_the_cli(tmp_path, capsys):
    run = tmp_path / "run"
    argv = ["train", "--optimizer", f"{PLUGIN}:SignSGD", "--dataset", f"{PLUGIN}:moons", "--preset", "toy",
            "--width", "8", "--depth", "1", "--batch-size", "16", "--steps", "2", "--eval-every", "2",
            "--eval-samples", "50", "--no-progress", "--out", str(run)]
    assert cli.main(argv) == 0
    saved = json.loads((run / "config.json").read_text())
    assert saved["optimizer"] == f"{PLUGIN}:SignSGD" and saved["dataset"] == f"{PLUGIN}:moons"
    resumed = Trainer.resume(run, steps=3)
    assert type(resumed.opt_g).__name__ == "SignSGD" and resumed.dataset.name == "moons"
    resumed.fit()
    assert resumed.step == 3
    # a build function (params, lr, config) works the same way
    trainer = Trainer(TrainConfig(optimizer=f"{PLUGIN}:sign_sgd", **TINY))
    assert type(trainer.opt_g).__name__ == "SignSGD"
    capsys.readouterr()


def test_names_registered_from_python(registered):
    trainer = Trainer(TrainConfig(optimizer="sign-sgd", **dict(TINY, dataset="plugin-moons")))
    trainer.fit()
    assert type(trainer.opt_d).__name__ == "SignSGD" and trainer.dataset.kind == "2d"
    assert "sign-sgd" in optimizers.optimizer_names() and "plugin-moons" in data.dataset_names()
    with pytest.raises(ValueError, match="'adam' is a built-in optimizer"):
        optimizers.register("adam", registered.SignSGD)
    with pytest.raises(ValueError, match="'ring' is a built-in dataset"):
        data.register("ring", registered.moons, kind="2d")
    with pytest.raises(ValueError, match="kind must be one of 2d, image"):
        data.register("mine", registered.moons, kind="toy")


def test_registry_errors_name_the_field():
    with pytest.raises(ConfigError, match="optimizer: 'lion' is not one of adam, rmsprop, sgd"):
        TrainConfig(optimizer="lion").resolve()
    with pytest.raises(ConfigError, match="optimizer: cannot import module 'no_such_module'"):
        TrainConfig(optimizer="no_such_module:Lion").resolve()
    with pytest.raises(ConfigError, match="neither a minigrad.optim.Optimizer subclass nor a function"):
        TrainConfig(optimizer=f"{PLUGIN}:HalfPenaltyGP").resolve()
    with pytest.raises(ValueError, match="unknown dataset 'no_such_module:x'"):
        data.make_dataset("no_such_module:x")
    with pytest.raises(ValueError, match="returned ndarray, not a wgan.data.Dataset"):
        data.make_dataset("numpy:zeros", shape=3)


def test_one_vocabulary_of_dataset_kinds_is_the_metrics_table():
    assert set(DATASET_KINDS) == set(METRICS_BY_KIND) == {entry.kind for entry in DATASETS.values()}
    for spec, entry in DATASETS.items():
        if not entry.takes_path:
            assert data.make_dataset(spec).kind == entry.kind
    assert data.from_array(np.zeros((4, 2), np.float32)).kind in DATASET_KINDS


def test_metrics_and_plot_keys_come_from_one_table(monkeypatch):
    from pathlib import Path

    from wgan import metrics, plots
    from wgan.callbacks import tensorboard

    for module in (plots, tensorboard, cli):  # no metric key written anywhere but wgan.metrics
        source = Path(module.__file__).read_text()
        assert not any(f'"{key}"' in source for key in ("w1", "fid", "kid", "hq_fraction", "classifier_score"))
    assert set(tensorboard.EVAL_KEYS) == {key for key, m in metrics.METRICS.items() if m.evaluated}
    monkeypatch.setitem(metrics.METRICS, "sliced_w", metrics.Metric("sliced_w", title=lambda v, n: f"SW {v:.2f}",
                                                                    evaluated=True))
    assert plots.describe_scores({"w1": 0.5, "sliced_w": 0.25}) == "exact W1 0.5 · SW 0.25"
    assert metrics.is_evaluation({"step": 3, "sliced_w": 0.25})
