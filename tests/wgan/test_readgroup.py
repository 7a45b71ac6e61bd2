"""The reading-group reproductions (claims 5.1, 5.2, 5.4 of shared/seeds/002): the batch-norm override, the
definitions they count with, and a --quick run of each on a local Dask cluster, checked by content."""
import importlib
import json
import math
import re
import warnings

import numpy as np
import pytest

from wgan.config import TrainConfig
from wgan.reproductions.common import command_line, mean_std, success_rate, wilson_interval
from wgan.train import Trainer

optimizers = importlib.import_module("wgan.reproductions.optimizers")
batchnorm_critic = importlib.import_module("wgan.reproductions.batchnorm_critic")
clipping_window = importlib.import_module("wgan.reproductions.clipping_window")


def test_batchnorm_critic_override_warns_once_per_run_and_the_refusal_stays():
    base = dict(dataset="digits", algorithm="wgan-gp", critic_norm="batchnorm", base_filters=2, z_dim=4, d_depth=2,
                batch_size=4, n_critic=2, steps=3, eval_every=0)
    with pytest.raises(ValueError, match="batch norm is not allowed in a critic with a gradient penalty"):
        Trainer(TrainConfig(**base))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Trainer(TrainConfig(**base, allow_batchnorm_critic=True)).fit()
    cited = [w for w in caught if "Gulrajani et al. 2017, section 4" in str(w.message)]
    assert len(cited) == 1 and "penalty is per sample" in str(cited[0].message)
    with warnings.catch_warnings(record=True) as caught:  # nothing to warn about without batch norm
        warnings.simplefilter("always")
        Trainer(TrainConfig(**dict(base, critic_norm="layernorm"), allow_batchnorm_critic=True)).fit()
    assert not [w for w in caught if "Gulrajani" in str(w.message)]


def test_w_behaviour_definitions():
    rng = np.random.default_rng(0)
    steady = 1.0 + 0.05 * rng.standard_normal(200)
    assert optimizers.w_behaviour(steady) == "steady"
    assert optimizers.w_behaviour(np.r_[steady[:-1], np.nan]) == "diverged"
    assert optimizers.w_behaviour(steady, stopped_non_finite=True) == "diverged"
    growing = np.exp(np.linspace(0, 8, 200))  # doubling and more over the last fifth, rising throughout it
    assert optimizers.w_behaviour(growing) == "diverged"
    spike = np.r_[np.ones(160), 10 * np.ones(39), 1.0]  # larger at the end but not rising through it
    assert optimizers.w_behaviour(spike) == "steady"
    around_zero = 0.01 + 0.5 * rng.standard_normal(200)
    assert optimizers.w_behaviour(around_zero) == "oscillates"
    flip = np.r_[np.ones(160), np.tile([3.0, -3.0], 20)]
    assert optimizers.w_behaviour(flip) == "oscillates"


def test_rates_intervals_and_formatting():
    lo, hi = wilson_interval(5, 10)
    assert (round(lo, 4), round(hi, 4)) == (0.2366, 0.7634)
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(10, 10)[1] == 1.0
    assert all(math.isnan(v) for v in wilson_interval(0, 0))
    assert success_rate(5, 10) == "5/10 (50%, CI 24-76%)" and success_rate(0, 0) == "–"
    assert mean_std([1.0, 3.0, None, math.nan]) == "2 ± 1.41" and mean_std([None]) == "–"
    assert command_line("optimizers", quick=True, seeds=None, steps=20, report_only=False) == \
        "wgan reproduce optimizers --quick --steps 20"


def _cell(dataset, cell, successes, n):
    return {"dataset": dataset, "cell": cell, "finished": n, "successes": successes}


def test_verdicts_follow_the_rates():
    def said(clip_adam, clip_rms, gp_adam=8):
        summary = [_cell("digits", "clip-rmsprop", clip_rms, 8), _cell("digits", "clip-adam", clip_adam, 8),
                   _cell("digits", "gp-adam", gp_adam, 8)]
        return optimizers.verdict(summary)[0]

    assert "the WGAN paper's claim" in said(0, 6)
    assert "the notes' claim" in said(3, 6)
    assert "neither the paper's claim nor the notes'" in said(6, 6)
    assert "inconclusive" in said(0, 0)
    assert "WGAN-GP works with momentum" in said(0, 6) and "not reliably" in said(0, 6, gp_adam=2)

    def bn(successes, n=10):
        return batchnorm_critic.verdict([{"variant": "batchnorm", "label": "batch norm", "finished": n,
                                          "successes": successes}])[0]

    assert "consistent with the notes' ~50%" in bn(5)
    assert "less often" in bn(1, 20) and "more often" in bn(19, 20) and "never succeeded" in bn(0)

    setup = {"clips": [1e-3, 1e-2, 1e-1], "depths": [2, 12]}

    def cells(modes):  # (depth, clip) -> the mean modes of its one trial
        return {f"{c:g}/{d}": {"trials": [{"modes": modes[(d, c)]}]} for d in setup["depths"] for c in setup["clips"]}

    narrowing = cells({(2, 1e-3): 8, (2, 1e-2): 8, (2, 1e-1): 7, (12, 1e-3): 2, (12, 1e-2): 8, (12, 1e-1): 3})
    gradients = {"0.001": [1e-9, 1e-3, 0.1], "0.01": [0.05, 0.08, 0.1], "0.1": [1e4, 10.0, 0.1]}
    lines = clipping_window.verdict(narrowing, gradients, setup)
    assert lines[0] == "- c covering >= 7 modes on average: depth 2: 0.001, 0.01, 0.1; depth 12: 0.01."
    assert "narrows as the critic deepens" in lines[1]
    assert lines[2].startswith("- Gradients of the depth-12 critics: c = 0.001: vanishes, c = 0.01: stable, "
                               "c = 0.1: explodes (vanishing below, exploding above")
    widening = cells({(2, 1e-3): 2, (2, 1e-2): 8, (2, 1e-1): 3, (12, 1e-3): 8, (12, 1e-2): 8, (12, 1e-1): 8})
    assert "does not narrow" in clipping_window.verdict(widening, {}, setup)[1]


def _table_rows(text: str, first_column: str) -> list[list[str]]:
    return [[c.strip() for c in line.strip("|").split("|")] for line in text.splitlines()
            if line.startswith(f"| {first_column}")]


@pytest.fixture
def run_quick(tmp_path, capsys):
    pytest.importorskip("distributed")
    from wgan import cli

    def run(name, *flags):
        out = tmp_path / name
        assert cli.main(["reproduce", name, "--quick", "--workers", "2", "--out", str(out), *flags]) == 0
        return out, json.loads(capsys.readouterr().out)

    return run


def _trial_config(out, row_or_index) -> dict:
    return json.loads((out / "sweep" / "trials" / f"{row_or_index:04d}" / "config.json").read_text())


def test_optimizers_quick(run_quick):
    out, result = run_quick("optimizers")
    assert result["finished"] == len(optimizers.CELLS) * len(optimizers.DATASETS)
    text = (out / "optimizers.md").read_text()
    assert "Command: `wgan reproduce optimizers --quick`" in text and "## What the data say" in text
    data = json.loads((out / "optimizers.json").read_text())
    for dataset in optimizers.DATASETS:
        rows = _table_rows(text, dataset)
        assert [r[1] for r in rows] == [label for label, _ in optimizers.CELLS.values()]
        for row in rows:
            assert row[2] == "1" and re.fullmatch(r"[01]/1 \(\d+%, CI \d+-\d+%\)", row[3])
            assert math.isfinite(float(row[4]))  # one seed: the final W1 or score itself
    for index, cell in enumerate(data["cells"]):
        (trial,) = cell["trials"]
        config = _trial_config(out, index)  # the table's cell is the trial that ran it
        assert (config["dataset"], config["algorithm"], config["optimizer"]) == \
            (cell["dataset"], optimizers.CELLS[cell["cell"]][1]["algorithm"], optimizers.CELLS[cell["cell"]][1]["optimizer"])
        if config["optimizer"] == "adam":
            assert config["betas"] == optimizers.CELLS[cell["cell"]][1]["betas"]
        assert trial["behaviour"] in ("steady", "oscillates", "diverged") and len(trial["w_estimate"]) == 4
        if cell["dataset"] == "8gaussians":
            assert trial["success"] == (trial["modes"] == 8) and 0 < trial["final"] < 10
        else:
            assert trial["success"] == (trial["final"] >= 0.5 * trial["real_score"]) and trial["real_score"] > 5
        assert (out / "curves" / f"{cell['dataset']}__{cell['cell']}.png").stat().st_size > 5_000
    assert (out / "optimizers.png").stat().st_size > 20_000
    assert "Partial" not in text
    setup = json.loads((out / "optimizers_setup.json").read_text())  # a larger plan: the report says what is missing
    (out / "optimizers_setup.json").write_text(json.dumps(dict(setup, seeds=3)))
    optimizers.optimizers_report(out)
    assert "Partial: 10 of 30 trials finished so far" in (out / "optimizers.md").read_text()


def test_batchnorm_critic_quick(run_quick):
    out, result = run_quick("batchnorm-critic")
    assert {k: v["finished"] for k, v in result["variants"].items()} == {"batchnorm": 1, "layernorm": 1, "none": 1}
    text = (out / "batchnorm_critic.md").read_text()
    rows = {r[0]: r for r in _table_rows(text, "") if r[0] in ("batch norm", "layer norm", "no normalisation")}
    assert set(rows) == {"batch norm", "layer norm", "no normalisation"}
    for row in rows.values():
        grad_norm, penalty = (float(row[i].split(" ± ")[0]) for i in (4, 5))
        assert grad_norm > 0 and 0 < penalty <= 2  # (‖∇D‖ − 1)² of a near-flat critic at initialisation is ~1
    assert "- Batch norm: " in text and "claim 5.4" in text
    data = json.loads((out / "batchnorm_critic.json").read_text())
    for index, variant in enumerate(data["variants"]):
        for j, trial in enumerate(variant["trials"]):
            config = _trial_config(out, index + j)
            assert config["critic_norm"] == variant["variant"]
            assert config["allow_batchnorm_critic"] == (variant["variant"] == "batchnorm")
            assert len(trial["curves"]["grad_norm"]["values"]) == 4 and trial["real"] > 5
    assert (out / "batchnorm_critic.png").stat().st_size > 20_000
    assert batchnorm_critic.batchnorm_critic(out, report_only=True)["finished"] == 3
    results = out / "sweep" / "results.jsonl"  # a partial report: one variant has no finished trial yet
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    results.write_text("".join(json.dumps(row) + "\n" for row in rows if row["config_index"] != 2))
    assert batchnorm_critic.batchnorm_critic_report(out)["finished"] == 2
    assert "Partial: 2 of 3 trials finished so far" in (out / "batchnorm_critic.md").read_text()


def test_clipping_window_quick(run_quick, tmp_path):
    out, result = run_quick("clipping-window")
    clips, depths = clipping_window.QUICK_CLIPS, clipping_window.QUICK_DEPTHS
    assert set(result["mean_w1"]) == {f"{c:g}/{d}" for c in clips for d in depths}
    data = json.loads((out / "clipping_window.json").read_text())
    for key, cell in data["cells"].items():
        (trial,) = cell["trials"]
        config = json.loads((tmp_path / trial["run_dir"] / "config.json").read_text())
        assert (config["clip"], config["d_depth"]) == (cell["clip"], cell["depth"])
        assert 0 <= trial["modes"] <= 8 and trial["w1"] > 0
    norms = data["layer_gradient_norms"]
    assert set(norms) == {f"{c:g}" for c in clips}
    assert all(len(v) == max(depths) + 1 for v in norms.values())
    # a critic clipped at 0.01 passes back far less gradient to its first layer than one clipped at 1
    assert norms["0.01"][0] < 0.1 * norms["1"][0]
    text = (out / "clipping_window.md").read_text()
    assert "| depth \\ c | 0.01 | 1 |" in text and text.count("| 3 | ") == 2
    assert (out / "clipping_window.png").stat().st_size > 20_000
    with pytest.raises(SystemExit):
        from wgan import cli

        cli.main(["reproduce", "clipping-window", "--report-only", "--out", str(tmp_path / "empty")])


@pytest.mark.parametrize("argv, message", [
    (["reproduce", "lines", "--seeds", "3"], "--seeds only apply to `reproduce batchnorm-critic` and "
                                             "`reproduce clipping-window` and `reproduce optimizers`"),
    (["reproduce", "optimizers", "--seeds", "0"], "--seeds: expected a positive integer, got 0"),
    (["reproduce", "clipping-window", "--trials", "2"], "--trials only apply to `reproduce robustness`"),
])
def test_reproduce_options_are_checked(argv, message, tmp_path, capsys):
    from wgan import cli

    with pytest.raises(SystemExit) as exc:
        cli.main([*argv, "--out", str(tmp_path)])
    assert exc.value.code == 2 and message in capsys.readouterr().err
