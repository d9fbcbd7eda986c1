"""PNG plots of the gradient diagnostics (matplotlib, no display needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


def _pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend, imported when a plot is first drawn (about
    a second here: the commands that draw nothing do not pay it)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _colors() -> list[str]:
    colors: list[str] = _pyplot().rcParams["axes.prop_cycle"].by_key()["color"]
    return colors


def plot_gradient_flow(
    path: Path, lines: Sequence[tuple[str, list[float], str, int]], title: str
) -> None:
    """log10 of batch-mean ||dL/dh_t|| against t, one line per (label, curve, style,
    colour index); dashed lines are usually "at init", solid "after training".

    The y axis holds log10 values, not a log scale: at long lengths they reach -7000,
    far below any float, and are exact all the same.
    """
    plt = _pyplot()
    colors = _colors()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for label, curve, style, color in lines:
        ax.plot(
            range(1, len(curve) + 1),
            curve,
            style,
            color=colors[color % len(colors)],
            label=label,
        )
    ax.set(xlabel="time step t", ylabel="log10 mean ||dL/dh_t||", title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_grad_norms(path: Path, norms: list[float], clip: float | None, title: str) -> None:
    """The global gradient norm before clipping at every step, with the clip threshold."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.plot(range(1, len(norms) + 1), norms, lw=0.8, label="global norm (before clipping)")
    if clip:
        ax.axhline(clip, color="red", linestyle="--", label=f"clip at {clip:g}")
    ax.set(xlabel="step", ylabel="||grad||", yscale="log", title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_probe_records(path: Path, probe: dict[str, Any], title: str) -> None:
    """One run's gradient flow at each recorded epoch (init dashed), and its hidden norms."""
    records = probe["records"]
    plt = _pyplot()
    colors = _colors()
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4))
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
    ax.set(xlabel="time step t", ylabel="log10 mean ||dL/dh_t||", title=title)
    bx.set(xlabel="time step t", ylabel="mean ||h_t||", title="hidden-state norm")
    for a in (ax, bx):
        a.grid(alpha=0.3)
        a.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
