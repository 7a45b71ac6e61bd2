"""`TrainConfig`: every knob of a training run, with the papers' defaults per algorithm.

A config is written by the user with only the fields they care about; ``resolve()``
returns a copy in which every field left as ``None`` holds the default of the chosen
algorithm (and preset), and checks every value, raising ``ConfigError`` naming the field.

The defaults of each algorithm are declared, with its paper, in its own file under
`wgan.algorithms` (``wgan-clip``, ``wgan-gp``, ``wgan-lp``, ``sngan``, ``gan``, ...). Resolution
layers, later ones winning: `_GENERIC_DEFAULTS`, the algorithm's ``defaults``, the preset's
models (`PRESETS`), the algorithm's ``presets[preset]``, then the fields the user gave. An
algorithm's own hyperparameters live in ``algorithm_options`` (name -> value), filled from its
declared `Option` defaults (and its preset overrides) and checked by the declaration.

``preset="toy"`` is the official gan_toy.py's models: 3x512 ReLU MLPs (He-uniform hidden,
Glorot-uniform output init, zero biases), z ~ N(0, I_2), batch 256; each algorithm declares what
the preset means for its optimizer and hyperparameters (for the WGANs gan_toy's n_critic 5,
lambda 0.1, Adam lr 1e-4 betas (0.5, 0.9); for wgan-clip RMSprop lr 5e-5 with TF's decay 0.9 and
eps 1e-10; the GAN baseline keeps its own optimizer and one discriminator step).
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field, fields
from typing import Any

from wgan.algorithms import ALGORITHMS, SHARED_FIELDS, get_algorithm, import_path
from wgan.architectures import NONLINEARITIES
from wgan.validation import ConfigError, check_choice, check_float, check_int

__all__ = ["ALGORITHMS", "PRESETS", "ConfigError", "TrainConfig"]

MODELS = ("auto", "mlp", "dcgan")
NETWORK_MODELS = ("mlp", "dcgan", "resnet")
OPTIMIZERS = ("adam", "rmsprop", "sgd")
ACTIVATIONS = NONLINEARITIES
INITS = ("auto", "toy", "dcgan", "tflib", "torch")
CRITIC_NORMS = ("none", "layernorm", "batchnorm")
#: Per-network architecture fields that may stay None after `resolve` (None: the architecture's default).
OPTIONAL_NETWORK_FIELDS = ("g_model", "d_model", "g_depth", "d_depth", "g_nonlinearity", "d_nonlinearity",
                           "g_norm", "g_filters", "d_filters")

#: preset name -> the models, batch and latent it sets for every algorithm (gan_toy.py's).
PRESETS: dict[str, dict[str, Any]] = {
    "toy": dict(model="mlp", width=512, depth=3, activation="relu", init="toy", z_dim=2, batch_size=256),
}

#: The defaults under every algorithm's own (what an algorithm that declares nothing trains with).
_GENERIC_DEFAULTS: dict[str, Any] = dict(
    optimizer="adam", lr_g=1e-4, lr_d=1e-4, batch_size=64, n_critic=1, model="auto", width=512, depth=3,
    activation="relu", init="auto", base_filters=64, g_batchnorm=True,
    critic_norm="none", betas=(0.5, 0.9), rmsprop_alpha=0.99, rmsprop_eps=1e-8, critic_schedule="constant",
    lr_decay="none", g_constant_filters=False, d_constant_filters=False, allow_batchnorm_critic=False,
    **SHARED_FIELDS,
)


@dataclass
class TrainConfig:
    """A training run. Fields left ``None`` take the algorithm's default in ``resolve()``.

    Data and run: ``dataset`` (a spec for `wgan.data.make_dataset`: "8gaussians", "ring",
    "mnist:PATH", ...), ``steps`` (generator iterations), ``seed``, ``device`` ("cpu"/"cuda"),
    ``out_dir`` (the run folder; None writes nothing), ``log_every``, ``eval_every``,
    ``checkpoint_every`` (steps; 0 disables), ``eval_samples`` (samples per evaluation:
    2,500 for 2-D data as VEEGAN/PacGAN), ``plot_every`` (figures at every k-th evaluation).

    Training aids: ``ema_decay`` (beta of an exponential moving average of the generator's
    weights, Yazıcı et al. 2019, e.g. 0.999; 0 disables): sampling, evaluation and figures then use
    the averaged generator, and ``eval_raw`` also scores the trained one (keys ``raw_*``).
    ``heldout_size`` (0 disables): a fixed held-out real batch (a split removed from a finite
    dataset's training data; a fixed draw from a sampler or mixture) and fixed noise, on which the
    critic's estimate ``w_estimate_heldout`` is logged every ``heldout_every`` steps and at evaluations.

    Algorithm: ``algorithm`` (a built-in name of ALGORITHMS, a name registered with
    `wgan.algorithms.register`, or an import path "module:Class"), ``preset`` (None or "toy"),
    ``loss`` (the choices the algorithm accepts), ``n_critic``, ``critic_schedule`` ("constant" or
    "official"), and the fields only some algorithms read (any other refuses a non-default value):
    ``gp_lambda``, ``penalty`` ("two-sided", "one-sided" for the gradient penalties), ``gp_eps``
    (inside the norm's square root), ``clip`` (c), ``clip_placement`` ("after" as the paper,
    "before" as the official code). ``algorithm_options``: the algorithm's own hyperparameters
    (its declared `Option` s). ``algorithm_path``: filled by ``resolve()`` with the import path of
    an algorithm registered from Python, so that other processes (resume, sweep workers) find it.

    Optimisers: ``optimizer`` ("adam", "rmsprop", "sgd"), ``lr_g``, ``lr_d``, ``betas``,
    ``rmsprop_alpha``, ``rmsprop_eps``, ``batch_size``, ``lr_decay`` ("none", or "linear": both
    learning rates decay linearly to 0 at ``steps``, as the official gan_cifar_resnet.py).

    Models: ``model`` ("auto": MLP for 2-D data, DCGAN for images), ``z_dim``, ``width``,
    ``depth`` (MLP hidden layers), ``activation``, ``init`` ("auto": "toy" for MLPs, "dcgan" for
    conv nets; "toy" = gan_toy's He/Glorot uniform; "dcgan" = N(0, 0.02); "tflib" = the official
    WGAN-GP code's layer defaults; "torch" = PyTorch's defaults), ``base_filters``, ``g_batchnorm``,
    ``critic_norm`` ("none", "layernorm", "batchnorm"; batchnorm is refused by a penalised algorithm
    unless ``allow_batchnorm_critic``, which warns, citing Gulrajani et al. 2017, section 4).

    Per network (each ``None`` = the shared field or the architecture's default; `wgan.models`):
    ``g_model`` / ``d_model`` ("mlp", "dcgan", "resnet"; default ``model``), ``g_depth`` / ``d_depth``
    (conv layers of a DCGAN net, of which at most three halve an 8x8 image and the rest are stride 1;
    layers 2 + 3·blocks of a ResNet, default 101; hidden layers of an MLP, default ``depth``),
    ``g_nonlinearity`` / ``d_nonlinearity`` (`architectures.NONLINEARITIES`; DCGAN defaults relu / leaky_relu),
    ``g_norm`` ("batchnorm", "layernorm", "none"; default from ``g_batchnorm``), ``g_filters`` /
    ``d_filters`` (default ``base_filters``), ``g_constant_filters`` / ``d_constant_filters``.

    History: ``extensions``, one record per resume that changed ``steps`` (`wgan.extend.plan_resume`):
    ``{"at_step", "from_steps", "to_steps", "extend_lr", "lr_g", "lr_d"}``; empty for a run as first planned.
    """

    dataset: str = "8gaussians"
    algorithm: str = "wgan-gp"
    preset: str | None = None
    model: str | None = None
    steps: int = 1000
    batch_size: int | None = None
    lr_g: float | None = None
    lr_d: float | None = None
    betas: tuple[float, float] | None = None
    optimizer: str | None = None
    rmsprop_alpha: float | None = None
    rmsprop_eps: float | None = None
    lr_decay: str | None = None
    n_critic: int | None = None
    critic_schedule: str | None = None
    loss: str | None = None
    gp_lambda: float | None = None
    penalty: str | None = None
    gp_eps: float | None = None
    clip: float | None = None
    clip_placement: str | None = None
    z_dim: int | None = None
    width: int | None = None
    depth: int | None = None
    activation: str | None = None
    init: str | None = None
    base_filters: int | None = None
    g_batchnorm: bool | None = None
    critic_norm: str | None = None
    g_model: str | None = None
    d_model: str | None = None
    g_depth: int | None = None
    d_depth: int | None = None
    g_nonlinearity: str | None = None
    d_nonlinearity: str | None = None
    g_norm: str | None = None
    g_filters: int | None = None
    d_filters: int | None = None
    g_constant_filters: bool | None = None
    d_constant_filters: bool | None = None
    allow_batchnorm_critic: bool | None = None
    device: str = "cpu"
    seed: int = 0
    out_dir: str | None = None
    log_every: int = 1
    eval_every: int = 500
    eval_samples: int | None = None
    plot_every: int = 1
    checkpoint_every: int = 1000
    ema_decay: float = 0.0
    eval_raw: bool = False
    heldout_size: int = 0
    heldout_every: int = 100
    dataset_options: dict = field(default_factory=dict)
    algorithm_options: dict = field(default_factory=dict)
    algorithm_path: str | None = None
    extensions: list = field(default_factory=list)

    # ------------------------------------------------------------------ defaults and checks
    def algorithm_class(self):
        """The `wgan.algorithms.Algorithm` subclass ``algorithm`` names (ConfigError if none)."""
        return get_algorithm(self.algorithm, self.algorithm_path)

    def resolve(self, sample_ndim: int | None = None) -> TrainConfig:
        """A copy with every ``None`` filled from the algorithm/preset defaults, validated.

        `sample_ndim` (1 for 2-D points, 3 for images) picks ``model="auto"`` and the
        latent size; without it the model stays as given ("auto" means MLP).
        """
        algorithm = self.algorithm_class()
        if self.preset is not None:
            check_choice("preset", self.preset, PRESETS)
        defaults = dict(_GENERIC_DEFAULTS, loss=algorithm.losses[0])
        options = {opt.name: opt.default for opt in algorithm.options}
        _check_declaration(algorithm, options)
        defaults.update(algorithm.defaults)
        if self.preset is not None:
            defaults.update(PRESETS[self.preset])
            for name, value in algorithm.presets.get(self.preset, {}).items():
                (options if name in options else defaults)[name] = value
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        for name, default in defaults.items():
            if values[name] is None:
                values[name] = default
        if not isinstance(self.algorithm_options, dict):
            raise ConfigError(f"algorithm_options: expected a dict, got {type(self.algorithm_options).__name__}")
        unknown = sorted(set(self.algorithm_options) - set(options))
        if unknown:
            raise ConfigError(f"algorithm_options: {unknown} are not options of {self.algorithm} "
                              f"(its options: {', '.join(options) or 'none'})")
        options.update(self.algorithm_options)
        values["algorithm_options"] = {name: algorithm.option(name).check(value) for name, value in options.items()}
        builtin_or_path = self.algorithm in ALGORITHMS or ":" in self.algorithm
        values["algorithm_path"] = None if builtin_or_path else import_path(algorithm)
        if values["model"] == "auto":
            values["model"] = "dcgan" if sample_ndim == 3 else "mlp"
        if values["z_dim"] is None:
            values["z_dim"] = 128 if values["model"] == "dcgan" else 2
        if values["eval_samples"] is None:
            values["eval_samples"] = 2500 if values["model"] == "mlp" else 1000
        values["betas"] = tuple(float(b) for b in values["betas"])
        resolved = TrainConfig(**values)
        resolved.validate()
        return resolved

    def validate(self) -> None:
        """Raise ConfigError naming the first invalid field (call on a resolved config)."""
        missing = [f.name for f in fields(self) if getattr(self, f.name) is None
                   and f.name not in ("preset", "out_dir", "algorithm_path") + OPTIONAL_NETWORK_FIELDS]
        if missing:
            raise ConfigError(f"fields {missing} are unset: call resolve() first")
        if not isinstance(self.dataset, str) or not self.dataset:
            raise ConfigError(f"dataset: expected a dataset spec string, got {self.dataset!r}")
        algorithm = self.algorithm_class()
        check_choice("model", self.model, MODELS[1:])
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_choice("activation", self.activation, ACTIVATIONS)
        check_choice("init", self.init, INITS)
        check_choice("critic_norm", self.critic_norm, CRITIC_NORMS)
        check_choice("critic_schedule", self.critic_schedule, ("constant", "official"))
        check_choice("lr_decay", self.lr_decay, ("none", "linear"))
        for name in ("steps", "batch_size", "n_critic", "z_dim", "width", "base_filters", "log_every",
                     "eval_samples", "plot_every"):
            check_int(name, getattr(self, name), minimum=1)
        check_int("depth", self.depth, minimum=0)
        check_int("seed", self.seed, minimum=0)
        for name in ("eval_every", "checkpoint_every"):
            check_int(name, getattr(self, name), minimum=0)
        for name in ("lr_g", "lr_d", "rmsprop_eps", "gp_eps"):
            check_float(name, getattr(self, name), positive=True)
        for name in ("gp_lambda", "clip"):
            check_float(name, getattr(self, name), positive=False)
        rmsprop_alpha = check_float("rmsprop_alpha", self.rmsprop_alpha, positive=False)
        if not 0.0 <= rmsprop_alpha < 1.0:
            raise ConfigError(f"rmsprop_alpha: must lie in [0, 1), got {self.rmsprop_alpha}")
        assert self.betas is not None  # the missing-field check above
        if len(self.betas) != 2 or not all(0.0 <= b < 1.0 for b in self.betas):
            raise ConfigError(f"betas: expected two numbers in [0, 1), got {self.betas}")
        for name in ("g_model", "d_model"):
            if getattr(self, name) is not None:
                check_choice(name, getattr(self, name), NETWORK_MODELS)
        for name in ("g_nonlinearity", "d_nonlinearity"):
            if getattr(self, name) is not None:
                check_choice(name, getattr(self, name), NONLINEARITIES)
        if self.g_norm is not None:
            check_choice("g_norm", self.g_norm, CRITIC_NORMS)
        for name in ("g_depth", "d_depth", "g_filters", "d_filters"):
            if getattr(self, name) is not None:
                check_int(name, getattr(self, name), minimum=1)
        for name in ("g_batchnorm", "g_constant_filters", "d_constant_filters", "allow_batchnorm_critic"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name}: expected a bool, got {getattr(self, name)!r}")
        check_float("ema_decay", self.ema_decay, positive=False)
        if not self.ema_decay < 1.0:
            raise ConfigError(f"ema_decay: must lie in [0, 1) (0: off), got {self.ema_decay}")
        if not isinstance(self.eval_raw, bool):
            raise ConfigError(f"eval_raw: expected a bool, got {self.eval_raw!r}")
        check_int("heldout_size", self.heldout_size, minimum=0)
        check_int("heldout_every", self.heldout_every, minimum=1)
        _check_extensions(self.extensions)
        if not isinstance(self.dataset_options, dict):
            raise ConfigError(f"dataset_options: expected a dict, got {type(self.dataset_options).__name__}")
        declared = {opt.name for opt in algorithm.options}
        if not isinstance(self.algorithm_options, dict) or set(self.algorithm_options) != declared:
            raise ConfigError(f"algorithm_options: expected exactly the options of {self.algorithm} "
                              f"({sorted(declared)}), got {self.algorithm_options!r}")
        for name, value in self.algorithm_options.items():
            algorithm.option(name).check(value)
        algorithm.validate(self)
        try:
            from minigrad.backend import normalize_device
            normalize_device(self.device)
        except ValueError as exc:
            raise ConfigError(f"device: {exc}") from None

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict:
        out = dataclasses.asdict(self)
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


def _check_declaration(algorithm, options: dict) -> None:
    """An algorithm's declaration names only TrainConfig fields, its own options and known presets."""
    names = {f.name for f in fields(TrainConfig)}
    where = f"algorithm {algorithm.name or algorithm.__name__!r}"
    clash = sorted(set(options) & names)
    if clash:
        raise ConfigError(f"algorithm: {where} declares options {clash} that are TrainConfig fields")
    for preset, overrides in [("defaults", algorithm.defaults), *algorithm.presets.items()]:
        if preset != "defaults" and preset not in PRESETS:
            raise ConfigError(f"algorithm: {where} declares the unknown preset {preset!r} (presets: "
                              f"{', '.join(PRESETS)})")
        allowed = names if preset == "defaults" else names | set(options)
        unknown = sorted(set(overrides) - allowed)
        if unknown:
            raise ConfigError(f"algorithm: {where}: its {preset} name unknown fields {unknown}")


_EXTENSION_KEYS = {"at_step", "from_steps", "to_steps", "extend_lr", "lr_g", "lr_d"}


def _check_extensions(extensions) -> None:
    if not isinstance(extensions, list):
        raise ConfigError(f"extensions: expected a list of extension records, got {type(extensions).__name__}")
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
