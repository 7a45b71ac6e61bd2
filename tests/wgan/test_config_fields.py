"""One declaration per config field: the flags of `wgan train`, validation, the docs' option table and the
resolved type all follow `TrainConfig`'s field declarations (issue 25, items 1-3)."""
from __future__ import annotations

import argparse
import typing
from dataclasses import fields
from pathlib import Path

import pytest

from wgan import ConfigError, ResolvedConfig, TrainConfig, cli
from wgan.algorithms import ALGORITHMS, get_algorithm
from wgan.algorithms.options import TOP_LEVEL
from wgan.config import settings

ROOT = Path(__file__).resolve().parents[2]

#: Fields recorded rather than set by a flag of their own name.
RECORDED = {
    "out_dir",            # its flag is --out (the run folder)
    "dataset_options",    # the dataset builder's keywords: given in a --config file or from Python
    "algorithm_options",  # filled by each option's own flag (--dragan-c, ...)
    "algorithm_path",     # filled by resolve() for an algorithm registered from Python
    "extensions",         # written by --resume with a new --steps
}
#: Flags that are actions rather than fields (handled by `wgan.cli._train`).
ACTIONS = {"--config", "--resume", "--extend-lr", "--threads", "--tensorboard", "--no-progress", "--no-graph",
           "--no-cuda-graph", "--overwrite"}


def _train_parser() -> argparse.ArgumentParser:
    return cli.build_parser().commands["train"]


def _option_names() -> set[str]:
    return {opt.name for name in ALGORITHMS for opt in get_algorithm(name).options}


def test_every_field_has_a_flag_and_every_flag_sets_a_field_or_an_option():
    actions = [a for a in _train_parser()._actions if a.option_strings and a.dest != "help"]
    dests = {a.dest for a in actions}
    names = {f.name for f in fields(TrainConfig)}
    assert sorted(names - dests - RECORDED) == [], "fields without a flag"
    options = {cli._OPTION_DEST + name for name in _option_names()}
    strays = [a.option_strings for a in actions
              if a.dest not in names and a.dest not in options and not set(a.option_strings) <= ACTIONS]
    assert strays == [], "flags that set no field, no algorithm option and are no action"
    assert {a.dest for a in actions if set(a.option_strings) & ACTIONS}.isdisjoint(names), "an action sets a field"
    # the recorded fields other than out_dir have no flag of their own name
    flags = {s for a in actions for s in a.option_strings}
    assert not {"--" + n.replace("_", "-") for n in RECORDED} & flags


@pytest.mark.parametrize("argv, field, value", [
    (["--gp-eps", "1e-8"], "gp_eps", 1e-8),
    (["--penalty", "one-sided"], "penalty", "one-sided"),
    (["--plot-every", "10"], "plot_every", 10),
    (["--rmsprop-eps", "1e-8"], "rmsprop_eps", 1e-8),
])
def test_the_four_flags_the_cli_once_rejected_set_their_fields(argv, field, value, tmp_path):
    args = _train_parser().parse_args([*argv, "--out", str(tmp_path)])
    config = cli.config_from_args(args)
    assert getattr(config, field) == value
    assert getattr(config.resolve(), field) == value


def test_the_resolved_type_has_the_fields_with_their_resolved_types():
    spelled = {opt.name for opt in TOP_LEVEL}
    assert [f.name for f in fields(ResolvedConfig)] == [n for n in settings() if n not in spelled]
    hints = typing.get_type_hints(ResolvedConfig)
    optional = {name for name, hint in hints.items() if type(None) in typing.get_args(hint)}
    assert optional == {name for name, (spec, _) in settings().items() if spec.nullable}
    for opt in TOP_LEVEL:  # the shared options' top-level spellings read the algorithm's options
        assert isinstance(getattr(ResolvedConfig, opt.name), property)
    resolved = TrainConfig(algorithm="dragan").resolve()
    assert (resolved.gp_lambda, resolved.gp_eps, resolved.clip) == (10.0, 1e-12, 0.0)
    assert set(resolved.algorithm_options) == {"gp_lambda", "gp_eps", "dragan_c"}


def _bad_values(name: str, spec, kind) -> list:
    if spec.choices is not None:
        return ["no-such-choice"]
    if kind is bool:
        return [1]
    if kind is int:
        return [2.5, int(spec.minimum or 0) - 1]
    if kind is float:
        return ["1", -1.0] + ([spec.below] if spec.below is not None else []) + ([0.0] if spec.positive else [])
    if kind is tuple:
        return [(0.5, 1.5), 5]
    return [5]  # a number for a text, a table or a list


@pytest.mark.parametrize("name", [n for n, (spec, _) in settings().items()
                                  if spec.option is None and n != "algorithm_path"])  # (resolve() fills it)
def test_every_field_is_validated_as_declared(name):
    spec, kind = settings()[name]
    for value in _bad_values(name, spec, kind):
        with pytest.raises(ConfigError, match=f"^{name}: "):
            TrainConfig(**{name: value}).resolve()


def test_option_table_in_the_docs_is_generated_from_the_declarations():
    page = (ROOT / "docs" / "options.md").read_text()
    assert page == cli.options_page(), "docs/options.md is stale: run python3 scripts/make_options_page.py"
    for name in settings():
        assert f"`{name}`" in page
    for name in _option_names():
        assert f"--{name.replace('_', '-')}" in page


def test_reproduction_flags_go_to_the_reproductions_whose_functions_take_them():
    from wgan.reproductions import REPRODUCTIONS

    for name in cli._REPRODUCE_FLAGS:
        takers = cli._takers(name)
        assert takers, f"--{name} applies to no reproduction"
        help_text = next(a.help for a in cli.build_parser().commands["reproduce"]._actions if a.dest == name)
        assert all(t in help_text for t in takers)
    assert set(cli._takers("seeds")) == {"batchnorm-critic", "clipping-window", "optimizers"}
    assert set(cli._takers("trials")) == {"robustness"} and "lines" in REPRODUCTIONS


def test_a_shared_option_is_one_option_with_per_algorithm_and_preset_defaults(tmp_path):
    from wgan.algorithms.options import GP_LAMBDA

    takers = [name for name in ALGORITHMS if GP_LAMBDA in get_algorithm(name).options]
    assert takers == ["wgan-gp", "wgan-lp", "dragan"]
    assert TrainConfig(algorithm="wgan-gp", preset="toy").resolve().algorithm_options["gp_lambda"] == 0.1
    assert TrainConfig(algorithm="dragan", preset="toy").resolve().algorithm_options["gp_lambda"] == 10.0
    # the old spelling and algorithm_options are one value
    assert TrainConfig(algorithm="dragan", gp_lambda=2.0).resolve() == \
        TrainConfig(algorithm="dragan", algorithm_options={"gp_lambda": 2.0}).resolve()
    with pytest.raises(ConfigError, match="gp_lambda: given twice"):
        TrainConfig(gp_lambda=1.0, algorithm_options={"gp_lambda": 2.0}).resolve()
    # a file of the earlier format writes every shared field; those the algorithm does not read hold "unused"
    old = dict(TrainConfig(algorithm="gan").resolve().to_dict(), gp_lambda=0.0, penalty="none", gp_eps=1e-12,
               clip=0.0, clip_placement="after")
    assert TrainConfig.from_dict(old).resolve().algorithm_options == {}
    # config.json writes the options the algorithm reads under their top-level names, the others in
    # algorithm_options
    saved = TrainConfig(algorithm="dragan", gp_lambda=2.0).resolve().to_dict()
    assert saved["gp_lambda"] == 2.0 and "clip" not in saved and saved["algorithm_options"] == {"dragan_c": 0.5}
    # the CLI's flag of a shared option beats the --config file's value
    config = tmp_path / "config.json"
    TrainConfig(algorithm="dragan", gp_lambda=2.0).resolve().save(config)
    args = _train_parser().parse_args(["--config", str(config), "--gp-lambda", "3", "--out", str(tmp_path)])
    assert cli.config_from_args(args).resolve().gp_lambda == 3.0
