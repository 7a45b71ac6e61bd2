"""The fig1a, fig1b and correlation reproductions: quick modes run, write their files and sane numbers."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

import minigrad
from wgan import reproductions
from wgan.models import MLPCritic
from wgan.reproductions import REPRODUCTIONS


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """These nets' small matrix products run several times faster on one BLAS thread than with
    threads contending for a busy 2-core machine."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # scikit-learn's dependency; without it the tests only run slower
        yield
        return
    with threadpool_limits(1):
        yield


def test_registered():
    for name in ("fig1a", "fig1b", "correlation"):
        assert REPRODUCTIONS[name] is getattr(reproductions, name)


def test_fig1a_quick(tmp_path):
    result = reproductions.fig1a(tmp_path, quick=True)
    assert (tmp_path / "fig1a.png").stat().st_size > 0
    data = json.loads((tmp_path / "fig1a.json").read_text())
    assert set(data["panels"]) == {f"{d}/{m}" for d in reproductions.FIG1A_DATASETS for m in ("clip", "gp")}
    for dataset in reproductions.FIG1A_DATASETS:
        clip, gp = data["panels"][f"{dataset}/clip"], data["panels"][f"{dataset}/gp"]
        assert all(math.isfinite(v) for v in (clip["w_estimate"], gp["w_estimate"]))
        # a critic with every weight in [-0.01, 0.01] has a far smaller slope than a He-initialised one
        assert clip["grad_norm_mean"] < 0.01 < gp["grad_norm_mean"]
    assert result["json"] == str(tmp_path / "fig1a.json")


def test_fig1b_quick_norms_per_layer(tmp_path):
    reproductions.fig1b(tmp_path, quick=True)
    assert (tmp_path / "fig1b.png").stat().st_size > 0
    data = json.loads((tmp_path / "fig1b.json").read_text())
    assert set(data["settings"]) == set(reproductions.FIG1B_SETTINGS)
    for setting, entry in data["settings"].items():
        norms = entry["layer_norms"]
        assert len(norms) == data["linear_layers"] == 13
        assert all(math.isfinite(v) and v > 0 for v in norms)
        assert entry["verdict"] in ("explodes", "vanishes", "stable")
        if setting.startswith("clip"):
            assert entry["weight_abs_max"] <= float(setting.split()[1]) * (1 + 1e-6)


def test_layer_gradient_norms_output_layer_exact():
    """dL/dD = -1/B on the real half and +1/B on the fake half, so the output layer's norm is sqrt(2/B)."""
    minigrad.manual_seed(0)
    rng = np.random.default_rng(0)
    critic = MLPCritic((2,), width=16, depth=3)
    real, fake = rng.normal(size=(32, 2)).astype(np.float32), rng.normal(size=(32, 2)).astype(np.float32)
    norms = reproductions.layer_gradient_norms(critic, real, fake)
    assert len(norms) == 4
    assert norms[-1] == pytest.approx(math.sqrt(2 / 32), rel=1e-6)
    # the last hidden Linear layer's gradient is, per sample, ±(1/B) times the output weights masked by the ReLU
    h = minigrad.tensor(np.concatenate([real, fake]))
    for module in list(critic.net)[:-2]:
        h = module(h)
    mask = (h.numpy() > 0).astype(np.float64)
    w = critic.net[-1].weight.numpy()[0].astype(np.float64)
    signs = np.concatenate([-np.ones(32), np.ones(32)])[:, None] / 32
    assert norms[-2] == pytest.approx(np.sqrt(np.sum((signs * w[None, :] * mask) ** 2)), rel=1e-5)


def test_correlation_quick_finite(tmp_path):
    result = reproductions.correlation(tmp_path, quick=True)
    assert (tmp_path / "correlation.png").stat().st_size > 0
    data = json.loads((tmp_path / "correlation.json").read_text())
    for algorithm in ("wgan-gp", "gan"):
        run = data["runs"][algorithm]
        assert len(run["points"]) == data["steps"] // data["eval_every"]
        assert math.isfinite(run["pearson_r"]) and -1 <= run["pearson_r"] <= 1
        late = [p for p in run["points"] if p["step"] > data["burn_in"]]
        assert len(late) >= 2 and math.isfinite(run["pearson_r_after_burn_in"])
        values, w1 = np.array([p["value"] for p in late]), np.array([p["w1"] for p in late])
        assert run["pearson_r_after_burn_in"] == pytest.approx(np.corrcoef(values, w1)[0, 1])
    assert math.isfinite(result["pearson_r_wgan_gp"]) and math.isfinite(result["pearson_r_gan"])


def test_cli_reproduce_quick(tmp_path, capsys):
    from wgan.cli import main

    assert main(["reproduce", "fig1b", "--quick", "--out", str(tmp_path)]) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(printed["verdicts"]) == set(reproductions.FIG1B_SETTINGS)
    assert (tmp_path / "fig1b.json").is_file() and (tmp_path / "fig1b.png").is_file()
