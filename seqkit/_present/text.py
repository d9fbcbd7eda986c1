"""What the commands print, as lines: pure functions of plain data (a run's summary),
so that the CLI only echoes them and a test reads them without a terminal."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from seqkit._core.fmt import percent


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
    lines.append(Line(f"  {'chance':<13} {chance:.4g}  (best input-blind prediction)"))
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
    if tuning and tuning["how"] != "not measured":
        lines.append(Line(f"  {'ran with':<13} {tuning_line(tuning)}"))
    if s["stopped"]:
        lines.append(Line(f"  stopped: {s['stopped']}"))
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
