"""A tuning study's search space: each dimension a run setting (`lr`, `hidden_size`,
`optimizer`, ...) or a plugin option (`cell.forget_bias`, `trainer.shuffle`), with a
range or a list of choices, all checked against the run they tune before a trial runs.

A dimension is written `NAME=LOW:HIGH` (a float), `NAME=LOW:HIGH:log`,
`NAME=LOW:HIGH:int` (`:int:log` both), or `NAME=A,B,C` (choices)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from seqkit._core.config import RunConfig
from seqkit._core.errors import ConfigError, SeqkitError
from seqkit._plugins.registry import Registry
from seqkit._run.plan import plan
from seqkit._study.grid import OPTION_KINDS, SETTING_AXES, with_value

FLAGS = ("log", "int")


@dataclass(frozen=True)
class Dimension:
    """One setting the study varies: a range (`low`..`high`, on a log scale if `log`,
    integers if `integer`) or `choices`."""

    name: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    integer: bool = False
    choices: tuple[Any, ...] | None = None

    def suggest(self, trial: Any) -> Any:
        """The value an Optuna trial proposes for this dimension."""
        if self.choices is not None:
            return trial.suggest_categorical(self.name, list(self.choices))
        assert self.low is not None and self.high is not None
        if self.integer:
            return trial.suggest_int(self.name, int(self.low), int(self.high), log=self.log)
        return trial.suggest_float(self.name, self.low, self.high, log=self.log)

    def edges(self) -> list[Any]:
        """The values that bound it: both ends of a range, or every choice."""
        if self.choices is not None:
            return list(self.choices)
        ends = [self.low, self.high]
        return [int(v) if self.integer and v is not None else v for v in ends]

    def text(self) -> str:
        """As it is written: `lr=0.0001:0.01:log`, `optimizer=adam,rmsprop`."""
        if self.choices is not None:
            return f"{self.name}=" + ",".join(_show(c) for c in self.choices)
        flags = [f for f, on in (("int", self.integer), ("log", self.log)) if on]
        ends = [_show(v) for v in self.edges()]
        return f"{self.name}=" + ":".join([*ends, *flags])


def _show(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def parse_dimension(text: str, where: str = "--space") -> Dimension:
    """`NAME=LOW:HIGH[:log][:int]` or `NAME=A,B,...`; a ConfigError says what is wrong."""
    name, eq, spec = str(text).partition("=")
    name, spec = name.strip(), spec.strip()
    if not eq or not name or not spec:
        raise ConfigError(f"{where} {text!r}: write NAME=LOW:HIGH (add :log or :int) or NAME=A,B,C")
    where = f"{where} {name}"
    if ":" not in spec:
        choices = tuple(_value(v.strip()) for v in spec.split(","))
        if any(c == "" for c in choices):
            raise ConfigError(f"{where}: an empty choice in {spec!r}")
        twice = [c for i, c in enumerate(choices) if c in choices[:i]]
        if twice:
            raise ConfigError(f"{where}: {twice[0]!r} is listed twice; give each choice once")
        return Dimension(name, choices=choices)
    low_text, high_text, *flags = (part.strip() for part in spec.split(":"))
    unknown = [f for f in flags if f not in FLAGS]
    if unknown or len(set(flags)) != len(flags):
        raise ConfigError(f"{where}: after LOW:HIGH come :log and/or :int (got {spec!r})")
    low, high = _number(low_text, where), _number(high_text, where)
    integer, log = "int" in flags, "log" in flags
    if integer and not (float(low).is_integer() and float(high).is_integer()):
        raise ConfigError(f"{where}: an :int range needs whole-number ends (got {spec!r})")
    if not low < high:
        what = "empty" if low == high else "inverted"
        raise ConfigError(f"{where}: the range {spec!r} is {what}; LOW must be below HIGH")
    if log and low <= 0:
        raise ConfigError(f"{where}: a :log range needs LOW > 0 (got {low_text})")
    return Dimension(name, float(low), float(high), log=log, integer=integer)


def _number(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{where}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ConfigError(f"{where}: the range's ends must be finite numbers (got {text})")
    return value


def _value(text: str) -> Any:
    """A choice: a number, true/false, or else the text as it is."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, int | float | bool) else text


def parse_space(
    given: Iterable[str] | Mapping[str, str], where: str = "--space"
) -> list[Dimension]:
    """The dimensions of `--space` flags, or of a `[space]` table (`lr = "1e-4:1e-2:log"`);
    each name once, at least one."""
    items = [f"{k}={v}" for k, v in given.items()] if isinstance(given, Mapping) else list(given)
    space = [parse_dimension(item, where) for item in items]
    if not space:
        raise ConfigError(f"{where}: give at least one dimension, e.g. --space lr=1e-4:1e-2:log")
    names = [d.name for d in space]
    twice = [n for i, n in enumerate(names) if n in names[:i]]
    if twice:
        raise ConfigError(f"{where}: '{twice[0]}' is given twice; give each dimension once")
    return space


def configure(base: RunConfig, params: Mapping[str, Any]) -> RunConfig:
    """`base` with every dimension set to its value in `params`."""
    config = base
    for name, value in params.items():
        config = with_value(config, name, value)
    return config


def check_space(space: list[Dimension], base: RunConfig, registry: Registry | None) -> None:
    """Every dimension names a setting or an option of the plugins the run uses, and each
    of its edges (both ends, every choice) is a value the run accepts."""
    for dim in space:
        kind, dot, key = dim.name.partition(".")
        if not (dim.name in SETTING_AXES or (dot and kind in OPTION_KINDS and key)):
            raise ConfigError(
                f"--space {dim.name}: not a setting to tune; a dimension is a run setting "
                f"({', '.join(SETTING_AXES)}) or a plugin option "
                f"({', '.join(k + '.KEY' for k in OPTION_KINDS)})"
            )
        for value in dim.edges():
            try:
                plan(with_value(base, dim.name, value), registry)
            except SeqkitError as exc:  # a bad value, or a name no plugin registered
                raise ConfigError(f"--space {dim.text()}: at {value!r}: {exc}") from None
