"""Declared, validated options for cells, topologies and tasks (`--cell-opt k=v`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from seqkit._core.errors import ConfigError

FASTEST = "fastest"
"""The value of a cell option with `tune=` that asks for the fastest of its values, timed."""


@dataclass(frozen=True)
class Option:
    """One option a plugin accepts: its default, type (from the default), and limits.

    `flag=True` on a cell option also makes it a flag of its own on the commands that
    define a run (`num_layers` -> `--num-layers`), besides `--cell-opt num_layers=2`.

    `tune=(a, b, ...)` on a cell option whose values compute the same function by other
    means (torch's module or hand-written kernels): the option also accepts `"fastest"`
    (FASTEST), with which a run long enough to pay for it times a few training steps with
    each of these values and runs with the fastest. Left at its default, the option
    follows the plugin's own fixed rule: the values round differently, so a choice made by
    timing could change a run's numbers from one machine or load to another, and seqkit
    makes such a choice only when asked (see docs/scaling.md)."""

    default: Any
    help: str = ""
    choices: tuple[Any, ...] | None = None
    min: float | None = None
    max: float | None = None
    flag: bool = False
    tune: tuple[Any, ...] = ()

    def __post_init__(self) -> None:
        self._check_default()
        if self.tune and (not isinstance(self.default, str) or self.choices is None):
            raise ValueError(
                "Option tune= needs a string option with choices (the user's "
                f"{FASTEST!r} asks for the timed choice among them)"
            )
        if self.tune and self.default == FASTEST:
            raise ValueError(f"Option tune=: the default cannot be {FASTEST!r}")
        for value in self.tune:
            if value in (self.default, FASTEST) or (
                self.choices is not None and value not in self.choices
            ):
                raise ValueError(
                    f"Option tune= values must be choices other than the default "
                    f"{self.default!r} and {FASTEST!r} (got {value!r})"
                )
        if self.tune and self.choices is not None and FASTEST not in self.choices:
            object.__setattr__(self, "choices", (*self.choices, FASTEST))

    def _check_default(self) -> None:
        """A default the option's own bounds or choices refuse is the plugin's error, said
        when the plugin declares it (so its import fails and `seqkit plugins` shows why),
        not used as it is."""
        value = self.default
        if self.choices is not None and value not in self.choices:
            raise ValueError(f"Option default {value!r} is not one of its choices {self.choices}")
        if isinstance(value, bool) or not isinstance(value, int | float):
            return
        if isinstance(value, float) and math.isnan(value):
            raise ValueError("Option default is NaN")
        if self.min is not None and value < self.min:
            raise ValueError(f"Option default {value!r} is below its min {self.min}")
        if self.max is not None and value > self.max:
            raise ValueError(f"Option default {value!r} is above its max {self.max}")

    def _admits(self, value: float) -> bool:
        """Whether a non-finite `value` is one this option's bounds declare (an infinite
        `min` or `max`); NaN never is."""
        return (value == math.inf and self.max == math.inf) or (
            value == -math.inf and self.min == -math.inf
        )

    @property
    def type(self) -> type:
        return type(self.default)

    def describe(self) -> dict[str, Any]:
        """What `seqkit list -v` and `describe` show: help, type, default, choices, bounds,
        and whether it is also a flag of its own."""
        return {
            "help": self.help,
            "type": self.type.__name__,
            "default": self.default,
            "choices": list(self.choices) if self.choices is not None else None,
            "min": self.min,
            "max": self.max,
            "flag": self.flag,
            "tune": list(self.tune),
        }

    def coerce(self, owner: str, name: str, value: Any) -> Any:
        """Turn `value` (a CLI string or a Python value) into this option's type, or raise."""
        kind = self.type
        try:
            if isinstance(value, str) and kind is not str:
                value = _parse(kind, value)
            elif kind is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise TypeError
        except (TypeError, ValueError):
            raise ConfigError(
                f"{owner} option '{name}' must be {_describe(kind)} (got {value!r})"
            ) from None
        if isinstance(value, float) and not math.isfinite(value) and not self._admits(value):
            raise ConfigError(f"{owner} option '{name}' must be a finite number (got {value!r})")
        if self.choices is not None and value not in self.choices:
            allowed = ", ".join(map(str, self.choices))
            raise ConfigError(f"{owner} option '{name}' must be one of {allowed} (got {value!r})")
        if self.min is not None and value < self.min:  # type: ignore[operator]
            raise ConfigError(f"{owner} option '{name}' must be >= {self.min} (got {value!r})")
        if self.max is not None and value > self.max:  # type: ignore[operator]
            raise ConfigError(f"{owner} option '{name}' must be <= {self.max} (got {value!r})")
        return value


def _parse(kind: type, text: str) -> Any:
    if kind is bool:
        low = text.strip().lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise ValueError(text)
    return kind(text)


def _describe(kind: type) -> str:
    return {int: "an integer", float: "a number", bool: "true or false", str: "a string"}.get(
        kind, kind.__name__
    )


def resolve_options(
    owner: str, declared: Mapping[str, Option], given: Mapping[str, Any]
) -> dict[str, Any]:
    """Every declared option with its value: `given` validated, the rest defaulted."""
    unknown = sorted(set(given) - set(declared))
    if unknown:
        allowed = ", ".join(sorted(declared)) or "none"
        raise ConfigError(f"{owner} has no option '{unknown[0]}'; its options are: {allowed}")
    return {
        name: opt.coerce(owner, name, given[name]) if name in given else opt.default
        for name, opt in declared.items()
    }


def parse_pairs(pairs: tuple[str, ...] | list[str], flag: str) -> dict[str, str]:
    """`("a=1", "b=x,y")` -> `{"a": "1", "b": "x,y"}`; a pair without '=' is an error."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{flag} takes KEY=VALUE (got {pair!r})")
        out[key.strip()] = value.strip()
    return out


def sample_options(train: int, val: int = 500) -> dict[str, Option]:
    """The options every task has: training and validation set sizes, with these defaults."""
    return {
        "num_samples": Option(train, "training sequences", min=1, max=10_000_000),
        "val_samples": Option(val, "held-out validation sequences", min=1, max=10_000_000),
    }
