"""Checking what seqkit reads back against what it wrote, with the standard library.

A file in a run's or a comparison's directory may have been cut off by a full disk,
edited by hand or written by another version. Before any of it is used, it is checked
against a `Kind`: a damaged file is one ConfigError naming the file, the field (or line)
and what was expected, never a KeyError or a silently wrong run. Records accept keys
they do not name, so a file from a newer seqkit still reads."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from seqkit._core.errors import ConfigError


@dataclass(frozen=True)
class Kind:
    """What a value must be: `says` is how an error puts it ("a number")."""

    says: str
    accepts: Callable[[Any], bool]
    fields: Mapping[str, Kind] = field(default_factory=dict)
    optional: Mapping[str, Kind] = field(default_factory=dict)
    items: Kind | None = None
    values: Kind | None = None
    nullable: bool = False


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


TEXT = Kind("a string", lambda v: isinstance(v, str))
FLAG = Kind("true or false", lambda v: isinstance(v, bool))
NUMBER = Kind("a number", _is_number)
"""NaN and infinities included: a run that diverged wrote them (JSON's NaN)."""
FINITE = Kind("a finite number", lambda v: _is_number(v) and math.isfinite(v))
COUNT = Kind("an integer >= 0", lambda v: _is_int(v) and v >= 0)
POSITIVE = Kind("an integer >= 1", lambda v: _is_int(v) and v >= 1)
ANY_RECORD = Kind("an object", lambda v: isinstance(v, dict))


def optional(kind: Kind) -> Kind:
    """`kind`, or null."""
    return dataclasses.replace(kind, says=f"{kind.says} or null", nullable=True)


def list_of(kind: Kind) -> Kind:
    return Kind(f"a list, each item {kind.says}", lambda v: isinstance(v, list), items=kind)


def mapping_of(kind: Kind) -> Kind:
    """An object whose every value is `kind`."""
    return Kind(f"an object, each value {kind.says}", lambda v: isinstance(v, dict), values=kind)


def record(required: Mapping[str, Kind], optional: Mapping[str, Kind] | None = None) -> Kind:
    """An object with the `required` fields and, where present, the `optional` ones."""
    return Kind(
        "an object", lambda v: isinstance(v, dict), fields=required, optional=optional or {}
    )


def check(value: Any, kind: Kind, where: str) -> Any:
    """`value` if it is `kind`, else a ConfigError: `where: field 'a.b[2]' must be ...`."""
    problem = _problem(value, kind, "")
    if problem is not None:
        raise ConfigError(f"{where}: {problem}")
    return value


def _problem(value: Any, kind: Kind, path: str) -> str | None:
    if value is None and kind.nullable:
        return None
    if not kind.accepts(value):
        got = repr(value)
        got = got if len(got) <= 40 else got[:37] + "..."
        named = f"field '{path}' must" if path else "must"
        return f"{named} be {kind.says} (got {got})"
    if kind.items is not None:
        for i, item in enumerate(value):
            if (p := _problem(item, kind.items, f"{path}[{i}]")) is not None:
                return p
    if kind.values is not None:
        for key, item in value.items():
            if (p := _problem(item, kind.values, _join(path, key))) is not None:
                return p
    for key, sub in kind.fields.items():
        if key not in value:
            return f"field '{_join(path, key)}' is missing"
        if (p := _problem(value[key], sub, _join(path, key))) is not None:
            return p
    for key, sub in kind.optional.items():
        if key in value and (p := _problem(value[key], sub, _join(path, key))) is not None:
            return p
    return None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else str(key)
