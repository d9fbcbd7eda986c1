"""The one atomic writer (`seqkit._core.files`): whole files or the previous ones, the
mode a plain open() gives, and signals that arrive during a write acted on after it."""

from __future__ import annotations

import os
import signal

import pytest

from seqkit._core import files
from seqkit._core.errors import ConfigError, WriteFailed


def test_a_written_file_gets_the_mode_a_plain_open_gives(tmp_path):
    (tmp_path / "plain.txt").write_text("x")
    files.write_text(tmp_path / "atomic.txt", "x")
    mode = (tmp_path / "plain.txt").stat().st_mode & 0o777
    assert (tmp_path / "atomic.txt").stat().st_mode & 0o777 == mode
    assert mode & 0o044  # others may read it (mkstemp alone gives 0600)


def test_a_write_that_fails_leaves_the_previous_file_and_no_temporary(tmp_path):
    path = tmp_path / "results.json"
    files.write_json(path, {"a": 1})

    def broken(f):
        f.write(b"{half")
        raise OSError("disk full")

    with pytest.raises(
        WriteFailed, match=r"cannot write .*results\.json: disk full \(its previous"
    ):
        files.write_atomic(path, broken)
    assert files.read_json(path) == {"a": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]


def test_read_json_names_the_file(tmp_path):
    with pytest.raises(ConfigError, match="no summary here"):
        files.read_json(tmp_path / "summary.json", "no summary here")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ConfigError, match=r"bad\.json: cannot be read"):
        files.read_json(tmp_path / "bad.json")


def test_every_signal_that_came_during_a_write_acts_after_it(tmp_path):
    seen = []
    previous = {s: signal.signal(s, lambda n, _: seen.append(n)) for s in (2, 15)}
    try:

        def interrupted(f):
            f.write(b"{}")
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGTERM)
            assert seen == []  # held back while the file is written

        files.write_atomic(tmp_path / "a.json", interrupted)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    assert seen == [signal.SIGINT, signal.SIGTERM]
    assert (tmp_path / "a.json").read_bytes() == b"{}"
