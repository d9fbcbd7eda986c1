"""`seqkit gradients`: see gradients vanish or explode, cell beside cell, on one task."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import click
import torch

from seqkit import _rundir as rundir
from seqkit._cli.config_options import config_from_options, config_options_but_cell
from seqkit._cli.params import parse_cells
from seqkit._diagnostics.plots import plot_gradient_flow
from seqkit._diagnostics.probe import probe_batch, probe_model
from seqkit._plan import plan
from seqkit._runner import assemble_model, execute, make_data


@click.command("gradients")
@click.option("--cells", required=True, help="Comma-separated cells, e.g. rnn,lstm,gru.")
@config_options_but_cell
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
    names = parse_cells(cells)
    configs = [config_from_options({**kw, "cell": name}) for name in names]
    plans = [plan(c) for c in configs]  # everything is checked before anything runs
    for p in plans:
        if not p.config.probe_every:
            p.config.probe_every = p.config.epochs or 1  # init and end
    task_name = configs[0].task
    out = out or Path("runs") / f"gradients-{task_name}-{datetime.now():%Y%m%d-%H%M%S}"
    rundir.check_out_dir(out, overwrite)

    results: dict[str, Any] = {}
    for name, p in zip(names, plans, strict=True):
        if not as_json:
            click.echo(f"{name}: {'probing' if init_only else 'training'} ...", err=True)
        if init_only:
            data = make_data(p.task, p.config.seed, p.device)
            model = assemble_model(p, data.train_x, data.train_y)
            x, y = probe_batch(p.task, p.config.probe_batch, p.device)
            dtype = torch.float64 if p.config.probe_dtype == "float64" else None
            records = [{"epoch": 0, **probe_model(model, p.task, x, y, dtype)}]
            results[name] = {"records": records}
        else:
            result = execute(p, out / name, [])
            assert result.diagnostics is not None
            s = result.summary()
            results[name] = {
                "records": result.diagnostics["records"],
                "val_loss": s["val_loss"],
                "chance_loss": s["chance_loss"],
                "solved": s["solved"],
                "run_dir": str(out / name),
            }

    seq_len = plans[0].task.io.input_len
    lines = []
    for i, (name, r) in enumerate(results.items()):
        first, last = r["records"][0], r["records"][-1]
        lines.append((f"{name} init", first["log10_grad"][first["headline"]], "--", i))
        if not init_only:
            lines.append(
                (f"{name} epoch {last['epoch']}", last["log10_grad"][last["headline"]], "-", i)
            )
    plot_path = out / "gradient_flow.png"
    out.mkdir(parents=True, exist_ok=True)
    plot_gradient_flow(plot_path, lines, f"{task_name}, T={seq_len}: gradient flow")
    report = {
        "task": task_name,
        "seq_len": seq_len,
        "plot": str(plot_path),
        "cells": {name: _brief(r) for name, r in results.items()},
    }
    rundir.write_json(out / "gradients.json", {**report, "full": results})
    if as_json:
        click.echo(json.dumps(report))
    else:
        print_table(report, init_only)


def _brief(r: dict[str, Any]) -> dict[str, Any]:
    def one(rec: dict[str, Any]) -> dict[str, Any]:
        return {
            "epoch": rec["epoch"],
            "log10_grad": rec["log10_grad"][rec["headline"]],
            "log10_vanishing_factor": rec["log10_vanishing_factor"],
            "steps_to_1e6_drop": rec["steps_to_1e6_drop"],
        }

    brief = {"init": one(r["records"][0])}
    if len(r["records"]) > 1:
        brief["end"] = one(r["records"][-1])
    for key in ("val_loss", "chance_loss", "solved", "run_dir"):
        if key in r:
            brief[key] = r[key]
    return brief


def print_table(report: dict[str, Any], init_only: bool) -> None:
    click.secho(
        f"\n{report['task']}, T={report['seq_len']}: log10 of batch-mean ||dL/dh_t||", bold=True
    )
    head = f"{'cell':<8}{'when':<10}{'at T':>8}{'at 1':>10}{'1 / T':>10}  {'1e-6 drop':<12}"
    click.echo(head + ("" if init_only else "val loss (chance)   solved"))
    for name, c in report["cells"].items():
        for when in ("init", "end"):
            if when not in c:
                continue
            g = c[when]
            drop = g["steps_to_1e6_drop"]
            row = (
                f"{name:<8}{when:<10}{g['log10_grad'][-1]:>8.2f}{g['log10_grad'][0]:>10.2f}"
                f"{g['log10_vanishing_factor']:>10.2f}  "
                f"{(str(drop) + ' steps') if drop is not None else 'none':<12}"
            )
            if when == "end":
                row += f"{c['val_loss']:.4g} ({c['chance_loss']:.4g})".ljust(20) + (
                    "yes" if c["solved"] else "no" if c["solved"] is not None else "-"
                )
            click.echo(row)
    click.echo(f"plot: {report['plot']}")
