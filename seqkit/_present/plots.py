"""PNG plots of a run and its gradient diagnostics (matplotlib, no display needed).

Each plot is written to a path or a binary file object (the HTML report draws into
memory). matplotlib makes still images: a zoomable plot would need a JavaScript library
in the page, which the self-contained report leaves out.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

Target = Path | BinaryIO
"""Where a plot goes: a file path, or an open binary file (`io.BytesIO`)."""


def _figure(**kwargs: Any) -> Any:
    """A matplotlib Figure of its own (the object API, imported when a plot is first drawn:
    about a second here, which the commands that draw nothing do not pay). No pyplot: the
    caller's backend, its figure list and a notebook's inline display stay as they were,
    and `savefig` renders through Agg."""
    from matplotlib.figure import Figure

    return Figure(**kwargs)


def _colors() -> list[str]:
    import matplotlib

    colors: list[str] = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    return colors


def plot_losses(
    target: Target,
    epochs: list[dict[str, float]],
    chance: float,
    title: str,
    references: dict[str, float] | None = None,
    lrs: list[float] | None = None,
) -> None:
    """Training (solid) and validation (dashed) loss per epoch on a log axis, the chance
    level and the task's reference levels drawn and named at the line, and the learning
    rate of each epoch's last step on a twin axis when `lrs` is given."""
    from matplotlib.ticker import MaxNLocator
    from matplotlib.transforms import blended_transform_factory

    colors = _colors()
    fig = _figure(figsize=(7, 4.2))
    ax = fig.subplots()
    xs = [r["epoch"] for r in epochs]
    marker = "o" if len(xs) <= 30 else None
    ax.plot(xs, [r["train_loss"] for r in epochs], color=colors[0], lw=1.8, label="train")
    ax.plot(
        xs,
        [r["val_loss"] for r in epochs],
        color=colors[1],
        lw=1.8,
        ls="--",
        marker=marker,
        ms=3,
        label="validation",
    )
    at_right = blended_transform_factory(ax.transAxes, ax.transData)
    levels = [("chance", chance, "--")] + [
        (name, level, ":" if i % 2 == 0 else "-.")
        for i, (name, level) in enumerate((references or {}).items())
        if abs(level - chance) > 1e-12
    ]
    for name, level, style in levels:
        ax.axhline(level, color="0.35", ls=style, lw=1)
        ax.text(
            0.99,
            level,
            f"{name} {level:.3g}",
            transform=at_right,
            ha="right",
            va="bottom",
            fontsize=8,
            color="0.25",
        )
    ax.set(xlabel="epoch", ylabel="loss (log scale)", yscale="log")
    # At the top, where matplotlib would put it (nothing is drawn above the axes): given,
    # so that drawing does not first measure both axes' tick labels to place it.
    ax.set_title(f"{title}: loss per epoch", y=1.0)
    ax.grid(alpha=0.3, which="both")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    handles, labels = ax.get_legend_handles_labels()
    if lrs:
        bx = ax.twinx()
        bx.plot(xs, lrs, color=colors[2], lw=1, alpha=0.8, label="learning rate (right axis)")
        bx.set_ylabel("learning rate", color=colors[2])
        bx.tick_params(axis="y", colors=colors[2])
        bx.set_ylim(bottom=0)
        more = bx.get_legend_handles_labels()
        handles, labels = handles + more[0], labels + more[1]
    ax.legend(handles, labels, fontsize=8, loc="upper right", bbox_to_anchor=(1.0, 0.9))
    # Fixed margins, not tight_layout(): measuring every label took as long as drawing.
    fig.subplots_adjust(left=0.11, right=0.87 if lrs else 0.97, top=0.92, bottom=0.12)
    fig.savefig(target, dpi=100, format="png")


def _powers_of_ten(ax: Any) -> None:
    """Label a y axis that holds log10 values as the powers of ten they stand for."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    def label(v: float, _: Any) -> str:
        # a narrow range has ticks between powers: those are shown as plain numbers
        return f"$10^{{{v:.0f}}}$" if float(v).is_integer() else f"{10**v:.3g}"

    ax.yaxis.set_major_locator(MaxNLocator(nbins=8, integer=True))
    ax.yaxis.set_major_formatter(FuncFormatter(label))


def plot_gradient_flow(
    target: Target, lines: Sequence[tuple[str, list[float], str, int]], title: str
) -> None:
    """log10 of batch-mean ||dL/dh_t|| against t, one line per (label, curve, style,
    colour index); dashed lines are usually "at init", solid "after training".

    The y axis holds log10 values labelled as powers of ten, not a log scale: at long
    lengths they reach 10^-7000, far below any float, and are exact all the same.
    """
    colors = _colors()
    fig = _figure(figsize=(7.5, 4.6))
    ax = fig.subplots()
    for label, curve, style, color in lines:
        ax.plot(
            range(1, len(curve) + 1),
            curve,
            style,
            color=colors[color % len(colors)],
            label=label,
        )
    ax.set(
        xlabel="time step t (the loss is read at the last step T)",
        ylabel="gradient reaching step t: mean ||dL/dh_t||",
        title=f"{title}\nfalling to the left: the gradient vanishes; rising: it explodes",
    )
    _powers_of_ten(ax)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(target, dpi=100, format="png")


def plot_grad_norms(target: Target, norms: list[float], clip: float | None, title: str) -> None:
    """The global gradient norm before clipping at every step, with the clip threshold."""
    fig = _figure(figsize=(7, 3.5))
    ax = fig.subplots()
    ax.plot(range(1, len(norms) + 1), norms, lw=0.8, label="global norm (before clipping)")
    if clip:
        ax.axhline(clip, color="red", linestyle="--", label=f"clip at {clip:g}")
    ax.set(
        xlabel="optimizer step",
        ylabel="gradient norm of all parameters",
        yscale="log",
        title=f"{title}: gradient norm per step",
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(target, dpi=100, format="png")


def plot_probe_records(target: Target, probe: dict[str, Any], title: str) -> None:
    """One run's gradient flow at each recorded epoch (init dashed), and its hidden norms."""
    records = probe["records"]
    colors = _colors()
    fig = _figure(figsize=(11, 4))
    (ax, bx) = fig.subplots(1, 2)
    for i, r in enumerate(records):
        curve = r["log10_grad"][r["headline"]]
        style = "--" if r["epoch"] == 0 else "-"
        ax.plot(
            range(1, len(curve) + 1),
            curve,
            style,
            color=colors[i % len(colors)],
            label=f"epoch {r['epoch']}",
        )
        bx.plot(
            range(1, len(r["hidden_norm"]) + 1),
            r["hidden_norm"],
            style,
            color=colors[i % len(colors)],
            label=f"epoch {r['epoch']}",
        )
    ax.set(
        xlabel="time step t (the loss is read at the last step T)",
        ylabel="gradient reaching step t: mean ||dL/dh_t||",
        title=f"{title}: gradient flow (dashed: at init)",
    )
    _powers_of_ten(ax)
    bx.set(xlabel="time step t", ylabel="mean ||h_t||", title="hidden-state size per step")
    for a in (ax, bx):
        a.grid(alpha=0.3)
        a.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(target, dpi=100, format="png")


def plot_setting_curves(
    target: Target, runs: Sequence[tuple[Any, dict[str, Any]]], cells: list[str], title: str
) -> None:
    """Validation loss per step of every run of one setting (`(point, result)` pairs; a
    colour per cell, named once), with the chance level and the task's reference levels."""
    colors = _colors()
    fig = _figure(figsize=(7, 4))
    ax = fig.subplots()
    for point, out in runs:
        steps = [(e + 1) * out["steps_per_epoch"] for e in range(len(out["curve"]))]
        color = colors[cells.index(point.cell) % len(colors)]
        first = point.seed == min(p.seed for p, _ in runs if p.cell == point.cell)
        ax.plot(steps, out["curve"], color=color, lw=1, label=point.cell if first else None)
    chance = runs[0][1]["chance_loss"]
    ax.axhline(chance, color="grey", ls="--", label=f"chance ({chance:.3g})")
    for name, level in runs[0][1]["references"].items():
        if abs(level - chance) > 1e-12:
            ax.axhline(level, color="grey", ls=":", label=f"{name} ({level:.3g})")
    ax.set(xlabel="step", ylabel="validation loss", yscale="log", title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(target, dpi=100, format="png")
