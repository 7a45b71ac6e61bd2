"""Sweep specs: trials derived from a spec, and bad specs rejected before anything runs, naming the field."""
import json

import pytest

from wgan import cli
from wgan.sweep import SpecError, SweepSpec, load_spec

BASE = {"dataset": "8gaussians", "preset": "toy", "width": 8, "depth": 1, "steps": 5}


def spec_dict(**changes) -> dict:
    data = {"metric": "w1", "base": dict(BASE), "grid": {"gp_lambda": [0.1, 1.0]}, "seeds": 2}
    data.update(changes)
    return data


def test_grid_times_seeds_gives_the_trials_in_order():
    trials = load_spec(spec_dict()).trials()
    assert [(t.index, t.config_index, t.seed_index) for t in trials] == [(0, 0, 0), (1, 0, 1), (2, 1, 0), (3, 1, 1)]
    assert [t.overrides for t in trials] == [{"gp_lambda": 0.1}] * 2 + [{"gp_lambda": 1.0}] * 2
    assert trials[0].config == dict(BASE, gp_lambda=0.1, seed=trials[0].seed)
    # the j-th seed is shared by every configuration, and differs between j's and sweep seeds
    assert trials[0].seed == trials[2].seed != trials[1].seed == trials[3].seed
    other = load_spec(spec_dict(seed=1)).trials()
    assert other[0].seed != trials[0].seed


def test_random_draws_follow_the_seed_and_keep_earlier_draws_when_extended():
    data = spec_dict(grid={}, random={"lr_d": {"loguniform": [1e-5, 1e-3]}, "width": [8, 16],
                                      "n_critic": {"randint": [1, 3]}}, random_configs=3, seeds=1)
    first = [t.overrides for t in load_spec(data).trials()]
    assert len(first) == 3 and all(1e-5 <= o["lr_d"] <= 1e-3 and o["width"] in (8, 16) and
                                   o["n_critic"] in (1, 2, 3) for o in first)
    assert first == [t.overrides for t in load_spec(data).trials()]
    more = [t.overrides for t in load_spec(dict(data, random_configs=5)).trials()]
    assert more[:3] == first and len(more) == 5


def test_every_grid_point_and_config_shares_the_random_draws():
    data = spec_dict(random={"lr_d": {"uniform": [1e-4, 1e-3]}}, random_configs=2, seeds=1,
                     configs=[{"algorithm": "wgan-gp"}, {"algorithm": "wgan-lp"}])
    overrides = [t.overrides for t in load_spec(data).trials()]
    assert [(o["algorithm"], o["gp_lambda"]) for o in overrides[:4]] == \
        [("wgan-gp", 0.1), ("wgan-gp", 1.0), ("wgan-lp", 0.1), ("wgan-lp", 1.0)]
    assert len(overrides) == 8 and len({o["lr_d"] for o in overrides[:4]}) == 1  # one draw for all four
    assert overrides[4]["lr_d"] != overrides[0]["lr_d"]
    assert load_spec(data).swept_fields == ["gp_lambda", "algorithm", "lr_d"]


@pytest.mark.parametrize("changes, message", [
    ({"grid": {"gp_lamda": [1.0]}}, "grid.gp_lamda: not a TrainConfig field"),
    ({"grid": {"gp_lambda": []}}, "grid.gp_lambda: empty list of values"),
    ({"grid": {"gp_lambda": 1.0}}, "grid.gp_lambda: expected a list of values"),
    ({"grid": {"steps": ["100"]}}, "grid.steps[0] = '100': steps: expected an int"),
    ({"grid": {"width": [8, 2.5]}}, "grid.width[1] = 2.5: width: expected an int"),
    ({"grid": {"activation": ["relu", "swish"]}}, "grid.activation[1] = 'swish': activation"),
    ({"base": dict(BASE, lr_g="fast")}, "base: lr_g: expected a finite number"),
    ({"base": dict(BASE, widht=8)}, "base.widht: not a TrainConfig field"),
    ({"base": dict(BASE, seed=3)}, "base.seed: trial seeds derive from the sweep's `seed`"),
    ({"grid": {"out_dir": ["a"]}}, "grid.out_dir: the sweep sets each trial's run folder"),
    ({"random": {"lr_d": {"normal": [0, 1]}}, "random_configs": 2}, "random.lr_d: expected a list of choices"),
    ({"random": {"lr_d": {"loguniform": [0.0, 1e-3]}}, "random_configs": 2}, "random.lr_d: loguniform needs lo > 0"),
    ({"random": {"lr_d": {"uniform": [-1.0, 1e-3]}}, "random_configs": 2}, "random.lr_d.uniform bound -1.0: lr_d"),
    ({"random": {"width": [8]}}, "random_configs: needed with [random]"),
    ({"random": {"gp_lambda": [1.0]}, "random_configs": 1}, "random.gp_lambda: the field is also in grid"),
    ({"seeds": 0}, "seeds: expected an int >= 1"),
    ({"gird": {}}, "unknown key 'gird'"),
    ({"metric": ""}, "metric: expected a metric name"),
    ({"report_field": "width"}, "report_field: 'width' is not a swept field"),
    ({"base": dict(BASE, dataset="8gausians")}, "dataset: make_dataset: unknown dataset '8gausians'"),
    ({"base": dict(BASE, algorithm="wgan-gp"), "grid": {"critic_norm": ["none", "batchnorm"]}},
     "grid.critic_norm[1] = 'batchnorm': critic_norm: batch norm is not allowed"),
    ({"imports": ["no_such_module_xyz"]}, "imports: cannot import 'no_such_module_xyz'"),
    ({"configs": []}, "configs: expected a non-empty list"),
    ({"configs": [{"widht": 8}]}, "configs[0].widht: not a TrainConfig field"),
    ({"configs": [{"gp_lambda": 2.0}]}, "configs[0].gp_lambda: the field is also in grid"),
    ({"configs": [{"width": 8}, {"width": -1}]}, "configs[1]: width: expected an int >= 1"),
])
def test_bad_specs_are_rejected_naming_the_field(changes, message):
    with pytest.raises(SpecError) as info:
        load_spec(spec_dict(**changes))
    assert message in str(info.value)


def test_missing_metric_is_named():
    data = spec_dict()
    del data["metric"]
    with pytest.raises(SpecError, match="missing key 'metric'"):
        SweepSpec.from_dict(data)


def test_cli_rejects_a_bad_spec_before_anything_runs(tmp_path, capsys):
    spec = tmp_path / "sweep.toml"
    spec.write_text('metric = "w1"\n[base]\ndataset = "8gaussians"\n[grid]\nn_critic = [5, 0]\n')
    out = tmp_path / "sweep"
    with pytest.raises(SystemExit) as info:
        cli.main(["sweep", str(spec), "--out", str(out), "--no-progress"])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("wgan sweep: error:") and "grid.n_critic[1] = 0: n_critic: expected an int >= 1" in err
    assert not out.exists()  # nothing was written, no cluster started


def test_cli_reads_json_and_reports_malformed_files(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"metric": "w1", ')
    with pytest.raises(SystemExit):
        cli.main(["sweep", str(bad), "--out", str(tmp_path / "o")])
    assert "is malformed" in capsys.readouterr().err
    good = tmp_path / "good.json"
    good.write_text(json.dumps(spec_dict()))
    assert len(load_spec(good).trials()) == 4
    with pytest.raises(SystemExit):
        cli.main(["sweep", str(tmp_path / "x.yaml"), "--out", str(tmp_path / "o")])
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["gp_lambda.toml", "random_lr.toml"])
def test_the_example_specs_are_valid(name):
    from pathlib import Path

    spec = load_spec(Path(__file__).resolve().parents[2] / "examples" / "sweeps" / name)
    assert len(spec.trials()) == {"gp_lambda.toml": 15, "random_lr.toml": 16}[name]
