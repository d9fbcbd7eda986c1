"""The remembered entry-point scan (`seqkit._plugins.entrypoints`): it answers what
importlib.metadata answers, is used again only while nothing the scan read has changed,
and a bad or unwritable cache file costs a scan, never an error."""

from __future__ import annotations

import importlib.metadata as md
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from seqkit._plugins import entrypoints


def rows(found: list[entrypoints.PluginEntryPoint]) -> list[tuple[Any, ...]]:
    return [(ep.name, ep.value, ep.dist, ep.version) for ep in found]


def scanned() -> list[tuple[Any, ...]]:
    """What importlib.metadata itself finds now."""
    return [
        (ep.name, ep.value, ep.dist.name if ep.dist else None, ep.dist.version if ep.dist else None)
        for ep in md.entry_points(group="seqkit")
    ]


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache directory of this test's own."""
    monkeypatch.setenv("SEQKIT_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def scans(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the scans of the installed distributions."""
    count: list[int] = []
    real = entrypoints.scan

    def counted() -> Any:
        count.append(1)
        return real()

    monkeypatch.setattr(entrypoints, "scan", counted)
    return count


def distribution(site: Path, name: str, entry_points: str) -> Path:
    """A minimal installed distribution `name` 1.0 in directory `site`."""
    meta = site / f"{name}-1.0.dist-info"
    meta.mkdir(parents=True)
    (meta / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (meta / "entry_points.txt").write_text(entry_points)
    return meta


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory on sys.path (as a PYTHONPATH entry or a --target install would be)."""
    where = tmp_path / "site"
    where.mkdir()
    monkeypatch.syspath_prepend(str(where))
    return where


def test_a_scan_then_the_cache_answer_what_importlib_metadata_does(cache, scans):
    first = entrypoints.seqkit_entry_points()
    assert rows(first) == scanned() and len(scans) == 1
    assert {"cells", "tasks", "topologies", "trainers"} <= {ep.name for ep in first}
    assert (cache / "entry-points.marshal").is_file()
    assert rows(entrypoints.seqkit_entry_points()) == scanned()
    assert len(scans) == 1  # the second answer came from the file


def test_an_installed_distribution_is_seen_at_once(cache, scans, site):
    entrypoints.seqkit_entry_points()
    distribution(site, "demo", "[seqkit]\ndemo = demo_plugin:PLUGIN\n")
    found = rows(entrypoints.seqkit_entry_points())
    assert ("demo", "demo_plugin:PLUGIN", "demo", "1.0") in found
    assert found == scanned() and len(scans) == 2


def test_a_removed_distribution_is_gone_at_once(cache, site):
    meta = distribution(site, "demo", "[seqkit]\ndemo = demo_plugin\n")
    assert "demo" in [ep.name for ep in entrypoints.seqkit_entry_points()]
    for f in meta.iterdir():
        f.unlink()
    meta.rmdir()
    assert "demo" not in [ep.name for ep in entrypoints.seqkit_entry_points()]


def test_entry_points_rewritten_in_place_are_seen(cache, site):
    meta = distribution(site, "demo", "[console_scripts]\ndemo = demo_plugin:main\n")
    assert "demo" not in [ep.name for ep in entrypoints.seqkit_entry_points()]
    before = os.stat(site)
    (meta / "entry_points.txt").write_text("[seqkit]\ndemo = demo_plugin\n")
    os.utime(site, ns=(before.st_atime_ns, before.st_mtime_ns))  # sys.path entry unchanged
    assert "demo" in [ep.name for ep in entrypoints.seqkit_entry_points()]


def test_another_sys_path_is_cached_beside_the_first(cache, scans, site):
    entrypoints.seqkit_entry_points()
    sys.path.insert(0, str(site.parent / "elsewhere"))  # not there: stamped as missing
    try:
        entrypoints.seqkit_entry_points()
    finally:
        sys.path.remove(str(site.parent / "elsewhere"))
    assert len(entrypoints.read_records()) == 2
    entrypoints.seqkit_entry_points()  # the first sys.path again: its record is kept
    assert len(scans) == 2


def test_a_corrupt_cache_file_costs_a_scan(cache, scans):
    cache.mkdir()
    (cache / "entry-points.marshal").write_bytes(b"\x00not marshal")
    assert rows(entrypoints.seqkit_entry_points()) == scanned() and len(scans) == 1
    (cache / "entry-points.marshal").write_bytes(b"")
    assert rows(entrypoints.seqkit_entry_points()) == scanned() and len(scans) == 2
    assert rows(entrypoints.seqkit_entry_points()) == scanned() and len(scans) == 2


def test_an_unwritable_cache_only_costs_a_scan_each_time(tmp_path, monkeypatch, scans):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the directory would go")
    monkeypatch.setenv("SEQKIT_CACHE_DIR", str(blocker / "cache"))
    assert rows(entrypoints.seqkit_entry_points()) == scanned()
    assert rows(entrypoints.seqkit_entry_points()) == scanned()
    assert len(scans) == 2


def test_another_finder_of_distributions_means_no_cache(cache, scans, monkeypatch):
    class Finder:
        def find_spec(self, *args: Any) -> None:
            return None

        def find_distributions(self, *args: Any) -> list[Any]:
            return []

    monkeypatch.setattr(sys, "meta_path", [*sys.meta_path, Finder()])
    assert rows(entrypoints.seqkit_entry_points()) == scanned()
    entrypoints.seqkit_entry_points()
    assert len(scans) == 2 and not (cache / "entry-points.marshal").exists()


def test_load_follows_entry_point_syntax():
    load = entrypoints.PluginEntryPoint
    assert load("a", "os.path", None, None).load() is os.path
    assert load("a", "os : path.join", None, None).load() is os.path.join
    assert load("a", "os:path [extra]", None, None).load() is os.path
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        load("a", "os:nope", None, None).load()
    with pytest.raises(ValueError, match="malformed"):
        load("a", "not a value!", None, None).load()
