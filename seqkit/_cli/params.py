"""Click parameter types that resolve plugin names lazily, at parse time."""

from __future__ import annotations

from typing import Any

import click
from click.shell_completion import CompletionItem

from seqkit._core.errors import ConfigError, SeqkitError, UnknownNameError
from seqkit._plugins.registry import KINDS, get_registry


class RegistryName(click.ParamType):
    """A cell/topology/task/trainer name, checked against the registry when parsed.

    Not a `click.Choice` built at import: plugins load only when a name is needed, and
    an unknown name gets a did-you-mean from the registry.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.name = f"{kind}"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        try:
            get_registry().get(self.kind, value)
        except SeqkitError as exc:
            self.fail(str(exc), param, ctx)
        return str(value)

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return self.kind.upper()

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        """The registered names that start with what was typed, with their descriptions."""
        return [
            CompletionItem(e.name, help=e.description)
            for e in get_registry().entries(self.kind)
            if e.name.startswith(incomplete)
        ]


def complete_cells(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """`--cells rnn,l<TAB>`: the list so far, then each cell name that fits."""
    done, _, last = incomplete.rpartition(",")
    prefix = done + "," if done else ""
    return [prefix + n for n in get_registry().names("cell") if n.startswith(last)]


def complete_options(kind: str) -> Any:
    """Shell completion for `--KIND-opt K=V`: the option names of the KIND given earlier on
    the line (of every registered KIND if none is), then a choice-valued or boolean
    option's values after `=`."""

    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
        registry = get_registry()
        chosen = ctx.params.get(kind) or ctx.params.get("cells", "").split(",")[0]
        names = [chosen] if chosen in registry.names(kind) else registry.names(kind)
        options = {k: o for n in names for k, o in registry.get(kind, n).options.items()}
        key, sep, value = incomplete.partition("=")
        if not sep:
            return [
                CompletionItem(f"{k}=", help=o.help)
                for k, o in options.items()
                if k.startswith(key)
            ]
        option = options.get(key)
        if option is None:
            return []
        values = option.choices or ((True, False) if option.type is bool else ())
        return [
            f"{key}={v}".lower() if isinstance(v, bool) else f"{key}={v}"
            for v in values
            if str(v).lower().startswith(value.lower())
        ]

    return complete


def kind_of(name: str, kind: str | None = None) -> str:
    """Which kind `name` is: `kind` if given (the name must be one), else the one kind
    that registers it; an unknown or ambiguous name is one error saying what to do."""
    registry = get_registry()
    if kind is not None:
        registry.get(kind, name)  # unknown: did-you-mean among that kind
        return kind
    kinds = [k for k in KINDS if name in registry.names(k)]
    if not kinds:
        raise UnknownNameError("name", name, [n for k in KINDS for n in registry.names(k)])
    if len(kinds) > 1:
        raise ConfigError(
            f"'{name}' names a {' and a '.join(kinds)}; choose with --kind {'|'.join(kinds)}"
        )
    return kinds[0]


def parse_cells(value: str) -> list[str]:
    """`--cells rnn,lstm,gru` -> names, each checked against the registry."""
    names = [v.strip() for v in value.split(",") if v.strip()]
    if not names:
        raise ConfigError("--cells takes a comma-separated list, e.g. rnn,lstm,gru")
    registry = get_registry()
    for name in names:
        registry.get("cell", name)  # unknown names: did-you-mean, exit 2
    return names


class Threads(click.ParamType):
    """`--threads`: `auto` (seqkit's rule), `fastest` (timed on a long run) or a number."""

    name = "threads"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value is None or isinstance(value, int):
            return value
        text = str(value).strip().lower()
        if text in ("auto", "fastest"):
            return text
        try:
            return int(text)
        except ValueError:
            self.fail(f"must be auto, fastest or a number of threads (got {value!r})", param, ctx)

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "auto|fastest|N"

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        return [CompletionItem(w) for w in ("auto", "fastest") if w.startswith(incomplete)]


THREADS = Threads()
