"""`seqkit report`: rebuild the HTML report of a run or a comparison directory."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("report")
@click.argument("directory", type=click.Path(path_type=Path))
def report_cmd(directory: Path) -> None:
    """Draw the plots of the run (or comparison) in DIRECTORY again and write its
    report.html: one self-contained page, plots embedded, nothing fetched."""
    from seqkit._present.report import rebuild

    click.echo(f"report: {rebuild(directory)}")
