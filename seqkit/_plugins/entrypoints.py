"""The installed distributions' `seqkit` entry points, remembered between processes.

Finding them with importlib.metadata reads every installed distribution (and imports
the email package to parse their metadata): more time than the rest of `seqkit --help`.
So the scan's result is kept in the user's cache directory with stamps of what it read,
and is used again only while every stamp still matches: each `sys.path` entry's
modification time (installing, upgrading or removing a distribution adds, renames or
removes a directory there) and each found distribution's `entry_points.txt` (a metadata
directory rewritten in place, as a legacy editable install does). A meta-path finder
other than the standard one that can provide distributions makes every call scan.
"""

from __future__ import annotations

import contextlib
import importlib
import marshal
import os
import sys
from functools import reduce
from pathlib import Path
from typing import Any

from seqkit._core.cache import cache_dir
from seqkit._version import __version__

GROUP = "seqkit"
FORMAT = 1
"""The cache file's layout; a file of another is ignored and rewritten."""
KEEP = 8
"""Scans kept, one per distinct `sys.path` (a checkout, a venv, a test's PYTHONPATH)."""
VALUE = r"(?P<module>[\w.]+)\s*(:\s*(?P<attr>[\w.]+)\s*)?((?P<extras>\[.*\])\s*)?$"
"""An entry point's value, as importlib.metadata.EntryPoint parses it."""


class PluginEntryPoint:
    """One `seqkit` entry point: its name, `module:attr` value, and distribution (a plain
    class: a dataclass costs more to define than this module's whole job on a cache hit)."""

    __slots__ = ("dist", "name", "value", "version")

    def __init__(self, name: str, value: str, dist: str | None, version: str | None) -> None:
        self.name, self.value, self.dist, self.version = name, value, dist, version

    def __repr__(self) -> str:
        return f"PluginEntryPoint({self.name!r}, {self.value!r}, {self.dist!r}, {self.version!r})"

    def load(self) -> Any:
        """Import the module and return the object named (what EntryPoint.load does)."""
        import re

        match = re.match(VALUE, self.value)
        if match is None:
            raise ValueError(f"entry point {self.name!r}: malformed value {self.value!r}")
        module = importlib.import_module(match.group("module"))
        return reduce(getattr, filter(None, (match.group("attr") or "").split(".")), module)


def cache_file() -> Path:
    """The scans, in marshal's format: the interpreter's own for its bytecode cache, read
    with no import (JSON's decoder costs more than the rest of a cache hit)."""
    return cache_dir() / "entry-points.marshal"


def read_records() -> list[Any]:
    """The cached scans; a missing, unreadable or foreign file holds none."""
    try:
        records = marshal.loads(cache_file().read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return []
    return records if isinstance(records, list) else []


def write_records(records: list[Any]) -> None:
    """Replace the cache file atomically (the last of processes side by side wins); one
    that cannot be written is skipped."""
    import tempfile

    path = cache_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".entry-points-")
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as f:
            marshal.dump(records, f)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def seqkit_entry_points() -> list[PluginEntryPoint]:
    """The `seqkit` entry points of the installed distributions, as
    `importlib.metadata.entry_points(group="seqkit")` finds them (from the cache while
    nothing it read has changed)."""
    stamps = path_stamps()
    if stamps is None:  # another finder provides distributions: nothing to stamp
        return [PluginEntryPoint(*row) for row in scan()[0]]
    records = read_records()
    for record in records:
        if _valid(record, stamps):
            return [PluginEntryPoint(*row) for row in record["entry_points"]]
    rows, files = scan()
    if files is not None:
        record = {"format": FORMAT, "path": stamps, "files": files, "entry_points": rows}
        others = [r for r in records if isinstance(r, dict) and r.get("path") != stamps]
        write_records([record, *others][:KEEP])
    return [PluginEntryPoint(*row) for row in rows]


def _valid(record: Any, stamps: list[list[Any]]) -> bool:
    """Whether a cached scan was made with this `sys.path` and nothing it read changed."""
    return (
        isinstance(record, dict)
        and record.get("format") == FORMAT
        and record.get("path") == stamps
        and isinstance(record.get("files"), dict)
        and all(file_stamp(f) == stamp for f, stamp in record["files"].items())
        and isinstance(record.get("entry_points"), list)
    )


def path_stamps() -> list[list[Any]] | None:
    """The interpreter, seqkit's version, and each `sys.path` entry (made absolute, as
    the scan reads it from this directory) with its stamp; None if a meta-path finder
    other than the standard PathFinder can provide distributions."""
    from importlib.machinery import PathFinder

    if any(f is not PathFinder and hasattr(f, "find_distributions") for f in sys.meta_path):
        return None
    head: list[Any] = [sys.executable, sys.version, __version__]
    return [head, *([p, file_stamp(p)] for p in (os.path.abspath(e or ".") for e in sys.path))]


def file_stamp(path: str) -> list[int] | None:
    """Modification time and size of `path` (None: it does not exist)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_size]


def scan() -> tuple[list[list[Any]], dict[str, list[int] | None] | None]:
    """The entry points found by importlib.metadata, as rows `[name, value, dist, version]`,
    and the stamp of every distribution's `entry_points.txt`, taken before any is read
    (None if a distribution's metadata is not a directory on disk, which cannot be
    stamped)."""
    import importlib.metadata as md

    files: dict[str, list[int] | None] | None = {}
    for dist in md.distributions():  # their directories, found; nothing in them read yet
        where = getattr(dist, "_path", None)  # PathDistribution's metadata directory
        if files is None or not isinstance(where, Path) or not where.is_dir():
            files = None
            continue
        path = str(where.absolute() / "entry_points.txt")
        files[path] = file_stamp(path)
    rows = []
    for ep in md.entry_points(group=GROUP):
        name, version = (ep.dist.name, ep.dist.version) if ep.dist else (None, None)
        rows.append([ep.name, ep.value, name, version])
    return rows, files
