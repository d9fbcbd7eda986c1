"""`seqkit explain`: shapes and operations of a run's model, from batch to loss."""

from __future__ import annotations

import json
from typing import Any

import click

from seqkit._cli.config_options import RunSettingsCommand, config_from_options, config_options


@click.command("explain", cls=RunSettingsCommand)
@config_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Text for people, JSON for tools.",
)
def explain_cmd(fmt: str, **kw: Any) -> None:
    """Show each stage from the input batch to the loss with its tensor shapes, the
    parameters, and the cell's per-step equations, for the sizes of this run."""
    from seqkit._study.explain import explain, render

    report = explain(config_from_options(kw))
    click.echo(json.dumps(report, indent=2) if fmt == "json" else render(report))
