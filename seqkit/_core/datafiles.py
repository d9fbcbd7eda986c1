"""A data file's identity: what a run records of the data it trained on, so that the
same command on changed data is refused instead of silently giving other numbers."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from seqkit._core.errors import ConfigError
from seqkit._core.files import regular_file

HASH_BLOCK = 1 << 20
IDENTITY_KEYS = ("path", "bytes", "modified", "sha256")
"""What `file_identity` records; `changed` compares all of them but the path."""


def file_identity(path: str | Path, where: str | None = None) -> dict[str, Any]:
    """`{"path", "bytes", "modified", "sha256"}` of the regular file at `path`: its
    absolute path, size, modification time (UTC, ISO 8601) and content hash. Anything but
    a regular file is a ConfigError starting with `where` (default: the path)."""
    path = Path(path)
    where = where or str(path)
    info = regular_file(path, where, "data file")
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            while block := f.read(HASH_BLOCK):
                digest.update(block)
    except OSError as exc:
        raise ConfigError(f"{where}: {exc.strerror or exc}") from None
    return {
        "path": str(path.resolve()),
        "bytes": info.st_size,
        "modified": datetime.fromtimestamp(info.st_mtime, UTC).isoformat(timespec="seconds"),
        "sha256": digest.hexdigest(),
    }


def changed(recorded: dict[str, Any], now: dict[str, Any]) -> str | None:
    """How the data at a recorded path differ from what was recorded, in words; None when
    they do not (or when the two name different files: a user may point a recorded
    configuration at other data on purpose)."""
    if recorded.get("path") != now.get("path"):
        return None
    if recorded.get("sha256") == now.get("sha256"):
        return None
    was, is_ = recorded.get("bytes"), now.get("bytes")
    size = f"{was} bytes then, {is_} now" if was != is_ else f"{is_} bytes, other content"
    return (
        f"{now['path']} changed since the run recorded it ({size}; modified "
        f"{recorded.get('modified')} then, {now.get('modified')} now)"
    )
