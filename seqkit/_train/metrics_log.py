"""The per-epoch metrics file of a run directory, written as each epoch ends."""

from __future__ import annotations

import json
from pathlib import Path

from seqkit._core.files import write_failed
from seqkit._plugins.interfaces import Callback, TrainState


class MetricsLog(Callback):
    """Appends each epoch's record to `metrics.jsonl` as it ends, with the run's id."""

    def __init__(self, path: Path, run_id: str | None = None) -> None:
        self.path, self.run_id = path, run_id

    def on_epoch_end(self, state: TrainState, record: dict[str, float]) -> None:
        line = record if self.run_id is None else {**record, "run_id": self.run_id}
        try:
            with self.path.open("a") as f:
                f.write(json.dumps(line) + "\n")
        except OSError as exc:  # a line cut off here lies past the last checkpoint's epochs
            raise write_failed(self.path, exc) from None
