"""`seqkit.gradients`: see gradients vanish or explode, cell beside cell, on one task.

For each cell it measures the batch-mean ||dL/dh_t|| at every step on the fixed probe
batch, at initialisation and (unless `init_only`) after training, and draws them in one
plot: dashed at init, solid after training.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from seqkit._core import files
from seqkit._core.config import RunConfig
from seqkit._core.errors import ConfigError
from seqkit._plugins.registry import Registry
from seqkit._present import report as pages
from seqkit._present.plots import plot_gradient_flow
from seqkit._run import rundir
from seqkit._run.plan import Plan, plan
from seqkit._run.runner import execute, make_data
from seqkit._train.probe import probe_batch, probe_model


@dataclass
class GradientReport:
    """What `gradients` measured: per cell, the headline curve at init (and after
    training), the vanishing factor and the 1e-6 drop; `records` holds every record."""

    task: str
    seq_len: int | None
    cells: dict[str, dict[str, Any]]
    records: dict[str, dict[str, Any]] = field(repr=False)
    out_dir: Path | None = None
    plot: Path | None = None

    def as_dict(self) -> dict[str, Any]:
        """The brief report, as `seqkit gradients --json` prints it."""
        return {
            "task": self.task,
            "seq_len": self.seq_len,
            "plot": str(self.plot) if self.plot else None,
            "cells": self.cells,
        }

    def _repr_html_(self) -> str:
        """Jupyter's view: the table per cell and the gradient-flow plot."""
        png = pages.drawn(lambda f: plot_gradient_flow(f, flow_lines(self), self.title))
        return pages.gradients_fragment(self.as_dict(), png)

    @property
    def title(self) -> str:
        return f"{self.task}, T={self.seq_len}: gradient flow"


def gradients(
    cells: Sequence[str],
    config: RunConfig | None = None,
    *,
    init_only: bool = False,
    out: str | Path | None = None,
    overwrite: bool = False,
    on_start: Callable[[str], None] | None = None,
    registry: Registry | None = None,
    **settings: Any,
) -> GradientReport:
    """Gradient flow of each of `cells` on one task: `seqkit.gradients(["rnn", "lstm"],
    task="adding", task_options={"seq_len": 200}, init_only=True)`.

    `config` (or the settings, RunConfig's fields) describes the runs; its cell is
    replaced by each of `cells`. With `out`, each cell's run directory, the plot and
    `gradients.json` are written there. Every cell's run is checked before any runs.
    """
    if not cells:
        raise ConfigError("gradients needs at least one cell")
    base = config or RunConfig.from_dict({"cell": cells[0], **settings})
    plans = [probe_plan(dataclasses.replace(base, cell=name), registry) for name in cells]
    out_dir = Path(out) if out is not None else None
    if out_dir is not None:
        rundir.check_out_dir(out_dir, overwrite)

    results: dict[str, dict[str, Any]] = {}
    for name, the_plan in zip(cells, plans, strict=True):
        if on_start is not None:
            on_start(name)
        if init_only:
            results[name] = {"records": [{"epoch": 0, **probe_at_init(the_plan)}]}
            continue
        run_dir = out_dir / name if out_dir is not None else None
        result = execute(the_plan, run_dir, [])  # its report.html included
        assert result.diagnostics is not None  # the plan has the probe on
        summary = result.summary()
        results[name] = {
            "records": result.diagnostics["records"],
            **{k: summary[k] for k in ("val_loss", "chance_loss", "solved")},
            **({"run_dir": str(run_dir)} if run_dir is not None else {}),
        }

    report = GradientReport(
        base.task,
        plans[0].task.io.input_len,
        {name: brief(r) for name, r in results.items()},
        results,
        out_dir,
    )
    if out_dir is not None:
        write_report(out_dir, report)
    return report


def probe_plan(config: RunConfig, registry: Registry | None) -> Plan:
    """The plan of `config` with the gradient probe on: as often as `probe_every` says,
    else at initialisation and at the end (every `epochs` epochs)."""
    if config.probe_every:
        return plan(config, registry)
    epochs = plan(dataclasses.replace(config, probe_every=1), registry).config.epochs
    return plan(dataclasses.replace(config, probe_every=epochs or 1), registry)


def probe_at_init(the_plan: Plan) -> dict[str, Any]:
    """One gradient record of the run's freshly initialised model, no training."""
    c = the_plan.config
    data = make_data(the_plan.task, c.seed, the_plan.device)
    model = the_plan.fresh_model(data.train_x, data.train_y)
    x, y = probe_batch(the_plan.task, c.probe_batch, the_plan.device)
    dtype = torch.float64 if c.probe_dtype == "float64" else None
    return probe_model(model, the_plan.task, x, y, dtype)


def brief(r: dict[str, Any]) -> dict[str, Any]:
    """A cell's headline figures at init and, after training, at the end."""

    def one(rec: dict[str, Any]) -> dict[str, Any]:
        return {
            "epoch": rec["epoch"],
            "log10_grad": rec["log10_grad"][rec["headline"]],
            "log10_vanishing_factor": rec["log10_vanishing_factor"],
            "steps_to_1e6_drop": rec["steps_to_1e6_drop"],
        }

    out = {"init": one(r["records"][0])}
    if len(r["records"]) > 1:
        out["end"] = one(r["records"][-1])
    for key in ("val_loss", "chance_loss", "solved", "run_dir"):
        if key in r:
            out[key] = r[key]
    return out


def flow_lines(report: GradientReport) -> list[tuple[str, list[float], str, int]]:
    """The plot's lines: per cell its curve at init (dashed) and, when it was trained,
    after training (solid), in one colour per cell."""
    lines = []
    for i, (name, r) in enumerate(report.records.items()):
        first, last = r["records"][0], r["records"][-1]
        lines.append((f"{name} at init", first["log10_grad"][first["headline"]], "--", i))
        if len(r["records"]) > 1:
            curve = last["log10_grad"][last["headline"]]
            lines.append((f"{name} after training (epoch {last['epoch']})", curve, "-", i))
    return lines


def write_report(out_dir: Path, report: GradientReport) -> None:
    """gradient_flow.png (every cell: dashed at init, solid after training),
    gradients.json (the brief report and every record) and report.html."""
    out_dir.mkdir(parents=True, exist_ok=True)
    report.plot = out_dir / files.FLOW_PLOT
    png = pages.drawn(lambda f: plot_gradient_flow(f, flow_lines(report), report.title))
    files.write_bytes(report.plot, png)
    files.write_json(out_dir / files.GRADIENTS, {**report.as_dict(), "full": report.records})
    page = pages.page(report.title, pages.gradients_fragment(report.as_dict(), png))
    files.write_text(out_dir / files.REPORT, page)
