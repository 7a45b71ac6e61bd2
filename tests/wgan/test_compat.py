"""Run folders written by an earlier format still load and resume exactly.

The fixture (`tests/wgan/compat/`, written by commit d999256 with `make_compat_fixture.py`) holds, per run, the
``config.json`` and ``checkpoint.npz`` of a run stopped at step K of K + M, and the parameters that run reached at
K + M without stopping. Its configs set the fields that since became algorithm options (``gp_lambda``,
``penalty``, ``gp_eps``, ``clip``, ``clip_placement``) at the top level, as that format did.
"""
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad
from wgan import TrainConfig, Trainer

COMPAT = Path(__file__).resolve().parent / "compat"
sys.path.insert(0, str(COMPAT))
from make_compat_fixture import K, M, RUNS, _parameters  # noqa: E402

sys.path.remove(str(COMPAT))


def _assert_final_parameters(trainer: Trainer, name: str) -> None:
    expected = minigrad.load(COMPAT / name / "params_final.npz")
    reached = _parameters(trainer)
    assert sorted(reached) == sorted(expected)
    for key, value in expected.items():
        np.testing.assert_array_equal(reached[key], value, err_msg=f"{name}: {key}")


@pytest.mark.parametrize("name", list(RUNS))
def test_an_earlier_checkpoint_resumes_to_the_same_parameters(name, tmp_path):
    run = tmp_path / name
    shutil.copytree(COMPAT / name, run)
    trainer = Trainer.resume(run)
    assert trainer.step == K and trainer.config.steps == K + M
    trainer.fit()
    assert trainer.step == K + M
    _assert_final_parameters(trainer, name)


@pytest.mark.parametrize("name", list(RUNS))
def test_an_earlier_config_json_loads_and_trains_the_same_run(name, tmp_path):
    saved = TrainConfig.load(COMPAT / name / "config.json")
    trainer = Trainer(TrainConfig.from_dict(dict(saved.to_dict(), out_dir=None)))
    for field in RUNS[name]:
        if field != "algorithm_options":
            assert getattr(trainer.config, field) == RUNS[name][field], field
    if not saved.extensions:  # (a run's extensions take effect when it resumes: the resume test covers them)
        trainer.fit()
        _assert_final_parameters(trainer, name)
