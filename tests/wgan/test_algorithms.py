"""Algorithms as plug-ins: the registry, declarations (defaults, presets, options), the trainer's generic
hooks, algorithms from outside the package (registered names and import paths, in fresh processes too)."""
from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import wgan
from wgan import ConfigError, TrainConfig, Trainer, algorithms, cli
from wgan.algorithms import Algorithm, Option, get_algorithm, register
from wgan.algorithms.wgan_gp import WGANGP
from wgan.data import from_array

PACKAGE = Path(wgan.__file__).resolve().parent
TINY = dict(dataset="8gaussians", preset="toy", width=8, depth=1, batch_size=16, steps=2, eval_every=0,
            checkpoint_every=0)



def _readme_plugin() -> str:
    """The README's complete custom algorithm ("Your own algorithm"), as the user would save it."""
    text = (PACKAGE.parent / "README.md").read_text()
    blocks = re.findall(r"^```python\n(.*?)^```", text, re.M | re.S)
    (block,) = [b for b in blocks if "class ZeroCentredGP" in b]
    return block


PLUGIN = _readme_plugin()


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    """The README's plug-in as an importable module `zcgp_plugin` in tmp_path (also on the children's path)."""
    (tmp_path / "zcgp_plugin.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    module = importlib.import_module("zcgp_plugin")
    yield module
    sys.modules.pop("zcgp_plugin", None)
    algorithms._REGISTRY.pop("wgan-0gp", None)


def _run_cli(*argv, cwd):
    repo = PACKAGE.parent
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(repo), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-m", "wgan", *argv], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


# ----------------------------------------------------------------------------- declarations
@pytest.mark.parametrize("name", algorithms.ALGORITHMS)
def test_each_builtin_algorithm_has_its_own_file_citing_its_paper(name):
    cls = get_algorithm(name)
    module = sys.modules[cls.__module__]
    assert Path(module.__file__).parent == PACKAGE / "algorithms"
    assert Path(module.__file__).stem == name.replace("-", "_")
    assert re.search(r"(19|20)\d\d", module.__doc__), "the docstring cites the paper and its year"
    assert cls.name == name and cls.defaults, "the paper's defaults are declared"
    TrainConfig(algorithm=name).resolve()
    TrainConfig(algorithm=name, preset="toy").resolve()


def test_nothing_outside_an_algorithms_file_branches_on_its_name_penalty_or_clipping():
    pattern = re.compile(r"\b(config|cfg|self\.config)\.(penalty|clip|clip_placement|gp_lambda|loss)\b"
                         r"|\b(config|cfg)\.algorithm\s*(==|!=|in\b)")
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.parent.name == "algorithms":
            continue
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line):
                offenders.append(f"{path.relative_to(PACKAGE)}:{lineno}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_a_field_the_algorithm_does_not_read_is_refused_not_ignored():
    with pytest.raises(ConfigError, match="gp_lambda: sngan does not use it"):
        TrainConfig(algorithm="sngan", gp_lambda=10.0).resolve()
    with pytest.raises(ConfigError, match="clip: wgan-gp does not use it"):
        TrainConfig(algorithm="wgan-gp", clip=0.01).resolve()
    with pytest.raises(ConfigError, match="loss: 'hinge' is not one of wgan"):
        TrainConfig(algorithm=_OnlyWGANLoss.path(), loss="hinge").resolve()


class _OnlyWGANLoss(Algorithm):
    name = "only-wgan-loss"
    losses = ("wgan",)

    @classmethod
    def path(cls):
        return f"{__name__}:{cls.__qualname__}"


def test_the_batch_norm_refusal_is_the_algorithms_and_can_be_overridden():
    images = np.random.default_rng(0).uniform(-1, 1, size=(8, 1, 16, 16)).astype(np.float32)
    small = dict(base_filters=4, z_dim=4, batch_size=4, n_critic=1, steps=1, eval_every=0, checkpoint_every=0,
                 critic_norm="batchnorm")
    with pytest.raises(ConfigError, match="critic_norm: batch norm is not allowed"):
        Trainer(TrainConfig(algorithm="wgan-gp", **small), dataset=from_array(images))
    trainer = Trainer(TrainConfig(algorithm=f"{__name__}:BatchNormGP", **small), dataset=from_array(images))
    assert any("BatchNorm" in type(m).__name__ for m in trainer.critic.modules())
    assert np.isfinite(trainer.fit()[-1]["w_estimate"])


class BatchNormGP(WGANGP):
    """wgan-gp that knowingly accepts a batch-norm critic (the explicit override)."""

    @classmethod
    def allows_batchnorm_critic(cls, config) -> bool:
        return True


# ----------------------------------------------------------------------------- options
def test_declared_options_get_defaults_preset_values_checks_and_cli_flags(plugin):
    cfg = TrainConfig(algorithm="wgan-0gp").resolve()
    assert cfg.algorithm_options == {"zc_lambda": 10.0} and cfg.betas == (0.0, 0.9)
    assert cfg.algorithm_path == "zcgp_plugin:ZeroCentredGP"
    toy = TrainConfig(algorithm="wgan-0gp", preset="toy").resolve()
    assert toy.algorithm_options == {"zc_lambda": 1.0} and toy.betas == (0.5, 0.9) and toy.width == 512
    assert TrainConfig(algorithm="wgan-0gp", algorithm_options={"zc_lambda": 3}).resolve() \
        .algorithm_options == {"zc_lambda": 3.0}
    with pytest.raises(ConfigError, match="zc_lambda: expected a value > 0.0"):
        TrainConfig(algorithm="wgan-0gp", algorithm_options={"zc_lambda": 0.0}).resolve()
    with pytest.raises(ConfigError, match=r"algorithm_options: \['gamma'\] are not options of wgan-0gp"):
        TrainConfig(algorithm="wgan-0gp", algorithm_options={"gamma": 1.0}).resolve()
    args = cli.build_parser(plugin.ZeroCentredGP).parse_args(["train", "--algorithm", "wgan-0gp", "--zc-lambda", "2"])
    assert cli.config_from_args(args).resolve().algorithm_options == {"zc_lambda": 2.0}


def test_option_type_checks():
    opt = Option("coding", (0.0, 1.0, 1.0), "a tuple", type=tuple)
    assert opt.check([0, 1, 1]) == (0.0, 1.0, 1.0)
    with pytest.raises(ConfigError, match="coding: expected 3 numbers"):
        opt.check((1, 2))
    with pytest.raises(ConfigError, match="mode: 'x' is not one of a, b"):
        Option("mode", "a", "a choice", type=str, choices=("a", "b")).check("x")
    with pytest.raises(ConfigError, match="flag: expected true or false"):
        Option("flag", False, "a bool", type=bool).check(1)


# ----------------------------------------------------------------------------- outside the package
def test_an_algorithm_from_an_import_path_trains_and_is_found_again_by_resume(tmp_path):
    config = TrainConfig(algorithm=f"{__name__}:BatchNormGP", out_dir=str(tmp_path / "run"), **TINY)
    Trainer(config).fit()
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["algorithm"] == f"{__name__}:BatchNormGP" and saved["algorithm_path"] is None
    resumed = Trainer.resume(tmp_path / "run", steps=3)
    assert isinstance(resumed.algorithm, BatchNormGP)
    resumed.fit()
    assert resumed.step == 3


def test_a_registered_algorithm_trains_from_the_cli_and_resumes_in_a_fresh_process(plugin, tmp_path):
    # the CLI in a child process: selected by import path, with its own flag
    run = tmp_path / "cli-run"
    out = _run_cli("train", "--algorithm", "zcgp_plugin:ZeroCentredGP", "--preset", "toy", "--zc-lambda", "2",
                   "--width", "8", "--depth", "1", "--batch-size", "16", "--steps", "2", "--eval-every", "0",
                   "--no-progress", "--out", str(run), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert TrainConfig.load(run / "config.json").algorithm_options == {"zc_lambda": 2.0}
    # registered by name in this process; a fresh `wgan` process finds it through algorithm_path
    run2 = tmp_path / "api-run"
    Trainer(TrainConfig(algorithm="wgan-0gp", out_dir=str(run2), **TINY)).fit()
    out = _run_cli("train", "--resume", str(run2), "--steps", "3", "--no-progress", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert [json.loads(line)["step"] for line in (run2 / "metrics.jsonl").read_text().splitlines()] == [1, 2, 3]
    out = _run_cli("eval", str(run2), "-n", "50", cwd=tmp_path)
    assert out.returncode == 0 and "w1" in json.loads(out.stdout), out.stderr


def test_registry_errors():
    with pytest.raises(ConfigError, match="algorithm: 'nope' is not one of wgan-clip, wgan-gp"):
        TrainConfig(algorithm="nope").resolve()
    with pytest.raises(ConfigError, match="cannot import module 'no_such_module'"):
        TrainConfig(algorithm="no_such_module:X").resolve()
    with pytest.raises(ConfigError, match="has no attribute 'Missing'"):
        TrainConfig(algorithm=f"{__name__}:Missing").resolve()
    with pytest.raises(ConfigError, match="not a subclass of wgan.algorithms.Algorithm"):
        TrainConfig(algorithm="json:dumps").resolve()
    with pytest.raises(ValueError, match="'wgan-gp' is a built-in algorithm"):
        register(BatchNormGP, "wgan-gp")


def test_cli_refuses_another_algorithms_option(capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        cli.main(["train", "--algorithm", "wgan-gp", "--zc-lambda", "1", "--out", str(tmp_path)])
    assert exc.value.code == 2
    assert "unrecognized arguments: --zc-lambda" in capsys.readouterr().err


def test_nothing_in_the_package_was_edited_for_the_plugin(plugin):
    assert "wgan-0gp" not in "".join(p.read_text() for p in PACKAGE.rglob("*.py"))
    code_lines = [line for line in PLUGIN.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert len(code_lines) <= 25
