"""Where seqkit keeps what it measured or scanned."""

from __future__ import annotations

import os
import sys
from pathlib import Path

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
