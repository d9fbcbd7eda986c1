"""Garbage collection in a `seqkit` process (`seqkit._cli.process`): `main()` freezes
what torch's import made before training and what is left before the exit; the command
group run in-process (CliRunner, an embedding program) leaves collection alone."""

from __future__ import annotations

import gc
import json
import subprocess
import sys

from click.testing import CliRunner

from seqkit._cli.main import cli

RUN = ["run", "--cell", "gru", "--task", "sum", "--epochs", "1", "--hidden-size", "8", "-q"]

PROBE = """
import atexit, gc, json, sys
import seqkit._train.loop as training
seen = {{}}
fit = training.LoopTrainer.fit
def watched(self, *args, **kwargs):
    seen["fit"] = [gc.isenabled(), gc.get_freeze_count()]
    return fit(self, *args, **kwargs)
training.LoopTrainer.fit = watched
atexit.register(lambda: print(json.dumps(seen | {{"exit": gc.get_freeze_count()}})))
from seqkit._cli.main import main
main({args!r})
"""


def test_the_seqkit_process_freezes_what_lives_until_its_exit(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=[*RUN, "--out", str(tmp_path / "r")])],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    enabled, frozen = seen["fit"]
    assert enabled and frozen > 50_000  # torch's objects, frozen; collection back on
    assert seen["exit"] > frozen  # and what training made, left to the exit
    assert (tmp_path / "r" / "report.html").is_file()


def test_the_group_run_in_process_leaves_collection_alone(tmp_path):
    before = gc.get_freeze_count()
    res = CliRunner().invoke(cli, [*RUN, "--out", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    assert gc.get_freeze_count() == before and gc.isenabled()
