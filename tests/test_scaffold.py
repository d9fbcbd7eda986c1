"""`seqkit new plugin NAME`: the package it writes installs, passes its own tests (which
use seqkit.testing) and trains through the real `seqkit` command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from plugin_install import install_plugin

from seqkit._cli.main import cli


def test_the_scaffold_installs_passes_its_own_tests_and_trains(tmp_path: Path) -> None:
    made = CliRunner().invoke(cli, ["new", "plugin", "indrnn", "--dir", str(tmp_path)])
    assert made.exit_code == 0, made.output
    root = tmp_path / "seqkit-indrnn"
    assert sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) == [
        "README.md",
        "pyproject.toml",
        "seqkit_indrnn/__init__.py",
        "seqkit_indrnn/cell.py",
        "seqkit_indrnn/task.py",
        "tests/test_plugin.py",
    ]
    lint = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--isolated", "."],
        cwd=root,  # where seqkit is a third-party package, as for the plugin's author
        capture_output=True,
        text=True,
    )
    assert lint.returncode == 0, lint.stdout
    env = install_plugin(root, tmp_path / "installed")
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert tests.returncode == 0, tests.stdout[-3000:]
    assert " passed" in tests.stdout.splitlines()[-1] and "failed" not in tests.stdout
    run = subprocess.run(
        [sys.executable, "-m", "seqkit", "run", "--cell", "indrnn", "--task", "indrnn-mean",
         "--json", "--quiet", "--out", str(tmp_path / "run")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    assert summary["val_loss"] < 0.05 * summary["chance_loss"] and summary["solved"] is True
    assert summary["versions"]["plugin:indrnn"] == "0.1.0"
    listed = subprocess.run(
        [sys.executable, "-c", "import sys; sys.argv = ['seqkit', 'list', 'cells']\n"
         "from seqkit._cli.main import main\ntry: main()\nexcept SystemExit: pass\n"
         "print('torch' in sys.modules)"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert "indrnn" in listed.stdout and listed.stdout.split()[-1] == "False"  # lazy


def test_bad_names_and_taken_directories_are_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = runner.invoke(cli, ["new", "plugin", "My_Cell", "--dir", str(tmp_path)])
    assert bad.exit_code == 2 and bad.output.startswith("Error: plugin name 'My_Cell':")
    (tmp_path / "seqkit-taken").mkdir()
    (tmp_path / "seqkit-taken" / "notes.txt").write_text("mine")
    taken = runner.invoke(cli, ["new", "plugin", "taken", "--dir", str(tmp_path)])
    assert taken.exit_code == 2 and "exists and is not empty" in taken.output
    assert (tmp_path / "seqkit-taken" / "notes.txt").read_text() == "mine"
    assert list((tmp_path / "seqkit-taken").iterdir()) == [tmp_path / "seqkit-taken" / "notes.txt"]
