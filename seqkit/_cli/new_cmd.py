"""`seqkit new plugin NAME`: write a plugin package to start from."""

from __future__ import annotations

from pathlib import Path

import click

from seqkit._cli.scaffold import new_plugin


@click.group("new")
def new_cmd() -> None:
    """Start something new from a template."""


@new_cmd.command("plugin")
@click.argument("name")
@click.option(
    "--dir",
    "where",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("."),
    show_default=True,
    help="Where to write seqkit-NAME/.",
)
def plugin_cmd(name: str, where: Path) -> None:
    """Write seqkit-NAME/: a package with a cell NAME and a task NAME-mean, registered
    through the `seqkit` entry point, with tests that use seqkit.testing."""
    root = new_plugin(name, where)
    click.echo(f"wrote {root}/")
    click.echo(f"next: pip install -e {root}[test] && seqkit check {name} {name}-mean")
