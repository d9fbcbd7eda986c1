"""`seqkit gradients`: see gradients vanish or explode, cell beside cell, on one task."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from seqkit._cli.config_options import (
    RunSettingsCommand,
    cells_and_config_options,
    config_from_options,
)
from seqkit._cli.params import parse_cells


@click.command("gradients", cls=RunSettingsCommand)
@cells_and_config_options
@click.option("--init-only", is_flag=True, help="Only measure at initialisation; no training.")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Directory [default: runs/gradients-<task>-<time>].",
)
@click.option("--overwrite", is_flag=True, help="Reuse an --out directory that holds files.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
def gradients_cmd(
    cells: str, init_only: bool, out: Path | None, overwrite: bool, as_json: bool, **kw: Any
) -> None:
    """Measure ||dL/dh_t|| at every step, at initialisation and after training, for each
    cell; draw them in one plot (dashed: init, solid: trained) and print the table."""
    from seqkit._study.gradients import gradients

    names = parse_cells(cells)
    config = config_from_options({**kw, "cell": names[0]})
    out = out or Path("runs") / f"gradients-{config.task}-{datetime.now():%Y%m%d-%H%M%S}"

    def started(name: str) -> None:
        if not as_json:
            click.echo(f"{name}: {'probing' if init_only else 'training'} ...", err=True)

    report = gradients(
        names, config, init_only=init_only, out=out, overwrite=overwrite, on_start=started
    )
    if as_json:
        click.echo(json.dumps(report.as_dict()))
    else:
        print_table(report.as_dict(), init_only)


def print_table(report: dict[str, Any], init_only: bool) -> None:
    click.secho(
        f"\n{report['task']}, T={report['seq_len']}: log10 of batch-mean ||dL/dh_t||", bold=True
    )
    width = max([8, *(len(name) + 2 for name in report["cells"])])  # the longest name
    head = f"{'cell':<{width}}{'when':<10}{'at T':>8}{'at 1':>10}{'1 / T':>10}  {'1e-6 drop':<12}"
    click.echo(head + ("" if init_only else "val loss (chance)   solved"))
    for name, c in report["cells"].items():
        for when in ("init", "end"):
            if when not in c:
                continue
            g = c[when]
            drop = g["steps_to_1e6_drop"]
            row = (
                f"{name:<{width}}{when:<10}{g['log10_grad'][-1]:>8.2f}{g['log10_grad'][0]:>10.2f}"
                f"{g['log10_vanishing_factor']:>10.2f}  "
                f"{(str(drop) + ' steps') if drop is not None else 'none':<12}"
            )
            if when == "end":
                row += f"{c['val_loss']:.4g} ({c['chance_loss']:.4g})".ljust(20) + (
                    "yes" if c["solved"] else "no" if c["solved"] is not None else "-"
                )
            click.echo(row)
    click.echo(f"plot: {report['plot']}; report: {Path(report['plot']).parent / 'report.html'}")
