"""`ConfigError` and the small value checks shared by `TrainConfig` and the algorithms' own options.

Every check raises ``ConfigError`` whose message starts with the name of the field it rejects.
"""
from __future__ import annotations

import math
from typing import Any
from collections.abc import Iterable


class ConfigError(ValueError):
    """A config field holds an invalid value; the message names the field."""


def check_choice(name: str, value: Any, choices: Iterable) -> None:
    choices = tuple(choices)
    if value not in choices:
        raise ConfigError(f"{name}: {value!r} is not one of {', '.join(map(str, choices))}")


def check_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{name}: expected an int >= {minimum}, got {value!r}")


def check_float(name: str, value: Any, positive: bool) -> float:
    """`value`, checked to be a finite number >= 0 (> 0 with `positive`)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or value < 0 or (positive and value == 0):
        raise ConfigError(f"{name}: expected a finite number {'> 0' if positive else '>= 0'}, got {value!r}")
    return value
