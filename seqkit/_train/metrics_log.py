"""The per-epoch metrics file of a run directory, written as each epoch ends."""

from __future__ import annotations

import json
from pathlib import Path

from seqkit._plugins.interfaces import Callback, TrainState


class MetricsLog(Callback):
    """Appends each epoch's record to `metrics.jsonl` as it ends."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def on_epoch_end(self, state: TrainState, record: dict[str, float]) -> None:
        with self.path.open("a") as f:
            f.write(json.dumps(record) + "\n")
