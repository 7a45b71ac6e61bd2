"""What an algorithm declares, and the hooks `Trainer` calls.

An algorithm is a subclass of `Algorithm` (one per file in this package, or in the user's own
module). Its class attributes are its declaration:

- ``name``, and ``paper`` (the citation) in its docstring;
- ``options``: its hyperparameters (`Option`), stored in the resolved config's ``algorithm_options``
  (name -> value), given on the command line as ``--name-with-dashes`` and checked by
  `TrainConfig.resolve()`. An option may be shared by several algorithms: the penalty's ``gp_lambda``
  and ``gp_eps``, the clipping's ``clip`` (`wgan.algorithms.options`) are the same `Option` in each
  algorithm that reads them. An option no algorithm of the run declares is refused, not ignored;
- ``defaults``: the paper's values of `TrainConfig` fields (optimizer, lr, betas, n_critic, ...) and of
  its options where they differ from the option's own default;
- ``presets``: per preset (``"toy"``), what the preset means for it (fields and options), on top of the
  preset's models;
- ``losses``: the values the ``loss`` field may take with it (the first is its default);
- ``penalised``: whether its critic objective penalises the gradient per sample (a batch-norm
  critic is then refused, see `allows_batchnorm_critic`).

An option's value is resolved in layers, later ones winning: the `Option`'s default, the algorithm's
``defaults``, its ``presets[preset]``, then what the user gave (``algorithm_options``, the option's
flag, or for the shared options their top-level spelling ``TrainConfig(gp_lambda=...)``).

An instance is built per trainer with the resolved config (``self.config``). One critic update of
`Trainer.critic_step` calls, in order::

    before_critic_step(critic)
    objective = critic_objective(critic, real, fake, noise)   # noise: what critic_noise(rng, shape) drew
    <optimizer step on objective.total>
    after_critic_step(critic)

and a generator update differentiates ``generator_objective(critic, fake).total``. The critic is
built by `wgan.models.build_models` (or by ``build_critic`` when an algorithm needs its own) and
then passed through ``prepare_critic`` (spectral norm, the batch-norm refusal).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import numpy as np

import minigrad
from minigrad import Tensor, nn
from wgan import losses
from wgan.validation import ConfigError, check_choice

#: Logged keys -> the words a divergence message uses for them.
TERM_NAMES = {"d_loss": "critic loss", "g_loss": "generator loss", "penalty": "gradient penalty"}


class NoiseStream(Protocol):
    """The training stream ``critic_noise`` draws from: a NumPy Generator on the CPU (host arrays),
    `wgan.device.DeviceNoise` on a device (the same draw methods, returning device arrays)."""

    def random(self, size: Any = ..., dtype: Any = ...) -> Any: ...

    def standard_normal(self, size: Any = ..., dtype: Any = ...) -> Any: ...


@dataclass(frozen=True)
class Option:
    """One hyperparameter of an algorithm.

    ``type`` is float, int, str, bool or tuple (a fixed-length tuple of floats, the length of
    ``default``); ``choices`` restricts the value; ``minimum`` is an inclusive lower bound
    (exclusive with ``positive=True``); ``metavar`` names the value(s) in ``--help`` (default: the
    name in capitals). `check` returns the value in canonical form or raises ConfigError naming
    the option.

    ``unused``: for the options that `TrainConfig` also takes at the top level under their old
    spelling (`wgan.algorithms.options.TOP_LEVEL`), the value that spelling holds with an algorithm
    that does not read the option (config files of earlier versions wrote it for every algorithm).
    """

    name: str
    default: Any
    help: str
    type: type = float
    choices: tuple | None = None
    minimum: float | None = None
    positive: bool = False
    metavar: str | tuple[str, ...] | None = None
    unused: Any = None

    def check(self, value: Any) -> Any:
        if self.type is tuple:
            if not isinstance(value, (tuple, list)) or len(value) != len(self.default) or not all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v) for v in value):
                raise ConfigError(f"{self.name}: expected {len(self.default)} numbers, got {value!r}")
            value = tuple(float(v) for v in value)
        elif self.type is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
                raise ConfigError(f"{self.name}: expected a finite number, got {value!r}")
            value = float(value)
        elif self.type is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigError(f"{self.name}: expected an int, got {value!r}")
        elif self.type is bool:
            if not isinstance(value, bool):
                raise ConfigError(f"{self.name}: expected true or false, got {value!r}")
        elif not isinstance(value, self.type):
            raise ConfigError(f"{self.name}: expected a {self.type.__name__}, got {value!r}")
        if self.choices is not None:
            check_choice(self.name, value, self.choices)
        if self.minimum is not None and self.type in (int, float) and (
                value < self.minimum or (self.positive and value == self.minimum)):
            raise ConfigError(f"{self.name}: expected a value {'>' if self.positive else '>='} {self.minimum}, "
                              f"got {value!r}")
        return value


@dataclass
class Objective:
    """What an objective hook returns.

    ``total``: the scalar Tensor differentiated for the update. ``logs``: key -> a scalar Tensor or
    array, read into the step's metrics (in order; the first non-finite one stops the run, named by
    `TERM_NAMES`). For a critic objective, ``d_real`` and ``d_fake``: the critic's scores of the real
    and generated batches, from which `Algorithm.w_estimate` is read.
    """

    total: Tensor
    logs: dict[str, Any] = field(default_factory=dict)
    d_real: Tensor | None = None
    d_fake: Tensor | None = None


def has_batchnorm(critic) -> bool:
    """Whether a critic (a Module, or any callable: then False) holds a batch-norm layer."""
    modules = getattr(critic, "modules", None)
    return modules is not None and any("BatchNorm" in type(m).__name__ for m in modules())


class Algorithm:
    """Base class of every algorithm: the critic loss of ``config.loss`` (`wgan.losses`), no
    regulariser, no clipping; subclasses override what their paper changes."""

    name: ClassVar[str] = ""
    defaults: ClassVar[dict[str, Any]] = {}
    presets: ClassVar[dict[str, dict[str, Any]]] = {}
    options: ClassVar[tuple[Option, ...]] = ()
    losses: ClassVar[tuple[str, ...]] = losses.LOSSES
    penalised: ClassVar[bool] = False

    def __init__(self, config):
        self.config = config
        self._fused: bool | None = None

    # ------------------------------------------------------------------ configuration
    @classmethod
    def option(cls, name: str) -> Option:
        for opt in cls.options:
            if opt.name == name:
                return opt
        raise KeyError(name)

    @classmethod
    def option_defaults(cls, preset: str | None = None) -> dict[str, Any]:
        """Each option's default with this algorithm (and `preset`): the `Option`'s own, then ``defaults``,
        then ``presets[preset]``."""
        values = {opt.name: opt.default for opt in cls.options}
        for layer in (cls.defaults, cls.presets.get(preset, {}) if preset is not None else {}):
            values.update({name: value for name, value in layer.items() if name in values})
        return values

    @classmethod
    def allows_batchnorm_critic(cls, config) -> bool:
        """Whether a batch-norm critic is accepted: not when the gradient is penalised per sample
        (batch norm couples the samples; Gulrajani et al. 2017, section 4), unless the config insists
        (``allow_batchnorm_critic=True``: `prepare_critic` then warns). Override to allow it."""
        return not cls.penalised or bool(getattr(config, "allow_batchnorm_critic", False))

    @classmethod
    def validate(cls, config) -> None:
        """Raise ConfigError naming the field when a resolved config does not suit this algorithm."""
        check_choice("loss", config.loss, cls.losses)
        if config.critic_norm == "batchnorm" and not cls.allows_batchnorm_critic(config):
            raise ConfigError("critic_norm: batch norm is not allowed in a critic with a gradient penalty "
                              "(the penalty is per sample; use 'layernorm' or 'none', or "
                              "allow_batchnorm_critic=True to insist)")

    # ------------------------------------------------------------------ models
    def build_critic(self, sample_shape: tuple) -> nn.Module | None:
        """A critic of the algorithm's own kind, or None for `wgan.models.build_models`' standard one."""
        return None

    def prepare_critic(self, critic: nn.Module) -> nn.Module:
        """Called on the freshly built critic (before it moves to the device); returns it."""
        if not self.allows_batchnorm_critic(self.config):
            losses.check_penalizable(critic)
        elif self.penalised and getattr(self.config, "allow_batchnorm_critic", False):
            losses.warn_if_batchnorm_critic(critic)
        return critic

    # ------------------------------------------------------------------ one critic update
    def critic_noise(self, rng: NoiseStream, batch_shape: tuple) -> Any:
        """The random numbers one critic update needs besides the data and z (e.g. one interpolation
        coefficient per sample), drawn from the training stream `rng`: an array, a dict of arrays or None."""
        return None

    def before_critic_step(self, critic: nn.Module) -> None:
        """Called before each critic update's forward pass."""

    def scores(self, critic: nn.Module, real: Tensor, fake: Tensor) -> tuple[Tensor, Tensor]:
        """D(x) and D(G(z)), in one forward pass of the concatenated batch when the critic has no batch
        norm (identical values, fewer operations)."""
        if self._fused is None:
            self._fused = not has_batchnorm(critic)
        if self._fused:
            out = critic(minigrad.concatenate([real, fake], axis=0))
            return out[:real.shape[0]], out[real.shape[0]:]
        return critic(real), critic(fake)

    def critic_loss(self, d_real: Tensor, d_fake: Tensor) -> Tensor:
        return losses.critic_loss(self.config.loss, d_real, d_fake)

    def critic_regularizer(self, critic: nn.Module, real: Tensor, fake: Tensor, noise: Any) \
            -> tuple[float, Tensor, dict[str, Any]] | None:
        """(weight, penalty, extra logs) added to the critic loss as ``loss + weight * penalty``, or None."""
        return None

    def critic_objective(self, critic: nn.Module, real: Tensor, fake: Tensor, noise: Any) -> Objective:
        """The critic's loss plus its regulariser, on a real batch and a generated one (both constants)."""
        d_real, d_fake = self.scores(critic, real, fake)
        loss = self.critic_loss(d_real, d_fake)
        objective = Objective(loss, {"d_loss": loss}, d_real, d_fake)
        regularizer = self.critic_regularizer(critic, real, fake, noise)
        if regularizer is not None:
            weight, penalty, extra = regularizer
            objective.logs["penalty"] = penalty
            objective.logs.update(extra)
            objective.total = loss + weight * penalty
        return objective

    def after_critic_step(self, critic: nn.Module) -> None:
        """Called after each critic update (e.g. weight clipping)."""

    def w_estimate(self, d_real, d_fake):
        """The critic's estimate of W1 from its scores (arrays on the training device): E[D(x)] - E[D(G(z))],
        as a 0-d array (no host sync; the trainer reads it as a float at log steps)."""
        return d_real.mean() - d_fake.mean()

    # ------------------------------------------------------------------ one generator update
    def generator_loss(self, d_fake: Tensor) -> Tensor:
        return losses.generator_loss(self.config.loss, d_fake)

    def generator_objective(self, critic: nn.Module, fake: Tensor) -> Objective:
        """The generator's loss on generated samples `fake` (a graph back to the generator's weights)."""
        loss = self.generator_loss(critic(fake))
        return Objective(loss, {"g_loss": loss})
