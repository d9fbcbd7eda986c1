from __future__ import annotations

import pytest

from seqkit._core.errors import ConfigError
from seqkit._core.options import Option, parse_pairs, resolve_options

DECLARED = {
    "n": Option(3, min=1),
    "p": Option(0.5, max=1.0),
    "flag": Option(False),
    "mode": Option("a", choices=("a", "b")),
}


def test_strings_are_coerced_and_defaults_filled():
    got = resolve_options("x", DECLARED, {"n": "7", "flag": "true", "p": 1})
    assert got == {"n": 7, "p": 1.0, "flag": True, "mode": "a"}
    assert isinstance(got["p"], float)


@pytest.mark.parametrize(
    "given, message",
    [
        ({"n": "2.5"}, "option 'n' must be an integer"),
        ({"n": 0}, "must be >= 1"),
        ({"p": 2.0}, "must be <= 1.0"),
        ({"flag": "maybe"}, "true or false"),
        ({"mode": "c"}, "must be one of a, b"),
        ({"n": True}, "must be an integer"),
        ({"size": 3}, "has no option 'size'; its options are: flag, mode, n, p"),
    ],
)
def test_bad_values_name_the_option_and_what_is_allowed(given, message):
    with pytest.raises(ConfigError, match=message):
        resolve_options("task 'x'", DECLARED, given)


def test_parse_pairs():
    assert parse_pairs(("a=1", " b = x "), "--task-opt") == {"a": "1", "b": "x"}
    with pytest.raises(ConfigError, match="--task-opt takes KEY=VALUE"):
        parse_pairs(("oops",), "--task-opt")
