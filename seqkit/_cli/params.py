"""Click parameter types that resolve plugin names lazily, at parse time."""

from __future__ import annotations

from typing import Any

import click

from seqkit._errors import ConfigError, SeqkitError
from seqkit._registry import get_registry


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


def parse_cells(value: str) -> list[str]:
    """`--cells rnn,lstm,gru` -> names, each checked against the registry."""
    names = [v.strip() for v in value.split(",") if v.strip()]
    if not names:
        raise ConfigError("--cells takes a comma-separated list, e.g. rnn,lstm,gru")
    registry = get_registry()
    for name in names:
        registry.get("cell", name)  # unknown names: did-you-mean, exit 2
    return names
