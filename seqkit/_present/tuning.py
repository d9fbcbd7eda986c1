"""A tuning study as a person reads it: one line per trial, and the page of its report
(the optimisation history, each dimension's importance, and a slice per dimension)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, BinaryIO

from seqkit._present.plots import _colors, _figure
from seqkit._present.report import drawn, esc, fragment, image, number, table


def short(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def trial_line(record: Mapping[str, Any], total: int) -> str:
    """`trial 12/40: lr=0.0031 hidden_size=96 -> val 0.0012 (pruned at epoch 4)`."""
    params = " ".join(f"{k}={short(v)}" for k, v in record["params"].items())
    head = f"trial {record['number'] + 1}/{total}: {params}"
    if record["state"] == "complete":
        return f"{head} -> val {record['value']:.4g}"
    if record["state"] == "pruned":
        reached = record["intermediate"].get(record["pruned_at"])
        at = f" {reached:.4g}" if reached is not None else ""
        return f"{head} -> val{at} (pruned at epoch {record['pruned_at']})"
    return f"{head} -> failed ({record.get('failed') or record['state']})"


def summary_lines(s: Mapping[str, Any]) -> list[str]:
    """What `seqkit tune` prints when the study ends."""
    counts: dict[str, int] = {}
    for t in s["trials"]:
        counts[t["state"]] = counts.get(t["state"], 0) + 1
    lines = [
        f"study {s['study']} ({s['storage']}): "
        + ", ".join(f"{n} {state}" for state, n in sorted(counts.items())),
        f"space: {' '.join(s['space'])}; {s['seeds']} seed(s) per trial, {s['sampler']} "
        f"sampler, {s['pruner']} pruner; objective: mean validation loss over the seeds",
    ]
    if s["epochs_budget"]:
        share = s["epochs_trained"] / s["epochs_budget"]
        saved = f" ({share:.0%}: pruning saved the rest)" if share < 1 else ""
        lines.append(f"epochs trained: {s['epochs_trained']:,} of {s['epochs_budget']:,}{saved}")
    best = s["best"]
    if best is None:
        lines.append("no trial finished")
        return lines
    params = " ".join(f"{k}={short(v)}" for k, v in best["params"].items())
    lines.append(f"best: trial {best['number'] + 1}: {params} -> val {best['value']:.4g}")
    if s.get("best_file"):
        lines.append(f"rerun it: seqkit run --config {s['best_file']}")
    return lines


def plot_history(target: BinaryIO, trials: list[Mapping[str, Any]]) -> None:
    """Each finished trial's value by trial number, and the best so far."""
    fig = _figure(figsize=(7, 3.6))
    ax = fig.add_subplot()
    done = [t for t in trials if t["state"] == "complete" and _finite(t["value"])]
    xs = [t["number"] + 1 for t in done]
    ys = [t["value"] for t in done]
    ax.scatter(xs, ys, s=18, color=_colors()[0], label="trial")
    best, line = math.inf, []
    for y in ys:
        best = min(best, y)
        line.append(best)
    ax.step(xs, line, where="post", color=_colors()[1], label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel("mean validation loss")
    if ys and min(ys) > 0:
        ax.set_yscale("log")
    ax.legend(frameon=False)
    ax.set_title("optimisation history")
    fig.tight_layout()
    fig.savefig(target, format="png", dpi=100)


def plot_slice(target: BinaryIO, trials: list[Mapping[str, Any]], name: str, log: bool) -> None:
    """The value of each finished trial against one dimension."""
    fig = _figure(figsize=(4.2, 3.2))
    ax = fig.add_subplot()
    done = [t for t in trials if t["state"] == "complete" and _finite(t["value"])]
    xs = [t["params"].get(name) for t in done]
    ys = [t["value"] for t in done]
    if all(isinstance(x, int | float) and not isinstance(x, bool) for x in xs):
        ax.scatter(xs, ys, s=18, c=[t["number"] for t in done], cmap="viridis")
        if log:
            ax.set_xscale("log")
    else:
        labels = sorted({str(x) for x in xs})
        ax.scatter([labels.index(str(x)) for x in xs], ys, s=18, color=_colors()[0])
        ax.set_xticks(range(len(labels)), labels)
    if ys and min(ys) > 0:
        ax.set_yscale("log")
    ax.set_xlabel(name)
    ax.set_ylabel("mean validation loss")
    fig.tight_layout()
    fig.savefig(target, format="png", dpi=100)


def slice_drawer(
    trials: list[Mapping[str, Any]], name: str, log: bool
) -> Callable[[BinaryIO], None]:
    return lambda f: plot_slice(f, trials, name, log)


def _finite(v: Any) -> bool:
    return isinstance(v, int | float) and math.isfinite(v)


def tune_fragment(s: Mapping[str, Any]) -> str:
    """The study's page: the lines it printed, the best trial, its plots, every trial."""
    parts = [f"<p>{esc(line)}</p>" for line in summary_lines(s)]
    trials = s["trials"]
    if any(t["state"] == "complete" for t in trials):
        parts.append(image(drawn(lambda f: plot_history(f, trials)), "optimisation history"))
        if s.get("importances"):
            ranked = [(k, number(v, 3)) for k, v in s["importances"].items()]
            parts.append("<h3>Importance of each dimension (fANOVA)</h3>")
            parts.append(table(["dimension", "importance"], ranked))
        parts.append("<h3>Each dimension</h3>")
        for text in s["space"]:
            name = text.split("=", 1)[0]
            log = text.endswith(":log") or ":log:" in text
            parts.append(image(drawn(slice_drawer(trials, name, log)), name))
    rows = [
        (
            t["number"] + 1,
            t["state"] + (f" at epoch {t['pruned_at']}" if t["state"] == "pruned" else ""),
            " ".join(f"{k}={short(v)}" for k, v in t["params"].items()),
            number(t["value"]) if t["value"] is not None else "-",
            t["epochs_run"] if t["epochs_run"] is not None else "-",
        )
        for t in trials
    ]
    parts += [
        "<h3>Every trial</h3>",
        table(["trial", "state", "settings", "val loss", "epochs"], rows),
    ]
    return fragment(f"seqkit tune {s['study']}", parts)
