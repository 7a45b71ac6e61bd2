"""`TrainConfig`: every knob of a training run, declared once; `ResolvedConfig`: the same run with every default
filled in and checked.

A config is written by the user with only the fields they care about; ``resolve()`` returns a `ResolvedConfig`
in which every field left as ``None`` holds the default of the chosen algorithm (and preset), and checks every
value, raising ``ConfigError`` naming the field. The trainer takes the resolved one.

Resolution layers, later ones winning: each field's ``base`` (the default under every algorithm's own), the
algorithm's ``defaults``, the preset's models (`PRESETS`), the algorithm's ``presets[preset]``, then the fields
the user gave. An algorithm's hyperparameters are its declared `Option` s (`wgan.algorithms.base`), resolved the
same way into ``algorithm_options``. The defaults of each algorithm are declared, with its paper, in its own file
under `wgan.algorithms`.

``preset="toy"`` is the official gan_toy.py's models: 3x512 ReLU MLPs (He-uniform hidden, Glorot-uniform output
init, zero biases), z ~ N(0, I_2), batch 256; each algorithm declares what the preset means for its optimizer and
hyperparameters (for the WGANs gan_toy's n_critic 5, lambda 0.1, Adam lr 1e-4 betas (0.5, 0.9); for wgan-clip
RMSprop lr 5e-5 with TF's decay 0.9 and eps 1e-10; the GAN baseline keeps its own optimizer and one discriminator
step).

One declaration per concept: how to add
-------------------------------------------
**A config field.** One line in `TrainConfig`, ``name: type | None = setting(help, group, ...)``: its help, its
group (`GROUPS`), its choices or range (``choices``, ``minimum``, ``positive``, ``below``), ``base`` when the
algorithms may set its default, ``resumable`` when ``--resume`` may change it, ``nullable`` when None is a
resolved value. Then one line in `ResolvedConfig` with its resolved type, and read it where it acts. The flag
(``--name-with-dashes``, in its group of ``wgan train --help``), its validation in `ResolvedConfig.validate`, the
option table of ``docs/options.md`` (``scripts/make_options_page.py`` rewrites it; a test checks it is current),
sweep specs and ``config.json`` follow from the declaration. `tests/wgan/test_config_fields.py` checks that the
two classes and the flags agree.

**A flag that is not a field** (an action: ``--resume``, ``--overwrite``): add it in `wgan.cli`'s
``_add_train_actions``, handle it in ``_train``, and list it in ``ACTIONS`` of
`tests/wgan/test_config_fields.py` (the test refuses a flag that maps to no field and is not listed).

**An algorithm option.** An `Option` in the ``options`` of the algorithms that read it (an option several share
is one `Option` object: `wgan.algorithms.options`); per-algorithm and per-preset defaults go in the algorithm's
``defaults`` and ``presets``. Its flag ``--name-with-dashes`` (in the group "algorithm options", naming the
algorithms that take it), its check and its row in the docs follow. Read it as
``config.algorithm_options["name"]``.

**An optimizer or a dataset.** ``wgan.optimizers.register`` / ``wgan.data.register``, or an import path
``module:attr`` given as ``--optimizer`` / ``--dataset``; see those modules.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from wgan.algorithms import ALGORITHMS, get_algorithm, import_path
from wgan.algorithms.base import Option
from wgan.algorithms.options import CLIP, CLIP_PLACEMENT, GP_EPS, GP_LAMBDA, PENALTY, TOP_LEVEL
from wgan.architectures import NONLINEARITIES
from wgan.validation import ConfigError, check_choice, check_float, check_int

__all__ = ["ALGORITHMS", "PRESETS", "GROUPS", "ConfigError", "TrainConfig", "ResolvedConfig", "Setting", "setting",
           "settings"]

MODELS = ("auto", "mlp", "dcgan")
NETWORK_MODELS = ("mlp", "dcgan", "resnet")
ACTIVATIONS = NONLINEARITIES
INITS = ("auto", "toy", "dcgan", "tflib", "torch")
CRITIC_NORMS = ("none", "layernorm", "batchnorm")

#: preset name -> the models, batch and latent it sets for every algorithm (gan_toy.py's).
PRESETS: dict[str, dict[str, Any]] = {
    "toy": dict(model="mlp", width=512, depth=3, activation="relu", init="toy", z_dim=2, batch_size=256),
}

#: group -> its heading in ``wgan train --help`` and in the docs' option table, in this order.
GROUPS: dict[str, str] = {
    "run": "data and run",
    "algorithm": "algorithm",
    "options": "algorithm options",
    "optimizer": "optimizer",
    "models": "models",
    "networks": "per network (g_*: the generator, d_*: the critic; unset: the shared field)",
    "aids": "averaged generator and held-out estimate",
    "logging": "logging, evaluation, figures and checkpoints",
    "recorded": "recorded in config.json (no flag)",
}

_UNSET = object()


# ----------------------------------------------------------------------------------------- field declarations
@dataclass(frozen=True)
class Setting:
    """What a `TrainConfig` field declares besides its name and type (its metadata, see `setting`).

    ``help`` (one line), ``group`` (a key of `GROUPS`); ``choices`` (a closed set of values, checked) or
    ``names`` (the built-in names of a registry that also takes names registered from Python and import
    paths, e.g. the algorithms: listed in the help, checked by ``check``);
    ``minimum`` (inclusive; exclusive with ``positive``) and ``below`` (an exclusive upper bound) for numbers;
    ``base``: the default under every algorithm's own (unset: the field's dataclass default is the resolved
    value, or ``resolve`` derives it as the help says); ``nullable``: None is a resolved value (the help says
    what it means); ``flag``: the flag's name when not ``--name-with-dashes`` ("" for none); ``metavar``;
    ``resumable``: ``--resume`` may change it (bookkeeping that leaves the training stream alone); ``option``:
    the algorithm `Option` this field spells at the top level (`wgan.algorithms.options.TOP_LEVEL`); ``check``:
    a further check of the value, raising ConfigError.
    """

    help: str
    group: str
    choices: tuple | None = None
    names: Callable[[], tuple[str, ...]] | None = None
    minimum: float | None = None
    positive: bool = False
    below: float | None = None
    base: Any = _UNSET
    nullable: bool = False
    flag: str | None = None
    metavar: str | tuple[str, ...] | None = None
    resumable: bool = False
    option: Option | None = None
    check: Callable[[Any], None] | None = None

    def flag_name(self, name: str) -> str | None:
        """The field's flag (None when it has none)."""
        if self.flag is not None:
            return self.flag or None
        return "--" + name.replace("_", "-")

    def validate(self, name: str, kind: type, value: Any) -> None:
        """Raise ConfigError, naming the field, when `value` is not a valid value of it."""
        if value is None and self.nullable:
            return
        if kind is bool:
            if not isinstance(value, bool):
                raise ConfigError(f"{name}: expected a bool, got {value!r}")
        elif kind is int:
            check_int(name, value, minimum=int(self.minimum or 0))
        elif kind is float:
            check_float(name, value, positive=self.positive)
            if self.below is not None and not value < self.below:
                raise ConfigError(f"{name}: must lie in [{self.minimum or 0:g}, {self.below:g}), got {value}")
        elif kind is tuple:
            lo, hi = self.minimum or 0.0, self.below
            if not isinstance(value, (tuple, list)) or len(value) != 2 or not all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) and lo <= v and (hi is None or v < hi)
                    for v in value):
                raise ConfigError(f"{name}: expected two numbers in [{lo:g}, {hi:g}), got {value}")
        elif kind is str:
            if not isinstance(value, str) or not value:
                raise ConfigError(f"{name}: expected a non-empty string, got {value!r}")
        elif not isinstance(value, kind):
            raise ConfigError(f"{name}: expected a {kind.__name__}, got {type(value).__name__}")
        if self.choices is not None:
            check_choice(name, value, self.choices)
        if self.check is not None:
            self.check(value)


def setting(help: str, group: str, default: Any = None, *, default_factory: Any = None, **declared) -> Any:
    """A `TrainConfig` field with its `Setting` (`help`, `group` and the `Setting` keywords in `declared`)."""
    metadata = {"setting": Setting(help, group, **declared)}
    if default_factory is not None:
        return field(default_factory=default_factory, metadata=metadata)
    return field(default=default, metadata=metadata)


def _top_level(option: Option) -> Any:
    """The `TrainConfig` field that spells a shared algorithm option at the top level (default None: the
    algorithm's value; an algorithm that does not read it refuses any value but the option's ``unused``)."""
    return setting(option.help, "options", choices=option.choices, minimum=option.minimum, positive=option.positive,
                   metavar=option.metavar, option=option)


def _check_device(value: str) -> None:
    from minigrad.backend import normalize_device

    try:
        normalize_device(value)
    except ValueError as exc:
        raise ConfigError(f"device: {exc}") from None


def _check_optimizer(value: str) -> None:
    from wgan.optimizers import get_optimizer

    get_optimizer(value)


def _dataset_names() -> tuple[str, ...]:
    from wgan.data import DATASET_NAMES

    return DATASET_NAMES


def _optimizer_names() -> tuple[str, ...]:
    from wgan.optimizers import OPTIMIZERS

    return OPTIMIZERS


def _algorithm_names() -> tuple[str, ...]:
    return ALGORITHMS


_EXTENSION_KEYS = {"at_step", "from_steps", "to_steps", "extend_lr", "lr_g", "lr_d"}


def _check_extensions(extensions) -> None:
    for i, record in enumerate(extensions):
        if not isinstance(record, dict) or set(record) != _EXTENSION_KEYS:
            raise ConfigError(f"extensions[{i}]: expected a record with the keys {sorted(_EXTENSION_KEYS)}, "
                              f"got {record!r}")
        if record["extend_lr"] not in (None, "constant", "linear"):
            raise ConfigError(f"extensions[{i}].extend_lr: {record['extend_lr']!r} is not one of None, constant, "
                              "linear")
        for key in ("at_step", "from_steps", "to_steps"):
            check_int(f"extensions[{i}].{key}", record[key], minimum=0)
        if record["to_steps"] <= record["at_step"] and record["extend_lr"] == "linear":
            raise ConfigError(f"extensions[{i}]: a linear extension must end after it starts, got at_step "
                              f"{record['at_step']} and to_steps {record['to_steps']}")
        for key in ("lr_g", "lr_d"):
            check_float(f"extensions[{i}].{key}", record[key], positive=False)


# ----------------------------------------------------------------------------------------- the config
@dataclass
class TrainConfig:
    """A training run as the user writes it. Fields left ``None`` take the algorithm's default in ``resolve()``.

    Every field is declared below with its help, group, choices or range (`setting`); ``wgan train --help`` and
    ``docs/options.md`` list them by group. The shared algorithm options ``gp_lambda``, ``penalty``, ``gp_eps``,
    ``clip`` and ``clip_placement`` are fields here under the names users know; they resolve into
    ``algorithm_options`` with each algorithm's other options (`wgan.algorithms.options`).
    """

    # data and run
    dataset: str = setting("dataset spec (or an import path module:builder)", "run", "8gaussians",
                           names=_dataset_names, metavar="SPEC")
    steps: int = setting("generator iterations", "run", 1000, minimum=1)
    seed: int = setting("random seed (weights, data order, noise)", "run", 0, minimum=0)
    device: str = setting("cpu or cuda (cuda:N)", "run", "cpu", resumable=True, check=_check_device)
    # algorithm
    algorithm: str = setting("the algorithm (wgan.algorithms)", "algorithm", "wgan-gp", names=_algorithm_names,
                             metavar="NAME")
    preset: str | None = setting("parameter preset: toy is the official gan_toy.py recipe (3x512 ReLU MLPs, "
                                 "batch 256, z ~ N(0, I_2) and the algorithm's toy settings); unset: the paper's",
                                 "algorithm", choices=tuple(PRESETS), nullable=True)
    loss: str | None = setting("the critic and generator losses, of those the algorithm accepts (sngan: hinge, "
                               "wgan or gan)", "algorithm")
    n_critic: int | None = setting("critic iterations per generator iteration", "algorithm", minimum=1, base=1)
    critic_schedule: str | None = setting("constant, or official: 100 critic iterations for the first 25 "
                                          "generator iterations and every 500th (the official WGAN code)",
                                          "algorithm", choices=("constant", "official"), base="constant")
    # the shared algorithm options, under their top-level spelling (`wgan.algorithms.options`)
    gp_lambda: float | None = _top_level(GP_LAMBDA)
    penalty: str | None = _top_level(PENALTY)
    gp_eps: float | None = _top_level(GP_EPS)
    clip: float | None = _top_level(CLIP)
    clip_placement: str | None = _top_level(CLIP_PLACEMENT)
    # optimizer
    optimizer: str | None = setting("the optimizer of both networks (wgan.optimizers)", "optimizer",
                                    names=_optimizer_names, metavar="NAME", base="adam", check=_check_optimizer)
    lr_g: float | None = setting("generator learning rate", "optimizer", positive=True, base=1e-4)
    lr_d: float | None = setting("critic learning rate", "optimizer", positive=True, base=1e-4)
    lr_decay: str | None = setting("none, or linear: both learning rates decay linearly to 0 at the last step "
                                   "(the official gan_cifar_resnet.py)", "optimizer", choices=("none", "linear"),
                                   base="none")
    batch_size: int | None = setting("batch size (real and generated samples per update)", "optimizer",
                                     minimum=1, base=64)
    betas: tuple[float, float] | None = setting("Adam's betas", "optimizer", below=1.0, metavar=("B1", "B2"),
                                                base=(0.5, 0.9))
    rmsprop_alpha: float | None = setting("RMSprop's smoothing constant (0.99 PyTorch, 0.9 TF)", "optimizer",
                                          below=1.0, base=0.99)
    rmsprop_eps: float | None = setting("RMSprop's eps (1e-8 PyTorch, 1e-10 TF)", "optimizer", positive=True,
                                        base=1e-8)
    # models
    model: str | None = setting("auto: MLP for 2-D data, DCGAN for images", "models", choices=MODELS, base="auto")
    z_dim: int | None = setting("latent size (unset: 2 for an MLP, 128 for DCGAN)", "models", minimum=1)
    width: int | None = setting("MLP hidden width", "models", minimum=1, base=512)
    depth: int | None = setting("MLP hidden layers", "models", minimum=0, base=3)
    activation: str | None = setting("MLP nonlinearity", "models", choices=ACTIVATIONS, base="relu")
    init: str | None = setting("initial weights: auto (toy for MLPs, dcgan for conv nets), toy (gan_toy's "
                               "He/Glorot uniform), dcgan (N(0, 0.02)), tflib (the official WGAN-GP code's), torch "
                               "(PyTorch's defaults)", "models", choices=INITS, base="auto")
    base_filters: int | None = setting("DCGAN/ResNet base number of filters", "models", minimum=1, base=64)
    g_batchnorm: bool | None = setting("batch norm in the DCGAN generator", "models", base=True)
    critic_norm: str | None = setting("critic normalisation (batchnorm is refused with a per-sample gradient "
                                      "penalty)", "models", choices=CRITIC_NORMS, base="none")
    allow_batchnorm_critic: bool | None = setting("let a penalised critic use batch norm (warns, citing "
                                                  "Gulrajani et al. 2017, section 4)", "models", base=False)
    # per network
    g_model: str | None = setting("generator architecture (unset: --model)", "networks", choices=NETWORK_MODELS,
                                  nullable=True)
    d_model: str | None = setting("critic architecture (unset: --model)", "networks", choices=NETWORK_MODELS,
                                  nullable=True)
    g_depth: int | None = setting("generator depth: DCGAN conv layers (at most 3 halve 8x8, the rest stride 1), "
                                  "ResNet layers 2+3*blocks (unset: 101), MLP hidden layers (unset: --depth)",
                                  "networks", minimum=1, nullable=True)
    d_depth: int | None = setting("critic depth (as --g-depth)", "networks", minimum=1, nullable=True)
    g_nonlinearity: str | None = setting("generator nonlinearity (unset: --activation for an MLP, relu for "
                                         "conv nets)", "networks", choices=ACTIVATIONS, nullable=True)
    d_nonlinearity: str | None = setting("critic nonlinearity (unset: --activation for an MLP, leaky_relu for "
                                         "DCGAN, relu for ResNet)", "networks", choices=ACTIVATIONS, nullable=True)
    g_norm: str | None = setting("generator normalisation (unset: from --g-batchnorm)", "networks",
                                 choices=CRITIC_NORMS, nullable=True)
    g_filters: int | None = setting("generator base filter count (unset: --base-filters)", "networks", minimum=1,
                                    nullable=True)
    d_filters: int | None = setting("critic base filter count (unset: --base-filters)", "networks", minimum=1,
                                    nullable=True)
    g_constant_filters: bool | None = setting("the same filter count in every generator layer", "networks",
                                              base=False)
    d_constant_filters: bool | None = setting("the same filter count in every critic layer", "networks",
                                              base=False)
    # averaged generator and held-out estimate
    ema_decay: float = setting("average the generator's weights with this decay beta (Yazici et al. 2019, e.g. "
                               "0.999; 0: off); sampling, evaluation and figures use the average", "aids", 0.0,
                               below=1.0)
    eval_raw: bool = setting("with --ema-decay, also score the trained (raw) generator (keys raw_*)", "aids", False)
    heldout_size: int = setting("log the critic's estimate w_estimate_heldout on a fixed held-out real batch of "
                                "this size (a split of a finite dataset; 0: off)", "aids", 0, minimum=0)
    heldout_every: int = setting("held-out estimate every k steps (and at evaluations)", "aids", 100, minimum=1,
                                 resumable=True)
    # logging, evaluation, figures and checkpoints
    out_dir: str | None = setting("the run folder (unset: write nothing)", "logging", flag="--out", nullable=True,
                                  metavar="DIR")
    log_every: int = setting("log every k steps", "logging", 1, minimum=1, resumable=True)
    eval_every: int = setting("evaluate every k steps and at the end (0: never)", "logging", 500, minimum=0,
                              resumable=True)
    eval_samples: int | None = setting("samples per evaluation (unset: 2,500 for 2-D data as VEEGAN/PacGAN, "
                                       "1,000 for images)", "logging", minimum=1, resumable=True)
    plot_every: int = setting("draw the samples figure at every k-th evaluation (and the last)", "logging", 1,
                              minimum=1, resumable=True)
    checkpoint_every: int = setting("checkpoint every k steps (0: only at the end)", "logging", 1000, minimum=0,
                                    resumable=True)
    # recorded in config.json
    dataset_options: dict = setting("keyword arguments of the dataset's builder (size=28, order='random', ...)",
                                    "recorded", default_factory=dict, flag="")
    algorithm_options: dict = setting("the algorithm's options (name -> value; each also has its flag)",
                                      "recorded", default_factory=dict, flag="")
    algorithm_path: str | None = setting("the import path of an algorithm registered from Python, filled by "
                                         "resolve() so that other processes find it", "recorded", flag="",
                                         nullable=True)
    extensions: list = setting("one record per resume that changed steps (wgan.extend.plan_resume)", "recorded",
                               default_factory=list, flag="", check=_check_extensions)

    # ------------------------------------------------------------------ defaults and checks
    def algorithm_class(self):
        """The `wgan.algorithms.Algorithm` subclass ``algorithm`` names (ConfigError if none)."""
        return get_algorithm(self.algorithm, self.algorithm_path)

    def resolve(self, sample_ndim: int | None = None) -> ResolvedConfig:
        """The `ResolvedConfig`: every ``None`` filled from the algorithm/preset defaults, validated.

        `sample_ndim` (1 for 2-D points, 3 for images) picks ``model="auto"`` and the latent size; without it
        the model stays as given ("auto" means MLP).
        """
        algorithm = self.algorithm_class()
        if self.preset is not None:
            check_choice("preset", self.preset, PRESETS)
        _check_declaration(algorithm)
        defaults = {name: spec.base for name, (spec, _) in settings().items() if spec.base is not _UNSET}
        defaults["loss"] = algorithm.losses[0]
        declared = algorithm.option_defaults(self.preset)
        defaults.update({k: v for k, v in algorithm.defaults.items() if k not in declared})
        if self.preset is not None:
            defaults.update(PRESETS[self.preset])
            defaults.update({k: v for k, v in algorithm.presets.get(self.preset, {}).items() if k not in declared})
        values = {f.name: getattr(self, f.name) for f in fields(ResolvedConfig)}
        for name, default in defaults.items():
            if values[name] is None:
                values[name] = default
        options = {**declared, **self._given_options(algorithm)}
        values["algorithm_options"] = {name: algorithm.option(name).check(value) for name, value in options.items()}
        builtin_or_path = self.algorithm in ALGORITHMS or ":" in self.algorithm
        values["algorithm_path"] = None if builtin_or_path else import_path(algorithm)
        if values["model"] == "auto":
            values["model"] = "dcgan" if sample_ndim == 3 else "mlp"
        if values["z_dim"] is None:
            values["z_dim"] = 128 if values["model"] == "dcgan" else 2
        if values["eval_samples"] is None:
            values["eval_samples"] = 2500 if values["model"] == "mlp" else 1000
        if isinstance(values["betas"], (list, tuple)):
            values["betas"] = tuple(float(b) for b in values["betas"])
        resolved = ResolvedConfig(**values)
        resolved.validate()
        return resolved

    def _given_options(self, algorithm) -> dict[str, Any]:
        """The options the user gave: ``algorithm_options`` and the top-level spellings (`_top_level`). A
        top-level spelling the algorithm does not read must hold the option's ``unused`` value (as files of
        earlier versions wrote it); anything else is refused, not ignored."""
        if not isinstance(self.algorithm_options, dict):
            raise ConfigError(f"algorithm_options: expected a dict, got {type(self.algorithm_options).__name__}")
        declared = {opt.name for opt in algorithm.options}
        unknown = sorted(set(self.algorithm_options) - declared)
        if unknown:
            raise ConfigError(f"algorithm_options: {unknown} are not options of {self.algorithm} "
                              f"(its options: {', '.join(sorted(declared)) or 'none'})")
        given = dict(self.algorithm_options)
        for option in TOP_LEVEL:
            value = getattr(self, option.name)
            if value is None:
                continue
            if option.name not in declared:
                if value != option.unused:
                    raise ConfigError(f"{option.name}: {algorithm.name} does not use it (got {value!r}; it must stay "
                                      f"{option.unused!r})")
            elif option.name in given and given[option.name] != value:
                raise ConfigError(f"{option.name}: given twice, as {value!r} and in algorithm_options as "
                                  f"{given[option.name]!r}")
            else:
                given[option.name] = value
        return given

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict:
        """The fields as JSON values (a top-level option spelling only when given)."""
        out = dataclasses.asdict(self)
        for option in TOP_LEVEL:
            if out[option.name] is None:
                del out[option.name]
        if out["betas"] is not None:
            out["betas"] = list(out["betas"])
        return out

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ConfigError(f"unknown config fields {unknown}; valid fields: {sorted(names)}")
        data = dict(data)
        if data.get("betas") is not None:
            if not isinstance(data["betas"], (list, tuple)):
                raise ConfigError(f"betas: expected two numbers [b1, b2], got {data['betas']!r}")
            data["betas"] = tuple(data["betas"])
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> TrainConfig:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"config JSON is malformed: {exc}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"config JSON must hold an object, got {type(data).__name__}")
        return cls.from_dict(data)

    def save(self, path) -> None:
        with open(path, "w") as f:
            f.write(self.to_json() + "\n")

    @classmethod
    def load(cls, path) -> TrainConfig:
        with open(path) as f:
            return cls.from_json(f.read())


@functools.cache
def settings() -> dict[str, tuple[Setting, type]]:
    """field name -> (its `Setting`, its value type: bool, int, float, str, tuple, dict or list), in declaration
    order: what the CLI, validation and the docs read."""
    hints = typing.get_type_hints(TrainConfig)
    out = {}
    for f in fields(TrainConfig):
        kind = hints[f.name]
        if isinstance(kind, types.UnionType):
            kind = next(arg for arg in typing.get_args(kind) if arg is not type(None))
        out[f.name] = (f.metadata["setting"], typing.get_origin(kind) or kind)
    return out


def _check_declaration(algorithm) -> None:
    """An algorithm's declaration names only TrainConfig fields, its own options and known presets."""
    names = {f.name for f in fields(ResolvedConfig)}
    where = f"algorithm {algorithm.name or algorithm.__name__!r}"
    options = {opt.name for opt in algorithm.options}
    spelled = {opt.name: opt for opt in TOP_LEVEL}
    clash = sorted(opt.name for opt in algorithm.options if opt.name in names
                   or (opt.name in spelled and spelled[opt.name] != opt))
    if clash:
        raise ConfigError(f"algorithm: {where} declares options {clash} that are TrainConfig fields")
    for preset, overrides in [("defaults", algorithm.defaults), *algorithm.presets.items()]:
        if preset != "defaults" and preset not in PRESETS:
            raise ConfigError(f"algorithm: {where} declares the unknown preset {preset!r} (presets: "
                              f"{', '.join(PRESETS)})")
        unknown = sorted(set(overrides) - names - options)
        if unknown:
            raise ConfigError(f"algorithm: {where}: its {preset} name unknown fields {unknown}")


# ----------------------------------------------------------------------------------------- the resolved config
@dataclass(frozen=True, eq=False)
class ResolvedConfig:
    """A `TrainConfig` after ``resolve()``: every default filled in, every value checked (what `Trainer` runs).

    The fields are `TrainConfig`'s (see there and ``docs/options.md``) with their resolved types; those that
    stay optional say what None means: ``preset`` (none), ``out_dir`` (write nothing), ``algorithm_path`` (a
    built-in or import-path algorithm) and the per-network fields (the shared field or the architecture's
    default). ``algorithm_options`` holds every option of the algorithm, shared ones included; the shared
    options' top-level spellings read from there (``resolved.gp_lambda``), and ``config.json`` writes them at
    the top level as earlier versions did.

    Equal to another resolved config, or to a `TrainConfig`, that writes the same ``to_dict()``.
    """

    dataset: str
    steps: int
    seed: int
    device: str
    algorithm: str
    preset: str | None
    loss: str
    n_critic: int
    critic_schedule: str
    optimizer: str
    lr_g: float
    lr_d: float
    lr_decay: str
    batch_size: int
    betas: tuple[float, float]
    rmsprop_alpha: float
    rmsprop_eps: float
    model: str
    z_dim: int
    width: int
    depth: int
    activation: str
    init: str
    base_filters: int
    g_batchnorm: bool
    critic_norm: str
    allow_batchnorm_critic: bool
    g_model: str | None
    d_model: str | None
    g_depth: int | None
    d_depth: int | None
    g_nonlinearity: str | None
    d_nonlinearity: str | None
    g_norm: str | None
    g_filters: int | None
    d_filters: int | None
    g_constant_filters: bool
    d_constant_filters: bool
    ema_decay: float
    eval_raw: bool
    heldout_size: int
    heldout_every: int
    out_dir: str | None
    log_every: int
    eval_every: int
    eval_samples: int
    plot_every: int
    checkpoint_every: int
    dataset_options: dict
    algorithm_options: dict
    algorithm_path: str | None
    extensions: list

    # the shared options under their top-level spelling: the value the algorithm runs with, or the
    # option's ``unused`` value when the algorithm does not read it (`wgan.algorithms.options`)
    @property
    def gp_lambda(self) -> float:
        return self.algorithm_options.get("gp_lambda", GP_LAMBDA.unused)

    @property
    def penalty(self) -> str:
        return self.algorithm_options.get("penalty", PENALTY.unused)

    @property
    def gp_eps(self) -> float:
        return self.algorithm_options.get("gp_eps", GP_EPS.unused)

    @property
    def clip(self) -> float:
        return self.algorithm_options.get("clip", CLIP.unused)

    @property
    def clip_placement(self) -> str:
        return self.algorithm_options.get("clip_placement", CLIP_PLACEMENT.unused)

    def algorithm_class(self):
        """The `wgan.algorithms.Algorithm` subclass ``algorithm`` names."""
        return get_algorithm(self.algorithm, self.algorithm_path)

    def validate(self) -> None:
        """Raise ConfigError naming the first invalid field."""
        algorithm = self.algorithm_class()
        for name, (spec, kind) in settings().items():
            if spec.option is None:
                spec.validate(name, kind, getattr(self, name))
        declared = {opt.name for opt in algorithm.options}
        if set(self.algorithm_options) != declared:
            raise ConfigError(f"algorithm_options: expected exactly the options of {self.algorithm} "
                              f"({sorted(declared)}), got {self.algorithm_options!r}")
        for name, value in self.algorithm_options.items():
            algorithm.option(name).check(value)
        algorithm.validate(self)

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict:
        """The fields as JSON values, with the shared options the algorithm reads at the top level (the
        format of ``config.json`` since before they were options: `TrainConfig.from_dict` reads it back)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["algorithm_options"] = dict(self.algorithm_options)
        out["betas"] = list(self.betas)
        out["dataset_options"] = dict(self.dataset_options)
        out["extensions"] = [dict(record) for record in self.extensions]
        for option in TOP_LEVEL:
            if option.name in out["algorithm_options"]:
                out[option.name] = out["algorithm_options"].pop(option.name)
        for name, value in out["algorithm_options"].items():
            if isinstance(value, tuple):
                out["algorithm_options"][name] = list(value)
        return out

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=True)

    def save(self, path) -> None:
        with open(path, "w") as f:
            f.write(self.to_json() + "\n")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, (ResolvedConfig, TrainConfig)):
            return NotImplemented
        return json.loads(self.to_json()) == json.loads(other.to_json())

    __hash__ = None  # type: ignore[assignment]
