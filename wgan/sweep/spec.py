"""Sweep specifications: a base `TrainConfig`, the fields to vary, and how many seeds per configuration.

A spec is a JSON or TOML file (or a dict) with these keys::

    metric = "w1"                 # required: the metric the report tabulates (a key of the runs' metrics)
    goal = "min"                  # "min" (default) or "max": which way the metric is better
    seed = 0                      # the sweep's seed: random draws and trial seeds derive from it
    seeds = 2                     # trials per configuration (default 1)
    random_configs = 4            # random draws per grid point (required with [random])
    report_field = "gp_lambda"    # the swept field on the report's x axis (default: the first one)
    imports = ["mypkg.plugins"]   # modules imported on the client and on every worker before a trial

    configs = [{algorithm = "gan"}, {algorithm = "wgan-gp", critic_norm = "layernorm"}]
                                  # optional: explicit configurations (field -> value tables)

    [base]                        # TrainConfig fields shared by every trial (not seed or out_dir)
    dataset = "8gaussians"
    steps = 2000

    [grid]                        # field -> list of values: the cartesian product is taken
    gp_lambda = [0.1, 1.0, 10.0]

    [random]                      # field -> list (uniform choice) or one distribution:
    lr_d = {loguniform = [1e-5, 1e-3]}    # {uniform = [lo, hi]}, {loguniform = [lo, hi]},
    width = [64, 128, 256]                # {randint = [lo, hi]} (both ends included)

Configurations: for each random draw r (``random_configs`` of them, or one empty draw), each
explicit config of ``configs`` (or one empty one), each grid point (the grid's fields and values in
the spec's order): ``base | draw | config | grid point``. Draw r uses
``numpy.random.default_rng([seed, 1, r])`` and is shared by every config and grid point, so methods
or settings are compared on the same random draws (e.g. the same random architectures), and a
larger ``random_configs`` keeps the earlier draws. Trial ``config_index * seeds + j`` is configuration
``config_index`` with the j-th trial seed ``SeedSequence([seed, j])``: the same j-th seed for every
configuration, so configurations are compared on common random numbers (same initial weights
where the networks match, same data order).

Every check runs before anything is trained: unknown keys and fields, empty grids, values of
the wrong type (each grid value and each random choice is resolved into a `TrainConfig`), every
trial's full config, each distinct dataset spec and the imports; errors name the key and field.
"""
from __future__ import annotations

import importlib
import itertools
import json
import math
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from wgan.config import ConfigError, ResolvedConfig, TrainConfig

__all__ = ["SpecError", "SweepSpec", "Trial", "load_spec", "DISTRIBUTIONS"]

SPEC_KEYS = ("metric", "goal", "seed", "seeds", "random_configs", "report_field", "imports", "base", "configs",
             "grid", "random")
DISTRIBUTIONS = ("uniform", "loguniform", "randint")
_CONFIG_FIELDS = tuple(f.name for f in fields(TrainConfig))
_NOT_SWEPT = {"seed": "trial seeds derive from the sweep's `seed` and `seeds`; set those instead",
              "out_dir": "the sweep sets each trial's run folder (DIR/trials/NNNN)"}


class SpecError(ConfigError):
    """A sweep spec is invalid; the message names the key (and field) at fault."""


@dataclass(frozen=True)
class Trial:
    """One training run of a sweep: configuration ``config_index`` with its ``seed_index``-th seed.

    ``overrides`` holds the swept fields' values of its configuration; ``config`` the full
    `TrainConfig` fields (base, overrides and ``seed``; ``out_dir`` unset).
    """

    index: int
    config_index: int
    seed_index: int
    seed: int
    overrides: dict
    config: dict

    def run_dir(self, sweep_dir) -> Path:
        """The trial's run folder: ``sweep_dir/trials/NNNN``."""
        return Path(sweep_dir) / "trials" / f"{self.index:04d}"

    def to_dict(self) -> dict:
        return {"index": self.index, "config_index": self.config_index, "seed_index": self.seed_index,
                "seed": self.seed, "overrides": dict(self.overrides), "config": dict(self.config)}

    @classmethod
    def from_dict(cls, data: dict) -> Trial:
        return cls(**data)

    @property
    def needs_gpu(self) -> bool:
        return str(self.config.get("device", "cpu")).startswith("cuda")


@dataclass
class SweepSpec:
    """A parsed, checked sweep spec (see the module docstring for the keys)."""

    metric: str
    base: dict = field(default_factory=dict)
    grid: dict = field(default_factory=dict)
    configs: list = field(default_factory=list)
    random: dict = field(default_factory=dict)
    random_configs: int = 1
    seeds: int = 1
    seed: int = 0
    goal: str = "min"
    report_field: str | None = None
    imports: list = field(default_factory=list)

    # ------------------------------------------------------------------ parsing
    @classmethod
    def from_dict(cls, data: Any, source: str = "spec") -> SweepSpec:
        """Check the structure of a spec dict (keys, types, non-empty grids) and build a SweepSpec.

        The trials' configs are checked by `check`, which `load_spec` and `run_sweep` call.
        """
        if not isinstance(data, dict):
            raise SpecError(f"{source}: expected a table/object of sweep keys, got {type(data).__name__}")
        unknown = [k for k in data if k not in SPEC_KEYS]
        if unknown:
            raise SpecError(f"{source}: unknown key {unknown[0]!r}; valid keys: {', '.join(SPEC_KEYS)}")
        if "metric" not in data:
            raise SpecError(f"{source}: missing key 'metric' (the metric to report, e.g. \"w1\" or \"fid\")")
        metric = data["metric"]
        if not isinstance(metric, str) or not metric:
            raise SpecError(f"{source}: metric: expected a metric name, got {metric!r}")
        goal = data.get("goal", "min")
        if goal not in ("min", "max"):
            raise SpecError(f"{source}: goal: expected \"min\" or \"max\", got {goal!r}")
        seed = _int(data.get("seed", 0), f"{source}: seed", minimum=0)
        seeds = _int(data.get("seeds", 1), f"{source}: seeds", minimum=1)
        base = data.get("base", {})
        if not isinstance(base, dict):
            raise SpecError(f"{source}: base: expected a table of TrainConfig fields, got {type(base).__name__}")
        for name in base:
            _check_field(name, f"{source}: base.{name}")
        grid = _table(data.get("grid", {}), f"{source}: grid")
        for name, values in grid.items():
            _check_field(name, f"{source}: grid.{name}")
            if not isinstance(values, list):
                raise SpecError(f"{source}: grid.{name}: expected a list of values, got {values!r}")
            if not values:
                raise SpecError(f"{source}: grid.{name}: empty list of values")
        configs = data.get("configs", [])
        if not isinstance(configs, list) or not configs and "configs" in data:
            raise SpecError(f"{source}: configs: expected a non-empty list of tables of TrainConfig fields, "
                            f"got {configs!r}")
        for i, config in enumerate(configs):
            if not isinstance(config, dict):
                raise SpecError(f"{source}: configs[{i}]: expected a table of TrainConfig fields, got {config!r}")
            for name in config:
                _check_field(name, f"{source}: configs[{i}].{name}")
                if name in grid:
                    raise SpecError(f"{source}: configs[{i}].{name}: the field is also in grid; vary it in one place")
        random = _table(data.get("random", {}), f"{source}: random")
        for name, choice in random.items():
            _check_field(name, f"{source}: random.{name}")
            if name in grid or any(name in c for c in configs):
                raise SpecError(f"{source}: random.{name}: the field is also in grid or configs; vary it in one place")
            _check_choice(choice, f"{source}: random.{name}")
        if random and "random_configs" not in data:
            raise SpecError(f"{source}: random_configs: needed with [random] (random draws per grid point)")
        if "random_configs" in data and not random:
            raise SpecError(f"{source}: random_configs: given without a [random] table of fields to draw")
        random_configs = _int(data.get("random_configs", 1), f"{source}: random_configs", minimum=1)
        report_field = data.get("report_field")
        swept = list(dict.fromkeys([*grid, *(k for c in configs for k in c), *random]))
        if report_field is not None and report_field not in swept:
            raise SpecError(f"{source}: report_field: {report_field!r} is not a swept field "
                            f"(swept: {', '.join(swept) or 'none'})")
        imports = data.get("imports", [])
        if not isinstance(imports, list) or not all(isinstance(m, str) and m for m in imports):
            raise SpecError(f"{source}: imports: expected a list of module names, got {imports!r}")
        return cls(metric=metric, base=dict(base), grid={k: list(v) for k, v in grid.items()},
                   configs=[dict(c) for c in configs],
                   random={k: (list(v) if isinstance(v, list) else dict(v)) for k, v in random.items()},
                   random_configs=random_configs, seeds=seeds, seed=seed, goal=goal, report_field=report_field,
                   imports=list(imports))

    def to_dict(self) -> dict:
        out = {"metric": self.metric, "goal": self.goal, "seed": self.seed, "seeds": self.seeds,
               "base": self.base, "grid": self.grid, "random": self.random, "imports": self.imports}
        if self.configs:
            out["configs"] = self.configs
        if self.random:
            out["random_configs"] = self.random_configs
        if self.report_field is not None:
            out["report_field"] = self.report_field
        return out

    # ------------------------------------------------------------------ trials
    @property
    def swept_fields(self) -> list[str]:
        """The varied fields: the grid's, the explicit configs', then the random ones, in the spec's order."""
        return list(dict.fromkeys([*self.grid, *(k for c in self.configs for k in c), *self.random]))

    @property
    def x_field(self) -> str | None:
        """The report's x axis: ``report_field``, or the first swept field."""
        return self.report_field or (self.swept_fields[0] if self.swept_fields else None)

    def configurations(self) -> list[dict]:
        """The overrides (swept field -> value) of every configuration, in index order."""
        names = list(self.grid)
        points = [dict(zip(names, values)) for values in itertools.product(*self.grid.values())]
        draws = [self._draw(r) for r in range(self.random_configs)] if self.random else [{}]
        return [dict(draw, **config, **point) for draw in draws for config in (self.configs or [{}])
                for point in points]

    def _draw(self, draw_index: int) -> dict:
        rng = np.random.default_rng([self.seed, 1, draw_index])
        return {name: _sample(choice, rng) for name, choice in self.random.items()}

    def trial_seed(self, seed_index: int) -> int:
        """The seed of every configuration's `seed_index`-th trial (a 31-bit int from the sweep's seed)."""
        return int(np.random.SeedSequence([self.seed, seed_index]).generate_state(1)[0] % 2 ** 31)

    def trials(self) -> list[Trial]:
        """Every trial, trial index = config_index * seeds + seed_index."""
        out: list[Trial] = []
        for k, overrides in enumerate(self.configurations()):
            for j in range(self.seeds):
                seed = self.trial_seed(j)
                out.append(Trial(len(out), k, j, seed, overrides, dict(self.base, **overrides, seed=seed)))
        return out

    # ------------------------------------------------------------------ checks
    def check(self) -> list[Trial]:
        """Check imports, the base, every swept value, each dataset and every trial's config; return the trials.

        Raises SpecError naming the key and field at fault (nothing is run).
        """
        for module in self.imports:
            try:
                importlib.import_module(module)
            except Exception as exc:
                raise SpecError(f"imports: cannot import {module!r} ({type(exc).__name__}: {exc})") from None
        _resolve(self.base, "base")
        for i, config in enumerate(self.configs):
            _resolve(dict(self.base, **config), f"configs[{i}]")
        for name, values in self.grid.items():
            for i, value in enumerate(values):
                _resolve(dict(self.base, **{name: value}), f"grid.{name}[{i}] = {value!r}")
        for name, choice in self.random.items():
            values = choice if isinstance(choice, list) else next(iter(choice.values()))
            for i, value in enumerate(values):
                where = f"random.{name}[{i}] = {value!r}" if isinstance(choice, list) else \
                    f"random.{name}.{next(iter(choice))} bound {value!r}"
                _resolve(dict(self.base, **{name: value}), where)
        trials = self.trials()
        sample_ndims: dict[str, int] = {}
        for trial in trials:
            where = f"trial {trial.index} ({_describe(trial.overrides)})"
            config = _resolve(trial.config, where)
            key = json.dumps([config.dataset, config.dataset_options], sort_keys=True, default=str)
            if key not in sample_ndims:
                sample_ndims[key] = _dataset_ndim(config, where)
            _resolve(trial.config, where, sample_ndim=sample_ndims[key])
        return trials


def load_spec(path) -> SweepSpec:
    """Read and check a spec from a .json or .toml file (a dict or SweepSpec passes through, checked)."""
    if isinstance(path, SweepSpec):
        spec = path
    elif isinstance(path, dict):
        spec = SweepSpec.from_dict(path)
    else:
        path = Path(path)
        if not path.is_file():
            raise SpecError(f"spec file {path} does not exist")
        text = path.read_text()
        try:
            if path.suffix.lower() == ".toml":
                data = tomllib.loads(text)
            elif path.suffix.lower() == ".json":
                data = json.loads(text)
            else:
                raise SpecError(f"spec file {path}: expected a .json or .toml file")
        except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
            raise SpecError(f"spec file {path} is malformed: {exc}") from None
        spec = SweepSpec.from_dict(data, source=str(path))
    spec.check()
    return spec


# ---------------------------------------------------------------------------------------------- helpers
def _int(value, where: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SpecError(f"{where}: expected an int >= {minimum}, got {value!r}")
    return value


def _table(value, where: str) -> dict:
    if not isinstance(value, dict):
        raise SpecError(f"{where}: expected a table of field -> values, got {type(value).__name__}")
    return value


def _check_field(name: str, where: str) -> None:
    if name not in _CONFIG_FIELDS:
        raise SpecError(f"{where}: not a TrainConfig field; valid fields: {', '.join(_CONFIG_FIELDS)}")
    if name in _NOT_SWEPT:
        raise SpecError(f"{where}: {_NOT_SWEPT[name]}")


def _check_choice(choice, where: str) -> None:
    if isinstance(choice, list):
        if not choice:
            raise SpecError(f"{where}: empty list of choices")
        return
    if not isinstance(choice, dict) or len(choice) != 1 or next(iter(choice)) not in DISTRIBUTIONS:
        raise SpecError(f"{where}: expected a list of choices or one of "
                        f"{{uniform = [lo, hi]}}, {{loguniform = [lo, hi]}}, {{randint = [lo, hi]}}; got {choice!r}")
    kind, bounds = next(iter(choice.items()))
    numbers = isinstance(bounds, list) and len(bounds) == 2 and all(
        isinstance(b, (int, float)) and not isinstance(b, bool) and math.isfinite(b) for b in bounds)
    if not numbers or not bounds[0] < bounds[1]:
        raise SpecError(f"{where}: {kind} needs [lo, hi] with finite lo < hi, got {bounds!r}")
    if kind == "loguniform" and bounds[0] <= 0:
        raise SpecError(f"{where}: loguniform needs lo > 0, got {bounds!r}")
    if kind == "randint" and not all(isinstance(b, int) for b in bounds):
        raise SpecError(f"{where}: randint needs integer bounds, got {bounds!r}")


def _sample(choice, rng: np.random.Generator):
    """One draw of a random choice, as a plain Python value."""
    if isinstance(choice, list):
        return choice[int(rng.integers(len(choice)))]
    kind, (lo, hi) = next(iter(choice.items()))
    if kind == "uniform":
        return float(rng.uniform(lo, hi))
    if kind == "loguniform":
        return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))
    return int(rng.integers(lo, hi + 1))


def _resolve(fields_: dict, where: str, sample_ndim: int | None = None) -> ResolvedConfig:
    try:
        return TrainConfig.from_dict(fields_).resolve(sample_ndim=sample_ndim)
    except (ConfigError, ValueError, TypeError) as exc:
        raise SpecError(f"{where}: {exc}") from None


def _dataset_ndim(config: ResolvedConfig, where: str) -> int:
    from wgan.data import make_dataset

    try:
        return len(make_dataset(config.dataset, **config.dataset_options).sample_shape)
    except (ValueError, TypeError, OSError) as exc:
        raise SpecError(f"{where}: dataset: {exc}") from None


def _describe(overrides: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in overrides.items()) or "the base config"
