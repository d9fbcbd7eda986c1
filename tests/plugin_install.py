"""Install a plugin distribution the way a user would, for the tests that drive it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from seqkit._core.cache import CACHE_ENV


def install_plugin(source: Path, root: Path) -> dict[str, str]:
    """pip-install the distribution at `source` into `root/site` and return an environment
    in which `python -m seqkit` finds it (and every other plugin: no SEQKIT_ variables
    but the suite's own cache directory).

    It is built from a copy, so the build leaves no build/ or *.egg-info in the tree."""
    copy = root / "src"
    shutil.copytree(
        source, copy, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__")
    )
    site = root / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--no-deps", "--no-build-isolation", "--target", str(site), str(copy)],
        check=True,
        capture_output=True,
        text=True,
    )  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEQKIT_") or k == CACHE_ENV}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(site), env.get("PYTHONPATH")) if p)
    env["OMP_NUM_THREADS"] = "1"  # small models: threads only add contention
    return env
