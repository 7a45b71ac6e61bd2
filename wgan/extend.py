"""Resuming and extending a run honestly: which changes a resume may make, and the learning rates of an
extension.

The rule (`plan_resume`):

- Resuming to the planned number of steps continues the run exactly (bit-identical on the CPU).
- ``steps`` above (or below) the plan *extends* (or shortens) the plan. With constant learning rates
  (``lr_decay="none"`` and no decaying extension) that is exactly a run planned for the new number of steps.
  A decaying schedule cannot be continued as if it had been planned longer (its earlier steps decayed faster
  than a longer plan's would have), so the change is refused unless the extension's schedule is named:
  ``extend_lr="constant"`` keeps the last learning rates used, ``"linear"`` decays from them to 0 at the new
  last step. Either way the first new step uses the last step's rates: no jump.
- ``steps`` below the checkpoint's step is an error naming both numbers.
- Of the other fields only those that leave the training stream alone may change (`RESUMABLE_FIELDS`: logging,
  evaluation, checkpoints, device); they are applied and listed. Any other change is refused.
- Each extension is recorded in the config's ``extensions`` (so in ``config.json`` and the checkpoint):
  ``{"at_step", "from_steps", "to_steps", "extend_lr", "lr_g", "lr_d"}`` (the rates the extension starts at).

`learning_rates(config, step)` gives the (generator, critic) learning rates of the step after `step` completed
steps, under the base schedule and every recorded extension.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from wgan.config import ConfigError, ResolvedConfig, TrainConfig, settings

__all__ = ["EXTEND_LR", "RESUMABLE_FIELDS", "ResumePlan", "plan_resume", "learning_rates", "lr_segment",
           "schedule_decays"]

#: The schedules an extension may name.
EXTEND_LR = ("constant", "linear")
#: Fields a resume may change (declared ``resumable`` in `wgan.config`): they do not touch the models, the
#: optimizers or the random streams. (The device does not change the numbers' meaning; CPU and GPU runs are
#: not bit-identical to each other.) ``heldout_every`` only says how often the held-out estimate (eval mode, no
#: gradients, its own fixed draws) is logged; ``heldout_size`` is not one: it changes the training split of a
#: finite dataset.
RESUMABLE_FIELDS = tuple(name for name, (spec, _) in settings().items() if spec.resumable)


def learning_rates(config: TrainConfig | ResolvedConfig, step: int) -> tuple[float, float]:
    """(lr_g, lr_d) of the generator iteration that follows `step` completed ones.

    The base schedule is constant or, with ``lr_decay="linear"``, ``lr * max(0, 1 - step / steps)`` over the
    steps first planned; from each recorded extension's ``at_step`` on, the extension's ``constant`` rates or
    ``linear`` decay from them to 0 at its ``to_steps`` take over (an extension with no ``extend_lr`` continued
    a constant schedule and changes nothing).
    """
    named = [e for e in config.extensions if e.get("extend_lr") is not None and step >= e["at_step"]]
    if named:
        ext = named[-1]
        if ext["extend_lr"] == "constant":
            return float(ext["lr_g"]), float(ext["lr_d"])
        frac = max(0.0, (ext["to_steps"] - step) / (ext["to_steps"] - ext["at_step"]))
        return ext["lr_g"] * frac, ext["lr_d"] * frac
    lr_g, lr_d = _base_rates(config)
    if config.lr_decay == "linear":
        planned = config.extensions[0]["from_steps"] if config.extensions else config.steps
        frac = max(0.0, 1.0 - step / planned)
        return lr_g * frac, lr_d * frac
    return lr_g, lr_d


def lr_segment(config: TrainConfig | ResolvedConfig, step: int) -> tuple[str, float, float, int, int]:
    """The piece of the schedule in force after `step` completed steps, as (kind, lr_g, lr_d, start, length):
    from step `start` on, ``"constant"`` rates (lr_g, lr_d), or ``"linear"`` decay from them to 0 over `length`
    steps (the step ``start + e`` runs at ``lr * (1 - e / length)``; `length` is 0 for a constant piece).
    `learning_rates` is the same schedule step by step."""
    named = [e for e in config.extensions if e.get("extend_lr") is not None and step >= e["at_step"]]
    if named:
        ext = named[-1]
        length = ext["to_steps"] - ext["at_step"] if ext["extend_lr"] == "linear" else 0
        return ext["extend_lr"], float(ext["lr_g"]), float(ext["lr_d"]), ext["at_step"], length
    lr_g, lr_d = _base_rates(config)
    if config.lr_decay == "linear":
        planned = config.extensions[0]["from_steps"] if config.extensions else config.steps
        return "linear", lr_g, lr_d, 0, planned
    return "constant", lr_g, lr_d, 0, 0


def _base_rates(config: TrainConfig | ResolvedConfig) -> tuple[float, float]:
    """The config's own (lr_g, lr_d), which a resolved (or saved) config always holds."""
    if config.lr_g is None or config.lr_d is None:
        raise ConfigError("lr_g, lr_d: unset in the config; call resolve() first")
    return config.lr_g, config.lr_d


def schedule_decays(config: TrainConfig | ResolvedConfig, step: int) -> bool:
    """Whether the learning rates in force after `step` completed steps depend on the planned number of steps."""
    named = [e for e in config.extensions if e.get("extend_lr") is not None and step >= e["at_step"]]
    if named:
        return named[-1]["extend_lr"] == "linear"
    return config.lr_decay == "linear"


@dataclass
class ResumePlan:
    """What a resume does: the `config` to continue with, the `changes` applied (one phrase each) and
    `message`, the one line to print at start."""

    config: TrainConfig
    message: str
    changes: list[str] = field(default_factory=list)


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def plan_resume(saved: TrainConfig, step: int, steps: int | None = None, extend_lr: str | None = None,
                changes: dict | None = None, where: str = "the checkpoint") -> ResumePlan:
    """The plan for resuming a run whose resolved config is `saved` from a checkpoint at `step` (see the
    module's rule). `changes` maps config fields to new values; `where` names the checkpoint in messages.

    Raises ConfigError (naming the flag and both numbers) for a refused change.
    """
    changes = dict(changes or {})
    if extend_lr is not None and extend_lr not in EXTEND_LR:
        raise ConfigError(f"extend_lr: {extend_lr!r} is not one of {', '.join(EXTEND_LR)}")
    refused = sorted(name for name, value in changes.items()
                     if name not in RESUMABLE_FIELDS and getattr(saved, name) != value)
    if refused:
        shown = ", ".join(f"{_flag(n)} (saved: {getattr(saved, n)!r})" for n in refused)
        raise ConfigError(f"--resume: {shown} cannot change when a run continues (it would no longer be the same "
                          f"run; start a new one with --out instead); a resume may change --steps, --extend-lr and "
                          f"{', '.join(_flag(n) for n in RESUMABLE_FIELDS)}")
    fields = saved.to_dict()
    applied = []
    for name, value in changes.items():
        if getattr(saved, name) != value:
            applied.append(f"{_flag(name)} {value} (was {getattr(saved, name)})")
            fields[name] = value
    target = saved.steps if steps is None else steps
    if not isinstance(target, int) or isinstance(target, bool) or target < 1:
        raise ConfigError(f"steps: expected an int >= 1, got {target!r}")
    if target < step:
        raise ConfigError(f"--steps {target} is below the checkpoint's step {step} ({where}): a run cannot be "
                          f"shortened to before its checkpoint; give --steps {step} or more")
    if target == saved.steps:
        if extend_lr is not None:
            raise ConfigError(f"--extend-lr {extend_lr}: the run keeps its {saved.steps} planned steps, so there is "
                              "no extension to schedule; give a larger --steps")
        if step >= target:
            message = f"resume: the run already completed its {target} steps; nothing to train (give --steps N > " \
                      f"{target} to extend it)"
        else:
            message = f"resume: continuing from step {step} to the planned {target} (the same run, bit-identical " \
                      "on the CPU)"
        return ResumePlan(TrainConfig.from_dict(fields), _with_changes(message, applied), applied)
    lr_g, lr_d = learning_rates(saved, max(step - 1, 0))
    decays = schedule_decays(saved, step)
    if decays and extend_lr is None:
        raise ConfigError(
            f"--steps {target}: this run's learning rates decay linearly to 0 at step {saved.steps}, so it cannot "
            f"continue as if it had been planned for {target} steps (its first {step} steps followed the decay "
            f"planned for {saved.steps}, and restarting the decay would make the rates jump). Name the "
            f"extension's schedule: --extend-lr constant (keep the last rates, lr_g {lr_g:.3g}, lr_d {lr_d:.3g}) or "
            f"--extend-lr linear (decay from them to 0 at step {target})")
    record = {"at_step": step, "from_steps": saved.steps, "to_steps": target, "extend_lr": extend_lr,
              "lr_g": lr_g, "lr_d": lr_d}
    fields["extensions"] = list(saved.extensions) + [record]
    fields["steps"] = target
    verb = "extending" if target > saved.steps else "shortening"
    if extend_lr is None:
        message = (f"resume: {verb} the run from {saved.steps} to {target} steps at step {step}; its learning rates "
                   f"are constant, so this is exactly a run planned for {target} steps")
    elif extend_lr == "constant":
        message = (f"resume: {verb} the run from {saved.steps} to {target} steps at step {step} with the last "
                   f"learning rates held constant at lr_g {lr_g:.3g}, lr_d {lr_d:.3g} (--extend-lr constant)")
    else:
        message = (f"resume: {verb} the run from {saved.steps} to {target} steps at step {step}, the learning rates "
                   f"decaying linearly from the last ones (lr_g {lr_g:.3g}, lr_d {lr_d:.3g}) to 0 at step {target} "
                   "(--extend-lr linear)")
    return ResumePlan(TrainConfig.from_dict(fields), _with_changes(message, applied), applied)


def _with_changes(message: str, applied: list[str]) -> str:
    return message + (f"; applied {', '.join(applied)}" if applied else "")
