"""The run directory: resolved configuration, per-epoch metrics, summary, model, plot."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from seqkit.errors import ConfigError
from seqkit.interfaces import Callback, TrainState

CONFIG, METRICS, SUMMARY, MODEL, PLOT = (
    "config.json",
    "metrics.jsonl",
    "summary.json",
    "model.pt",
    "loss.png",
)


def check_out_dir(path: Path, overwrite: bool) -> None:
    """Refuse a directory that holds something, unless `overwrite`; nothing is created."""
    if path.exists() and not path.is_dir():
        raise ConfigError(f"--out {path}: exists and is not a directory")
    if path.is_dir() and any(path.iterdir()) and not overwrite:
        what = "another run" if (path / CONFIG).exists() else "files"
        raise ConfigError(
            f"--out {path}: the directory holds {what}; choose another --out or pass --overwrite"
        )
    parent = next((p for p in [path, *path.parents] if p.exists()), Path("."))
    if not os.access(parent, os.W_OK):
        raise ConfigError(f"--out {path}: no permission to write in {parent}")


def write_json(path: Path, data: Any) -> None:
    """Write atomically: a temporary file beside it, then rename."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=2, default=str)
        f.write("\n")
    os.replace(tmp, path)


def save_model(path: Path, model: torch.nn.Module) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(fd)
    torch.save(model.state_dict(), tmp)
    os.replace(tmp, path)


class MetricsLog(Callback):
    """Appends each epoch's record to `metrics.jsonl` as it ends."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def on_epoch_end(self, state: TrainState, record: dict[str, float]) -> None:
        with self.path.open("a") as f:
            f.write(json.dumps(record) + "\n")


def plot_losses(
    path: Path,
    epochs: list[dict[str, float]],
    chance: float,
    title: str,
    references: dict[str, float] | None = None,
) -> None:
    """Training and validation loss per epoch, log scale, with the chance level and the
    task's other reference levels (the adding problem's 1/12 plateau) drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    xs = [r["epoch"] for r in epochs]
    ax.plot(xs, [r["train_loss"] for r in epochs], label="train")
    ax.plot(xs, [r["val_loss"] for r in epochs], label="validation")
    ax.axhline(chance, color="grey", linestyle="--", label=f"chance ({chance:.3g})")
    for i, (name, level) in enumerate((references or {}).items()):
        if abs(level - chance) > 1e-12:
            ax.axhline(
                level,
                color="grey",
                linestyle=":" if i % 2 == 0 else "-.",
                label=f"{name} ({level:.3g})",
            )
    ax.set(xlabel="epoch", ylabel="loss", yscale="log", title=title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
