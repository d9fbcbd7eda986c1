"""The run directory: reading its recorded configuration, checking where one may be made,
its run id, saving its model. Its file names and writers are in `seqkit._core.files`.

Every file a run writes carries the run's id (config.json, summary.json, each line of
metrics.jsonl, gradients.json, checkpoint.pt, model.safetensors' metadata): `predict`,
`report` and `--resume` refuse a directory whose files do not belong together."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from seqkit._core.config import RunConfig
from seqkit._core.errors import ConfigError
from seqkit._core.files import CONFIG, locked, save_weights


def read_run_config(
    run_dir: Path, where: str | None = None, data_changed: bool = False
) -> RunConfig:
    """The configuration a run recorded in `run_dir/config.json` (for resume, load,
    --config); `where` names the directory in errors (default: its path).
    `data_changed`: forget the recorded data identity, so that changed data are accepted."""
    where = where or str(run_dir)
    path = run_dir / CONFIG
    if not path.is_file():
        raise ConfigError(f"{where}: not a run directory (no {CONFIG})")
    config = RunConfig.from_file(path, f"{where}: {CONFIG}")
    if data_changed:
        config.data = None
    return config


@contextmanager
def claimed(path: Path, overwrite: bool) -> Iterator[None]:
    """Hold the run directory `path` as its one writer (`files.locked`), then check it
    (`check_out_dir`): a second `--out` of the same directory started at the same time
    is refused, and so is one started after the first finished (it holds a run by then).
    A directory this call created is removed again if the check refuses it."""
    existed = path.exists()
    check_out_dir(path, overwrite)  # before creating anything: a bad path stays as it was
    try:
        with locked(path, f"--out {path}"):
            check_out_dir(path, overwrite)  # again, as the one writer
            yield
    except BaseException:
        if not existed and path.is_dir() and not any(path.iterdir()):
            path.rmdir()  # refused before anything was written: leave no empty directory
        raise


def check_out_dir(path: Path, overwrite: bool) -> None:
    """Refuse a directory that holds something, unless `overwrite`, and one that cannot be
    created or written; nothing is created."""
    try:
        if path.exists() and not path.is_dir():
            raise ConfigError(f"--out {path}: exists and is not a directory")
        if path.is_dir() and any(path.iterdir()) and not overwrite:
            what = "another run" if (path / CONFIG).exists() else "files"
            raise ConfigError(
                f"--out {path}: the directory holds {what}; "
                "choose another --out or pass --overwrite"
            )
        parent = next((p for p in [path, *path.parents] if p.exists()), Path("."))
    except OSError as exc:  # a directory on the way that may not be read
        raise ConfigError(f"--out {path}: {exc.strerror or exc}: {exc.filename}") from None
    if not parent.is_dir():
        raise ConfigError(f"--out {path}: cannot create it, {parent} is a file, not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(f"--out {path}: no permission to write in {parent}")


def new_run_id() -> str:
    """A fresh run's id: random, so that two runs never share one."""
    return uuid.uuid4().hex[:16]


def save_model(path: Path, model: Any, run_id: str | None, recorded: dict[str, Any]) -> None:
    """The model's weights as safetensors, with the run's id and its config.json
    (`recorded`) in the metadata, so the file says what it is on its own."""
    metadata = {"format": "seqkit", "config": json.dumps(recorded, default=str)}
    if run_id is not None:
        metadata["run_id"] = run_id
    save_weights(path, model.state_dict(), metadata)
