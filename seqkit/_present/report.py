"""HTML reports: one renderer, two faces.

The same fragments make `report.html` (one self-contained page: plots embedded as data
URIs, no script, nothing fetched) and what Jupyter shows for a run's result, an
explanation, a gradient report and a comparison (their `_repr_html_`). A run directory's
report is rebuilt from its files alone (`seqkit report RUN_DIR`), so it can be drawn
after the summary is printed, and again later.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from seqkit._core.errors import ConfigError, WriteFailed
from seqkit._core.files import (
    FLOW_PLOT,
    NORM_PLOT,
    PLOT,
    REPORT,
    RESULTS,
    SUMMARY,
    write_bytes,
    write_text,
)
from seqkit._core.fmt import CHANCE_RULE, percent, shape, stage_io
from seqkit._core.records import read_results, read_run_files
from seqkit._core.schedules import learning_rates
from seqkit._present import plots

STYLE = """
.seqkit-report { font-family: system-ui, -apple-system, "Segoe UI", sans-serif;
  color: #222; max-width: 60rem; line-height: 1.4; }
.seqkit-report h2 { font-size: 1.3rem; margin: 0.6rem 0; }
.seqkit-report h3 { font-size: 1.05rem; margin: 1.2rem 0 0.4rem; }
.seqkit-report table { border-collapse: collapse; margin: 0.3rem 0; font-size: 0.9rem; }
.seqkit-report th, .seqkit-report td { border: 1px solid #ddd; padding: 0.2rem 0.6rem;
  text-align: left; vertical-align: top; }
.seqkit-report th { background: #f4f4f4; }
.seqkit-report td.num { text-align: right; font-variant-numeric: tabular-nums; }
.seqkit-report code, .seqkit-report pre { font-family: ui-monospace, Menlo, monospace;
  font-size: 0.85rem; }
.seqkit-report pre { background: #f7f7f7; padding: 0.5rem; overflow-x: auto; }
.seqkit-report img { max-width: 100%; height: auto; }
.seqkit-report .ok { color: #1a7f37; } .seqkit-report .bad { color: #b42318; }
.seqkit-report .note { color: #555; font-size: 0.85rem; }
"""


# Building blocks ----------------------------------------------------------------------


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def number(value: Any, digits: int = 4) -> str:
    """A float to `digits` significant digits; other values as they are; None as '-'."""
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, float | int):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.{digits}g}" if math.isfinite(value) else str(value)


def table(header: Sequence[str] | None, rows: Iterable[Sequence[Any]], cls: str = "") -> str:
    """An HTML table; cells are escaped text, numbers right-aligned."""
    out = [f'<table class="{esc(cls)}">' if cls else "<table>"]
    if header:
        out.append("<tr>" + "".join(f"<th>{esc(h)}</th>" for h in header) + "</tr>")
    for row in rows:
        cells = []
        for cell in row:
            kind = (
                ' class="num"'
                if isinstance(cell, int | float) and not isinstance(cell, bool)
                else ""
            )
            cells.append(f"<td{kind}>{esc(number(cell))}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def image(png: bytes, alt: str) -> str:
    """An <img> holding the PNG itself, as a data URI: the page needs no other file."""
    data = base64.b64encode(png).decode("ascii")
    return f'<p><img alt="{esc(alt)}" src="data:image/png;base64,{data}"></p>'


def drawn(draw: Callable[[BinaryIO], None]) -> bytes:
    """The PNG that `draw(file)` writes, in memory."""
    buffer = io.BytesIO()
    draw(buffer)
    return buffer.getvalue()


def fragment(title: str, parts: Iterable[str]) -> str:
    """A report's body: what `_repr_html_` returns and `page` wraps."""
    return (
        f"<style>{STYLE}</style>\n"
        f'<div class="seqkit-report">\n<h2>{esc(title)}</h2>\n' + "\n".join(parts) + "\n</div>"
    )


def page(title: str, body: str) -> str:
    """A complete HTML document around `body`; it loads nothing from anywhere."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def flatten(settings: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Nested settings as (`task_options.seq_len`, 20) pairs, in their order."""
    pairs: list[tuple[str, Any]] = []
    for key, value in settings.items():
        if isinstance(value, dict):
            pairs += flatten(value, f"{prefix}{key}.") or [(f"{prefix}{key}", "{}")]
        else:
            pairs.append(
                (f"{prefix}{key}", json.dumps(value) if isinstance(value, list) else value)
            )
    return pairs


# A run --------------------------------------------------------------------------------


def run_title(summary: dict[str, Any]) -> str:
    return f"{summary['cell']} / {summary['topology']} on {summary['task']}"


def run_fragment(summary: dict[str, Any], images: dict[str, bytes]) -> str:
    """A run: its summary against chance, loss curves, gradients when recorded, example
    predictions, configuration and versions. `summary` is `RunResult.summary()` (or
    summary.json); `images` maps PLOT, FLOW_PLOT, NORM_PLOT to PNG bytes."""
    parts = [summary_table(summary)]
    if PLOT in images:
        parts += ["<h3>Loss</h3>", image(images[PLOT], "loss curves")]
    if summary.get("gradients"):
        parts += ["<h3>Gradients</h3>", gradient_table(summary["gradients"])]
        for name, alt in ((FLOW_PLOT, "gradient flow"), (NORM_PLOT, "gradient norm per step")):
            if name in images:
                parts.append(image(images[name], alt))
    parts += ["<h3>Example predictions</h3>", examples_table(summary["examples"])]
    parts += ["<h3>Configuration</h3>", table(["setting", "value"], flatten(summary["config"]))]
    parts += ["<h3>Versions</h3>", table(["package", "version"], summary["versions"].items())]
    if summary.get("run_dir"):
        parts.append(f'<p class="note">run directory: <code>{esc(summary["run_dir"])}</code></p>')
    return fragment(run_title(summary), parts)


def summary_table(s: dict[str, Any]) -> str:
    chance = s["chance_loss"]

    def against_chance(value: float | None) -> str:
        if value is None or not chance:
            return ""
        return f"{percent(value / chance)}% of chance"

    rows: list[tuple[Any, Any, str]] = [
        ("epochs", s["epochs_run"], ""),
        ("parameters", s["parameters"], ""),
        ("wall time", f"{s['train_time_s']:.2f} s", "training"),
        (
            "device",
            s["device"],
            f"{s['processes']} process(es)" if s.get("processes", 1) > 1 else "",
        ),
        ("train loss", s["train_loss"], against_chance(s["train_loss"])),
        ("val loss", s["val_loss"], against_chance(s["val_loss"])),
        ("chance", chance, s.get("chance_rule") or CHANCE_RULE),
    ]
    rows += [(k.replace("_", " "), v, "") for k, v in s["metrics"].items()]
    if s.get("test_loss") is not None:  # absent from the summaries of older runs
        rows.append(("test loss", s["test_loss"], against_chance(s["test_loss"]) + ", held out"))
        rows += [(k.replace("_", " "), v, "") for k, v in s.get("test_metrics", {}).items()]
    if s.get("solved") is not None:
        rows.append(("solved", "yes" if s["solved"] else "no", s.get("solved_rule") or ""))
    if s.get("stopped"):
        rows.append(("stopped", s["stopped"], ""))
    rows += [("note", failure, "") for failure in s.get("failures") or ()]
    return table(None, rows, "summary")


def gradient_table(g: dict[str, Any]) -> str:
    rows = []
    for when in ("init", "end"):
        r = g[when]
        drop = r["steps_to_1e6_drop"]
        rows.append(
            (
                f"{'at init' if when == 'init' else 'after training'} (epoch {r['epoch']})",
                f"1e{r['log10_vanishing_factor']:+.1f}",
                f"{drop} steps back" if drop is not None else "nowhere",
            )
        )
    header = ["when", "||dL/dh_1|| / ||dL/dh_T||", "below 1e-6 of its value at T"]
    return table(header, rows)


def examples_table(examples: list[dict[str, Any]]) -> str:
    def short(value: Any) -> str:
        text = json.dumps(value) if isinstance(value, list) else number(value)
        return text if len(text) <= 80 else text[:77] + "..."

    rows = [
        (
            short(e["input"]),
            short(e["output"]),
            short(e["answer"]),
            "-" if e["correct"] is None else ("yes" if e["correct"] else "no"),
        )
        for e in examples
    ]
    return table(["input", "output", "answer", "correct"], rows, "examples")


def run_plots(
    summary: dict[str, Any],
    epochs: list[dict[str, float]],
    diagnostics: dict[str, Any] | None,
    save: Callable[[str, bytes], object] | None = None,
) -> dict[str, bytes]:
    """The run's plots drawn as PNG bytes (matplotlib is imported here, not before);
    `save(name, png)` also keeps each one (the run directory's files)."""

    config = summary["config"]
    title = f"{summary['cell']} on {summary['task']}"
    images: dict[str, bytes] = {}
    if epochs:
        lrs = learning_rates(config["lr_schedule"], config["lr"], config["epochs"], epochs)
        references = summary.get("reference_losses") or {}
        images[PLOT] = drawn(
            lambda f: plots.plot_losses(f, epochs, summary["chance_loss"], title, references, lrs)
        )
    if diagnostics is not None:
        images[FLOW_PLOT] = drawn(lambda f: plots.plot_probe_records(f, diagnostics, title))
        if diagnostics["grad_norm"]:
            images[NORM_PLOT] = drawn(
                lambda f: plots.plot_grad_norms(
                    f, diagnostics["grad_norm"], diagnostics["grad_clip"], title
                )
            )
    if save is not None:
        for name, png in images.items():
            save(name, png)
    return images


def write_run_report(run_dir: Path) -> Path:
    """Draw a finished run's plots from its files into `run_dir` and write report.html
    beside them; what `seqkit report RUN_DIR` does."""
    summary, epochs, diagnostics = read_run_files(run_dir)
    try:
        images = run_plots(
            summary, epochs, diagnostics, lambda n, png: write_bytes(run_dir / n, png)
        )
        path = run_dir / REPORT
        write_text(path, page(run_title(summary), run_fragment(summary, images)))
    except WriteFailed as exc:
        raise WriteFailed(
            f"{exc}; the run's results are kept: once there is space, `seqkit report "
            f"{run_dir}` draws its report again"
        ) from None
    return path


# seqkit.explain -----------------------------------------------------------------------


def explanation_fragment(report: dict[str, Any]) -> str:
    """`seqkit.explain`'s stages with their shapes, the parameters, the equations."""
    r = report
    leaves = [s for s in r["stages"] if s["leaf"]]
    flow = [f"X {shape(r['input'])}", *(f"{s['module']} {stage_io(s)}" for s in leaves)]
    flow += [f"output {shape(r['output'])}", f"{r['loss']['name']} vs Y {shape(r['target'])}"]
    stages = [
        ("\u00a0\u00a0" * s["depth"] + s["path"], s["module"], *stage_io(s).split(" -> ", 1))
        for s in r["stages"]
    ]
    stages.append(
        (
            "loss",
            r["loss"]["name"],
            f"output {shape(r['output'])}, Y {shape(r['target'])} {r['target_dtype']}",
            f"() = {r['loss']['value']:.4g}",
        )
    )
    params = [(p["name"], shape(p["shape"]), p["count"]) for p in r["parameters"]]
    params.append(("total", "", r["total_parameters"]))
    parts = [
        f"<p>one batch of {esc(r['batch_size'])}: <code>{esc(' -> '.join(flow))}</code></p>",
        "<h3>Stages</h3>",
        table(["module call", "module", "in", "out"], stages, "stages"),
        "<h3>Parameters</h3>",
        table(["parameter", "shape", "count"], params, "parameters"),
    ]
    for path, equations in r["equations"].items():
        parts += [f"<h3>Equations of {esc(path)} (one time step)</h3>"]
        parts.append("<pre>" + esc("\n".join(equations)) + "</pre>")
    return fragment(f"{r['cell']} / {r['topology']} on {r['task']}", parts)


# seqkit.gradients ---------------------------------------------------------------------


def gradients_fragment(brief: dict[str, Any], flow_png: bytes | None) -> str:
    """`seqkit.gradients`: per cell the vanishing factor at init and after training, and
    the gradient-flow plot. `brief` is `GradientReport.as_dict()`."""
    rows = []
    for name, c in brief["cells"].items():
        row: list[Any] = [name]
        for when in ("init", "end"):
            r = c.get(when)
            drop = r["steps_to_1e6_drop"] if r else None
            row += (
                [f"1e{r['log10_vanishing_factor']:+.1f}", "nowhere" if drop is None else drop]
                if r
                else ["-", "-"]
            )
        loss = c.get("val_loss")
        row.append(
            f"{number(loss)} ({percent(loss / c['chance_loss'])}% of chance)"
            if loss is not None and c.get("chance_loss")
            else "-"
        )
        rows.append(row)
    header = [
        "cell",
        "at init: ||dL/dh_1|| / ||dL/dh_T||",
        "steps back to 1e-6",
        "after training",
        "steps back to 1e-6",
        "val loss",
    ]
    parts = [table(header, rows, "gradients")]
    if flow_png is not None:
        parts.append(image(flow_png, "gradient flow"))
    title = f"{brief['task']}, T={brief['seq_len']}: gradient flow"
    return fragment(title, parts)


# seqkit compare -----------------------------------------------------------------------


def comparison_fragment(results: dict[str, Any], curves: Sequence[bytes]) -> str:
    """A comparison (results.json's content): one row per cell and setting, and the
    validation-loss curves of every run per setting."""
    rows = []
    on = "test" if results["rows"] and "test_loss_mean" in results["rows"][0] else "val"
    for r in results["rows"]:
        interval = r.get(f"{on}_loss_ci95")
        loss = f"{number(r[f'{on}_loss_mean'])} ± {number(r[f'{on}_loss_std'], 2)}"
        if interval:
            loss += f" [{number(interval[0], 3)}, {number(interval[1], 3)}]"
        solved = f"{r['solved']}/{r['seeds']}" if r.get("solved") is not None else "-"
        steps = r.get("median_steps_to_solve")
        key = "test_metric" if on == "test" else "metric"
        rows.append(
            (
                r["cell"],
                r["setting"],
                r["seeds"],
                loss,
                r["chance_loss"],
                f"{number(r[key + '_mean'])} ± {number(r[key + '_std'], 2)}",
                solved,
                "-" if steps is None else f"{steps:.0f}",
                f"{r['wall_s_mean']:.1f}",
            )
        )
    metric = results["rows"][0]["metric"] if results["rows"] else "metric"
    if on == "test":
        metric = results["rows"][0]["test_metric"]
    header = ["cell", "setting", "seeds", f"{on} loss", "chance", metric, "solved"]
    header += ["steps to solve", "wall s"]
    parts = [f'<p class="note">numbers: {esc(results.get("reported_on", ""))}</p>']
    parts.append(table(header, rows, "comparison"))
    if results.get("solved_rule"):
        parts.append(f'<p class="note">solved means {esc(results["solved_rule"])}</p>')
    if curves:
        parts.append("<h3>Validation loss of every run</h3>")
        parts += [image(png, "validation loss curves") for png in curves]
    return fragment(f"compare on {results['task']}", parts)


def write_compare_report(out_dir: Path) -> Path:
    """report.html of a comparison directory, from results.json and its loss-N.png."""
    results = read_results(out_dir)
    pngs = [read_plot(out_dir / Path(p).name) for p in results["plots"]]
    path = out_dir / REPORT
    body = comparison_fragment(results, pngs)
    write_text(path, page(f"seqkit compare on {results['task']}", body))
    return path


def read_plot(path: Path) -> bytes:
    """A comparison's plot, which results.json names."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"{path.parent / RESULTS} names the plot {path.name}, which cannot be read "
            f"({exc.strerror or exc})"
        ) from None


def leaderboard_fragment(board: dict[str, Any], links: dict[str, str]) -> str:
    """A suite's leaderboard (leaderboard.json's content): a row per entry and cell, then
    per entry what is resolved, with a link to the entry's own report where given."""
    rows = []
    for r in board["rows"]:
        metric = f"{number(r['metric_mean'])}"
        if r.get("metric_ci95"):
            metric += f" [{number(r['metric_ci95'][0], 3)}, {number(r['metric_ci95'][1], 3)}]"
        solved = f"{r['solved']}/{r['seeds']}" if r.get("solved") is not None else "-"
        steps = r.get("median_steps_to_solve")
        rows.append(
            (
                r["entry"],
                r["cell"],
                r["parameters"],
                r["hidden_size"],
                f"{r['metric']} {metric}",
                r["test_loss_mean"],
                solved,
                "-" if steps is None else f"{steps:.0f}",
            )
        )
    header = ["entry", "cell", "params", "hidden", "metric [95%]", "test loss", "solved"]
    parts = [
        f'<p class="note">{esc(board.get("about", ""))}</p>',
        table([*header, "steps to solve"], rows, "leaderboard"),
        "<h3>What each entry shows</h3>",
        "<ul>",
    ]
    for e in board["entries"]:
        link = links.get(e["entry"])
        name = (
            f'<a href="{esc(link)}/report.html">{esc(e["entry"])}</a>' if link else esc(e["entry"])
        )
        parts.append(f"<li><b>{name}</b> ({e['steps']:,} steps): {esc(e['verdict'])}</li>")
    parts.append("</ul>")
    title = f"suite {board['suite']}: {', '.join(board['cells'])}, {board['seeds']} seed(s)"
    return fragment(title, parts)


def write_leaderboard_report(out_dir: Path, board: dict[str, Any], links: dict[str, str]) -> Path:
    """leaderboard.html of a suite directory."""
    path = out_dir / "leaderboard.html"
    body = leaderboard_fragment(board, links)
    write_text(path, page(f"seqkit suite {board['suite']}", body))
    return path


def rebuild(directory: Path) -> Path:
    """report.html of a run directory or a comparison directory, whichever it is."""
    if not directory.exists():
        raise ConfigError(f"{directory}: no such directory")
    if not directory.is_dir():
        raise ConfigError(f"{directory}: not a directory (give a run or comparison directory)")
    if (directory / RESULTS).is_file():
        return write_compare_report(directory)
    if (directory / SUMMARY).is_file():
        return write_run_report(directory)
    raise ConfigError(
        f"{directory}: not a finished run or a comparison (it holds no summary.json "
        "or results.json)"
    )
