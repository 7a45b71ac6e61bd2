"""`TrainConfig`: every knob of a training run, with the papers' defaults per algorithm.

A config is written by the user with only the fields they care about; ``resolve()``
returns a copy in which every field left as ``None`` holds the default of the chosen
algorithm (and preset), and checks every value, raising ``ConfigError`` naming the field.

Defaults per algorithm (the paper's Algorithm 1 unless stated):

============  =========================================================================
wgan-clip     Arjovsky et al. 2017: RMSprop lr 5e-5 (alpha 0.99 and eps 1e-8 as the official
              PyTorch code; TF/gan_toy uses alpha 0.9, eps 1e-10: set ``rmsprop_alpha``),
              clip c = 0.01 of every critic parameter *after* each critic update
              (``clip_placement="before"`` clamps before the step, as the official code),
              batch 64, n_critic 5 (``critic_schedule="official"``: 100 critic iterations for
              the first 25 generator iterations and every 500th).
wgan-gp       Gulrajani et al. 2017: lambda 10, n_critic 5, Adam lr 1e-4, betas (0, 0.9), batch 64,
              two-sided penalty (||grad D(x^)||_2 - 1)^2, one eps ~ U[0,1] per sample.
wgan-lp       Petzka et al. 2018: as wgan-gp with the one-sided penalty max(0, ||grad|| - 1)^2.
sngan         Miyato et al. 2018: spectral norm on every critic layer, hinge loss (Eq. 17;
              ``loss="wgan"`` or ``"gan"`` for the other two), Adam setting A of the paper
              (lr 1e-4, betas (0.5, 0.9), n_critic 5), batch 64. The paper's ResNet runs and the
              official config use lr 2e-4, betas (0, 0.9): pass them explicitly.
gan           the non-saturating GAN (Goodfellow et al. 2014) with DCGAN's Adam lr 2e-4,
              betas (0.5, 0.999), one discriminator step per generator step, batch 64.
============  =========================================================================

``preset="toy"`` reproduces the official gan_toy.py: 3x512 ReLU MLPs (He-uniform hidden,
Glorot-uniform output init, zero biases), z ~ N(0, I_2), batch 256, n_critic 5, lambda 0.1,
Adam lr 1e-4 betas (0.5, 0.9); for wgan-clip RMSprop lr 5e-5 with TF's decay 0.9 and eps 1e-10.
With ``algorithm="gan"`` (gan_toy.py has no GAN mode) only the models, batch and latent follow
the preset; the optimizer and the one discriminator step stay the GAN baseline's.
"""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field, fields
from typing import Any

ALGORITHMS = ("wgan-clip", "wgan-gp", "wgan-lp", "sngan", "gan")
PRESETS = ("toy",)
MODELS = ("auto", "mlp", "dcgan")
LOSSES = ("wgan", "hinge", "gan")
OPTIMIZERS = ("adam", "rmsprop", "sgd")
ACTIVATIONS = ("relu", "leaky_relu", "tanh", "softplus")
INITS = ("auto", "toy", "dcgan", "torch")
CRITIC_NORMS = ("none", "layernorm", "batchnorm")

_ALGORITHM_DEFAULTS: dict[str, dict[str, Any]] = {
    "wgan-clip": dict(optimizer="rmsprop", lr_g=5e-5, lr_d=5e-5, rmsprop_alpha=0.99, rmsprop_eps=1e-8,
                      clip=0.01, clip_placement="after", critic_schedule="constant", n_critic=5,
                      batch_size=64, loss="wgan", gp_lambda=0.0, penalty="none"),
    "wgan-gp": dict(optimizer="adam", lr_g=1e-4, lr_d=1e-4, betas=(0.0, 0.9), n_critic=5, batch_size=64,
                    loss="wgan", gp_lambda=10.0, penalty="two-sided"),
    "wgan-lp": dict(optimizer="adam", lr_g=1e-4, lr_d=1e-4, betas=(0.0, 0.9), n_critic=5, batch_size=64,
                    loss="wgan", gp_lambda=10.0, penalty="one-sided"),
    "sngan": dict(optimizer="adam", lr_g=1e-4, lr_d=1e-4, betas=(0.5, 0.9), n_critic=5, batch_size=64,
                  loss="hinge", gp_lambda=0.0, penalty="none"),
    "gan": dict(optimizer="adam", lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999), n_critic=1, batch_size=64,
                loss="gan", gp_lambda=0.0, penalty="none"),
}

_TOY_PRESET: dict[str, Any] = dict(model="mlp", width=512, depth=3, activation="relu", init="toy", z_dim=2,
                                   batch_size=256, n_critic=5, gp_lambda=0.1, optimizer="adam", lr_g=1e-4,
                                   lr_d=1e-4, betas=(0.5, 0.9))
_TOY_CLIP: dict[str, Any] = dict(optimizer="rmsprop", lr_g=5e-5, lr_d=5e-5, rmsprop_alpha=0.9,
                                 rmsprop_eps=1e-10, clip=0.01)

_GENERIC_DEFAULTS: dict[str, Any] = dict(
    model="auto", width=512, depth=3, activation="relu", init="auto", base_filters=64, g_batchnorm=True,
    critic_norm="none", betas=(0.5, 0.9), rmsprop_alpha=0.99, rmsprop_eps=1e-8, clip=0.0,
    clip_placement="after", critic_schedule="constant", gp_eps=1e-12, lr_decay="none",
)


class ConfigError(ValueError):
    """A config field holds an invalid value; the message names the field."""


@dataclass
class TrainConfig:
    """A training run. Fields left ``None`` take the algorithm's default in ``resolve()``.

    Data and run: ``dataset`` (a spec for `wgan.data.make_dataset`: "8gaussians", "ring",
    "mnist:PATH", ...), ``steps`` (generator iterations), ``seed``, ``device`` ("cpu"/"cuda"),
    ``out_dir`` (the run folder; None writes nothing), ``log_every``, ``eval_every``,
    ``checkpoint_every`` (steps; 0 disables), ``eval_samples`` (samples per evaluation:
    2,500 for 2-D data as VEEGAN/PacGAN), ``plot_every`` (figures at every k-th evaluation).

    Algorithm: ``algorithm`` (one of ALGORITHMS), ``preset`` (None or "toy"), ``loss``,
    ``n_critic``, ``critic_schedule`` ("constant" or "official"), ``gp_lambda``, ``penalty``
    ("none", "two-sided", "one-sided"), ``gp_eps`` (inside the norm's square root), ``clip``
    (c; 0 disables), ``clip_placement`` ("after" as the paper, "before" as the official code).

    Optimisers: ``optimizer`` ("adam", "rmsprop", "sgd"), ``lr_g``, ``lr_d``, ``betas``,
    ``rmsprop_alpha``, ``rmsprop_eps``, ``batch_size``, ``lr_decay`` ("none", or "linear": both
    learning rates decay linearly to 0 at ``steps``, as the official gan_cifar_resnet.py).

    Models: ``model`` ("auto": MLP for 2-D data, DCGAN for images), ``z_dim``, ``width``,
    ``depth`` (MLP hidden layers), ``activation``, ``init`` ("auto": "toy" for MLPs, "dcgan" for
    conv nets; "toy" = gan_toy's He/Glorot uniform; "dcgan" = N(0, 0.02); "torch" = PyTorch's
    defaults), ``base_filters``, ``g_batchnorm``,
    ``critic_norm`` ("none", "layernorm", "batchnorm"; batchnorm is refused with a penalty).
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
    device: str = "cpu"
    seed: int = 0
    out_dir: str | None = None
    log_every: int = 1
    eval_every: int = 500
    eval_samples: int | None = None
    plot_every: int = 1
    checkpoint_every: int = 1000
    dataset_options: dict = field(default_factory=dict)

    # ------------------------------------------------------------------ defaults and checks
    def resolve(self, sample_ndim: int | None = None) -> "TrainConfig":
        """A copy with every ``None`` filled from the algorithm/preset defaults, validated.

        `sample_ndim` (1 for 2-D points, 3 for images) picks ``model="auto"`` and the
        latent size; without it the model stays as given ("auto" means MLP).
        """
        _check_choice("algorithm", self.algorithm, ALGORITHMS)
        if self.preset is not None:
            _check_choice("preset", self.preset, PRESETS)
        defaults = dict(_GENERIC_DEFAULTS)
        defaults.update(_ALGORITHM_DEFAULTS[self.algorithm])
        if self.preset == "toy":
            toy = dict(_TOY_PRESET)
            if self.algorithm == "wgan-clip":
                toy.update(_TOY_CLIP)
            if self.algorithm == "gan":  # gan_toy.py has no GAN mode: the baseline keeps its own optimizer
                for name in ("optimizer", "lr_g", "lr_d", "betas", "n_critic"):
                    toy.pop(name)
            if self.algorithm not in ("wgan-gp", "wgan-lp"):
                toy["gp_lambda"] = 0.0
            defaults.update(toy)
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        for name, default in defaults.items():
            if values[name] is None:
                values[name] = default
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
        missing = [f.name for f in fields(self) if getattr(self, f.name) is None and f.name != "preset"
                   and f.name != "out_dir"]
        if missing:
            raise ConfigError(f"fields {missing} are unset: call resolve() first")
        if not isinstance(self.dataset, str) or not self.dataset:
            raise ConfigError(f"dataset: expected a dataset spec string, got {self.dataset!r}")
        _check_choice("algorithm", self.algorithm, ALGORITHMS)
        _check_choice("model", self.model, MODELS[1:])
        _check_choice("loss", self.loss, LOSSES)
        _check_choice("optimizer", self.optimizer, OPTIMIZERS)
        _check_choice("activation", self.activation, ACTIVATIONS)
        _check_choice("init", self.init, INITS)
        _check_choice("critic_norm", self.critic_norm, CRITIC_NORMS)
        _check_choice("penalty", self.penalty, ("none", "two-sided", "one-sided"))
        _check_choice("clip_placement", self.clip_placement, ("after", "before"))
        _check_choice("critic_schedule", self.critic_schedule, ("constant", "official"))
        _check_choice("lr_decay", self.lr_decay, ("none", "linear"))
        for name in ("steps", "batch_size", "n_critic", "z_dim", "width", "base_filters", "log_every",
                     "eval_samples", "plot_every"):
            _check_int(name, getattr(self, name), minimum=1)
        _check_int("depth", self.depth, minimum=0)
        _check_int("seed", self.seed, minimum=0)
        for name in ("eval_every", "checkpoint_every"):
            _check_int(name, getattr(self, name), minimum=0)
        for name in ("lr_g", "lr_d", "rmsprop_eps", "gp_eps"):
            _check_float(name, getattr(self, name), positive=True)
        for name in ("gp_lambda", "clip"):
            _check_float(name, getattr(self, name), positive=False)
        _check_float("rmsprop_alpha", self.rmsprop_alpha, positive=False)
        if not 0.0 <= self.rmsprop_alpha < 1.0:
            raise ConfigError(f"rmsprop_alpha: must lie in [0, 1), got {self.rmsprop_alpha}")
        if len(self.betas) != 2 or not all(0.0 <= b < 1.0 for b in self.betas):
            raise ConfigError(f"betas: expected two numbers in [0, 1), got {self.betas}")
        if self.penalty != "none" and self.gp_lambda <= 0:
            raise ConfigError(f"gp_lambda: the {self.penalty} penalty needs gp_lambda > 0, got {self.gp_lambda}")
        if self.penalty != "none" and self.critic_norm == "batchnorm":
            raise ConfigError("critic_norm: batch norm is not allowed in a critic with a gradient penalty "
                              "(the penalty is per sample; use 'layernorm' or 'none')")
        if self.algorithm == "wgan-clip" and self.clip <= 0:
            raise ConfigError(f"clip: wgan-clip needs a clipping value c > 0, got {self.clip}")
        if not isinstance(self.g_batchnorm, bool):
            raise ConfigError(f"g_batchnorm: expected a bool, got {self.g_batchnorm!r}")
        if not isinstance(self.dataset_options, dict):
            raise ConfigError(f"dataset_options: expected a dict, got {type(self.dataset_options).__name__}")
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
    def from_dict(cls, data: dict) -> "TrainConfig":
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ConfigError(f"unknown config fields {unknown}; valid fields: {sorted(names)}")
        data = dict(data)
        if data.get("betas") is not None:
            data["betas"] = tuple(data["betas"])
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> "TrainConfig":
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
    def load(cls, path) -> "TrainConfig":
        with open(path) as f:
            return cls.from_json(f.read())


def _check_choice(name: str, value, choices) -> None:
    if value not in choices:
        raise ConfigError(f"{name}: {value!r} is not one of {', '.join(map(str, choices))}")


def _check_int(name: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{name}: expected an int >= {minimum}, got {value!r}")


def _check_float(name: str, value, positive: bool) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or value < 0 or (positive and value == 0):
        raise ConfigError(f"{name}: expected a finite number {'> 0' if positive else '>= 0'}, got {value!r}")
