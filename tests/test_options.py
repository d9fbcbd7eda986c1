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


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Option(5, max=3), "Option default 5 is above its max 3"),
        (lambda: Option(-1.0, min=0.0), "Option default -1.0 is below its min 0.0"),
        (lambda: Option("x", choices=("a", "b")), "Option default 'x' is not one of its choices"),
        (lambda: Option(float("nan")), "Option default is NaN"),
    ],
)
def test_a_default_its_own_bounds_refuse_is_the_plugins_error(make, message):
    """Issue 33: such a default used to be used as it was, and `seqkit check` said ok."""
    with pytest.raises(ValueError, match=message):
        make()


def test_a_plugin_declaring_such_an_option_is_a_broken_plugin():
    import seqkit

    source = "from seqkit import Option\nBAD = Option(10, 'steps', min=1, max=5)\n"

    class Plugin:
        @seqkit.hookimpl
        def register_tasks(self, register):
            namespace: dict = {}
            exec(source, namespace)  # as a plugin module's top level would run
            register("bad", object, options={"steps": namespace["BAD"]})

    registry = seqkit.load_registry(strict=False)
    from seqkit._plugins.registry import PluginWarning

    with pytest.warns(PluginWarning, match="Option default 10 is above its max 5"):
        info = registry.add_plugin(Plugin(), "bad-default")
    assert info is not None and info.status == "error"
    assert "Option default 10 is above its max 5" in (info.error or "")
    assert "bad" not in registry.names("task")
