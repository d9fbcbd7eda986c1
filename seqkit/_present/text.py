"""What the commands print, as lines: pure functions of plain data (a run's summary, a
comparison's report),
so that the CLI only echoes them and a test reads them without a terminal."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import Any, NamedTuple

from seqkit._core.fmt import CHANCE_RULE, interval, percent


class Line(NamedTuple):
    text: str
    bold: bool = False


def tuning_line(tuning: Mapping[str, Any]) -> str:
    """How a run's threads and tuned cell options were chosen, in one line."""
    options = tuning.get("options") or {}
    chosen = ", ".join([f"threads={tuning['threads']}", *(f"{k}={v}" for k, v in options.items())])
    if tuning["how"] == "measured":
        cost, expected = tuning.get("cost_s") or 0.0, tuning.get("expected_s")
        share = f", {cost / expected:.1%} of the run" if expected else ""
        timed = len(tuning.get("times_ms") or {}) - 1
        return f"{chosen} (the fastest of {timed} timed here; trials {cost:.2f} s{share})"
    if tuning["how"] == "cached":
        return f"{chosen} (measured earlier on this machine)"
    return f"{chosen} ({tuning.get('reason', '')})"


def run_summary(s: Mapping[str, Any], title: tuple[str, str, str]) -> list[Line]:
    """`seqkit run`'s closing summary of `s` (RunResult.summary()); `title` is the cell,
    topology and task."""
    cell, topology, task = title
    lines = [
        Line(
            f"\n{cell} / {topology} on {task}: {s['epochs_run']} "
            f"epoch{'' if s['epochs_run'] == 1 else 's'}, "
            f"{s['parameters']:,} parameters, {s['train_time_s']:.2f} s on {s['device']}",
            bold=True,
        )
    ]
    chance = s["chance_loss"]
    for key in ("train_loss", "val_loss"):
        value = s[key]
        ratio = f"  ({percent(value / chance)}% of chance)" if value is not None and chance else ""
        lines.append(Line(f"  {key.replace('_', ' '):<13} {value:.4g}{ratio}"))
    lines.append(Line(f"  {'chance':<13} {chance:.4g}  ({s.get('chance_rule') or CHANCE_RULE})"))
    if s.get("baselines"):
        shown = ", ".join(f"{name} {value:.4g}" for name, value in s["baselines"].items())
        lines.append(Line(f"  {'baselines':<13} {shown}  (on the training split)"))
    lines += [Line(f"  {k.replace('_', ' '):<13} {v:.4g}") for k, v in s["metrics"].items()]
    if s.get("test_loss") is not None:  # a stream of its own, scored once after training
        ratio = f"({percent(s['test_loss'] / chance)}% of chance; " if chance else "("
        lines.append(Line(f"  {'test loss':<13} {s['test_loss']:.4g}  {ratio}held-out set)"))
        tests = s.get("test_metrics", {}).items()
        lines += [Line(f"  {k.replace('_', ' '):<13} {v:.4g}") for k, v in tests]
    if s["solved"] is not None:
        answer = "yes" if s["solved"] else "no"
        lines.append(Line(f"  {'solved':<13} {answer}  ({s['solved_rule']})"))
    lines += gradient_lines(s["gradients"])
    tuning = s.get("tuning")
    # shown when something was timed, or was asked to be and why it was not
    if tuning and (tuning["how"] != "not measured" or tuning.get("reason") not in ("", "as set")):
        lines.append(Line(f"  {'ran with':<13} {tuning_line(tuning)}"))
    if s["stopped"]:
        lines.append(Line(f"  stopped: {s['stopped']}"))
    lines += [Line(f"  note: {failure}") for failure in s.get("failures") or ()]
    lines.append(Line("examples", bold=True))
    lines += [Line(f"  {ex['text']}") for ex in s["examples"]]
    return lines


def gradient_lines(gradients: Mapping[str, Any] | None) -> list[Line]:
    """The vanishing factor at init and at the end, when the run probed gradients."""
    if not gradients:
        return []
    lines = []
    for when in ("init", "end"):
        g = gradients[when]
        drop = g["steps_to_1e6_drop"]
        lines.append(
            Line(
                f"  gradients at {when} (epoch {g['epoch']}): ||dL/dh_1|| / ||dL/dh_T|| = "
                f"1e{g['log10_vanishing_factor']:+.1f}; below 1e-6 of its value at T "
                + (f"{drop} steps back" if drop is not None else "nowhere")
            )
        )
    return lines


def _pairs_text(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items())


def comparison_report(report: Mapping[str, Any]) -> list[Line]:
    """`seqkit compare`'s table of `report` (Comparison.as_dict()): a row per cell and
    setting with intervals over seeds, the other settings scored, the selection, and
    which differences are resolved."""
    rows, select = report["rows"], report["select"]
    lines = [
        Line(
            f"\n{report['task']}: {report['seeds']} seed(s) per row"
            + (f"; solved means {report['solved_rule']}" if report["solved_rule"] else ""),
            bold=True,
        )
    ]
    lines.append(Line(f"numbers: {report['reported_on']}; [low, high]: {report['interval']}"))
    if report["match"]:
        m = report["match"]
        goal = f"cell {m['reference']}'s" if m["reference"] else f"{m['params']:,}"
        lines.append(
            Line(f"parameters matched to {goal} within {m['tolerance']:.0%} (hidden size varies)")
        )
    wrap = textwrap.TextWrapper(width=100, subsequent_indent="    ")
    lines.append(Line(wrap.fill("every row: " + _pairs_text(report["shared"]))))
    for cell, own in report["per_cell"].items():
        if own:
            lines.append(Line(wrap.fill(f"{cell} rows: " + _pairs_text(own))))
    on_test = bool(select or report.get("tuning"))  # settings chosen on validation
    loss = "test" if on_test else "val"
    metric = rows[0]["test_metric" if on_test else "metric"]
    labels = [_label(r) for r in rows]
    cell_w = max([8, *(len(r["cell"]) + 2 for r in rows)])
    wide = max([24, *(len(lb) + 2 for lb in labels)])
    head = (
        f"{'cell':<{cell_w}}{'setting':<{wide}}{'params':>9} {'hidden':>6}  "
        f"{loss + ' loss (chance)':<34}{metric:<30}{'solved [95%]':<18}{'steps to solve':<16}wall s"
    )
    lines.append(Line(head))
    for r, label in zip(rows, labels, strict=True):
        solved = "-"
        if r["solved"] is not None:
            low, high = r["solved_ci95"]
            solved = f"{r['solved']}/{r['seeds']} [{low:.2f}, {high:.2f}]"
        steps = f"{r['median_steps_to_solve']:.0f}" if r["median_steps_to_solve"] else "-"
        value = interval(r[f"{loss}_loss_mean"], r[f"{loss}_loss_ci95"])
        losses = f"{value} ({r['chance_loss']:.3g})"
        key = "test_metric" if on_test else "metric"
        metrics = interval(r[f"{key}_mean"], r[f"{key}_ci95"])
        lines.append(
            Line(
                f"{r['cell']:<{cell_w}}{label:<{wide}}{r['parameters']:>9,} {r['hidden_size']:>6}  "
                f"{losses:<34}{metrics:<30}{solved:<18}{steps:<16}{r['wall_s_mean']:.1f}"
            )
        )
    if rows[0].get("evaluations"):
        lines += evaluation_lines(rows, labels, cell_w, wide)
    if select:
        lines.append(Line(f"{select} chosen on validation loss, per cell and seed:"))
        for r, label in zip(rows, labels, strict=True):
            picks = ", ".join(
                f"{v} ({n} seed{'s' if n > 1 else ''})" for v, n in r["selected"].items()
            )
            lines.append(Line(f"  {r['cell']} {label}: {picks}"))
    return lines + difference_lines(report["differences"])


def evaluation_lines(
    rows: list[dict[str, Any]], labels: list[str], cell_w: int, wide: int
) -> list[Line]:
    """The trained models at the other task settings: test metric [95%] and solved k/n."""
    where = list(rows[0]["evaluations"])
    metric = rows[0]["evaluations"][where[0]]["metric"]
    lines: list[Line] = []
    lines.append(Line(f"scored on fresh test data at other settings ({metric} [95%], solved k/n):"))
    lines.append(
        Line(f"{'cell':<{cell_w}}{'trained at':<{wide}}" + "".join(f"{w:<36}" for w in where))
    )
    for r, label in zip(rows, labels, strict=True):
        cells = []
        for w in where:
            e = r["evaluations"][w]
            solved = f" {e['solved']}/{r['seeds']}" if e["solved"] is not None else ""
            cells.append(f"{interval(e['metric_mean'], e['metric_ci95']) + solved:<36}")
        lines.append(Line(f"{r['cell']:<{cell_w}}{label:<{wide}}" + "".join(cells)))
    return lines


def _label(row: dict[str, Any]) -> str:
    """The row's setting, with whatever else its task resolved differently (`epochs`)."""
    extra = {k: v for k, v in row["varies"].items() if k != "hidden_size"}
    known = row["setting"].split(",")
    more = [f"{k}={v}" for k, v in extra.items() if f"{k}={v}" not in known]
    return ",".join([row["setting"], *more]) if more else row["setting"]


def difference_lines(found: list[dict[str, Any]]) -> list[Line]:
    """Which differences between cells the 95% intervals resolve."""
    if not found:
        return []
    on = found[0]["on"].replace("_", " ")
    lines: list[Line] = []
    lines.append(Line(f"differences in {on} (resolved: the 95% intervals do not overlap):"))
    for d in found:
        a, b = d["cells"]
        where = f"  {d['setting']}: "
        if d["resolved"]:
            other = b if d["lower"] == a else a
            lines.append(Line(f"{where}{d['lower']} < {other}, resolved"))
        else:
            lines.append(
                Line(f"{where}{a} vs {b}: intervals overlap, not resolved at {d['seeds']} seed(s)")
            )
    return lines
