"""Where seqkit keeps what it measured or scanned, and writing a file there safely."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Any

CACHE_ENV = "SEQKIT_CACHE_DIR"


def cache_dir() -> Path:
    """$SEQKIT_CACHE_DIR, else the user's cache directory (platformdirs: the XDG path
    on Linux, ~/Library/Caches on macOS, %LOCALAPPDATA% on Windows)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    if sys.platform == "linux" and not hasattr(sys, "getandroidapilevel"):
        # platformdirs' Unix rule, without importing it (it imports tempfile, random...)
        base = os.environ.get("XDG_CACHE_HOME", "").strip() or os.path.expanduser("~/.cache")
        return Path(base) / "seqkit"
    import platformdirs

    return Path(platformdirs.user_cache_dir("seqkit", appauthor=False))


def read_json(path: Path) -> Any:
    """The JSON in `path`; None when it is missing or unreadable (it is only a cache)."""
    import json

    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def write_json(path: Path, data: Any) -> None:
    """Replace `path` with `data` atomically (processes side by side may write at once:
    the last one wins). A cache that cannot be written is skipped."""
    import json
    import tempfile

    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-")
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(data, f, indent=1)
            os.replace(tmp, path)
        except OSError:
            os.unlink(tmp)
            raise
