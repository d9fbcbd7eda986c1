"""A real installed distribution of misbehaving plugins (`tests/broken_plugins`).

It is pip-installed into a temporary directory put on PYTHONPATH, as a user's would be,
and the real `seqkit` command runs in subprocesses. Each broken entry point must give
one warning line naming it and the reason, and leave every other command working;
`seqkit plugins` shows its status; SEQKIT_STRICT_PLUGINS=1 makes it an error; and
SEQKIT_LOAD_PLUGINS can leave the broken ones out.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from plugin_install import install_plugin

SOURCE = Path(__file__).resolve().parent / "broken_plugins"

BROKEN = {
    "badhook": "failed (register): PluginValidationError: Plugin 'badhook' for hook "
    "'register_cells' hookimpl definition: register_cells(add) Argument(s) {'add'} are "
    "declared in the hookimpl but can not be found in the hookspec",
    "clash": "failed (register_cells): NameClashError: cell 'gru' is already registered by "
    "plugin 'cells'",
    "missingattr": "failed (import): AttributeError: module 'seqkit_broken.good' has no "
    "attribute 'no_such'",
    "noimport": "failed (import): ModuleNotFoundError: No module named 'seqkit_no_such_dependency'",
    "notcallable": "failed (register_cells): PluginError: cell 'dictcell': factory "
    "{'hidden': 8} is not callable",
    "notmodule": "failed (register_cells): PluginError: cell 'plaincell': class PlainCell is "
    "not a torch.nn.Module (see the Cell contract in docs/plugins.md)",
    "raises": "failed (register_cells): RuntimeError: no weights file for halfcell",
    "exits": "failed (import): SystemExit: it called sys.exit(0)",
    "interrupts": "failed (register_cells): KeyboardInterrupt",
}
"""Each broken entry point and what its warning says after `plugin 'NAME' `."""
WORKING = {"good": ["goodcell"], "lazybad": ["nostep"]}
"""Entry points of the same distribution that load, and the cells they register."""
BUILTIN = {"cells", "topologies", "tasks", "trainers", "executors", "suites"}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """An environment in which `python -m seqkit` finds the installed broken plugins."""
    return install_plugin(SOURCE, tmp_path_factory.mktemp("broken-plugins"))


def seqkit(
    env: dict[str, str], *args: str, cwd: Path | None = None, **extra: str
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "seqkit", *args],
        env={**env, **extra},
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    return proc


def warnings_of(stderr: str) -> dict[str, list[str]]:
    """The warning lines on stderr, by the plugin each names; every line is one."""
    found: dict[str, list[str]] = {}
    for line in stderr.splitlines():
        prefix = "seqkit: warning: plugin '"
        if line.startswith(prefix):
            name = line[len(prefix) :].split("'", 1)[0]
            found.setdefault(name, []).append(line[len("seqkit: warning: ") :])
    return found


def check_warnings(stderr: str) -> None:
    """Exactly one line for each broken plugin, naming it and the reason; nothing else."""
    found = warnings_of(stderr)
    assert set(found) == set(BROKEN), stderr
    for name, reason in BROKEN.items():
        (line,) = found[name]
        assert line.startswith(f"plugin '{name}' {reason}; "), line
    assert len(stderr.splitlines()) == len(BROKEN), stderr


def test_help_works_with_one_warning_per_broken_plugin(env: dict[str, str]) -> None:
    proc = seqkit(env, "--help")
    assert proc.returncode == 0
    assert "Commands:" in proc.stdout and "plugins" in proc.stdout
    check_warnings(proc.stderr)
    assert "until one of them is disabled with SEQKIT_DISABLE_PLUGINS" in proc.stderr
    assert proc.stderr.count("the other plugins still work") == len(BROKEN) - 1  # not clash


def test_list_shows_what_loaded_and_nothing_half_registered(env: dict[str, str]) -> None:
    proc = seqkit(env, "list", "cells", "--json")
    assert proc.returncode == 0, proc.stderr
    check_warnings(proc.stderr)
    cells = [(c["name"], c["plugin"]) for c in json.loads(proc.stdout)["cells"]]
    assert ("goodcell", "good") in cells and ("nostep", "lazybad") in cells
    assert ("gru", "cells") in cells and ("gru", "clash") in cells  # both kept; see below
    names = {name for name, _ in cells}
    assert not names & {"halfcell", "dictcell", "plaincell", "badhookcell"}


def test_plugins_shows_each_status_and_error(env: dict[str, str]) -> None:
    proc = seqkit(env, "plugins", "--json")
    assert proc.returncode == 0, proc.stderr
    check_warnings(proc.stderr)
    plugins = {p["name"]: p for p in json.loads(proc.stdout)}
    assert set(plugins) == BUILTIN | set(BROKEN) | set(WORKING)
    for name, reason in BROKEN.items():
        p = plugins[name]
        assert (p["status"], p["distribution"], p["version"], p["builtin"]) == (
            "error",
            "seqkit-broken-plugins",
            "0.0.1",
            False,
        )
        assert reason.endswith(p["error"]) and "\n" not in p["error"], p
    for name, cells in WORKING.items():
        assert plugins[name]["status"] == "ok" and plugins[name]["error"] is None
        assert plugins[name]["registers"] == {"cells": cells}
    assert all(plugins[name]["status"] == "ok" for name in BUILTIN)

    text = seqkit(env, "plugins")
    assert text.returncode == 0
    lines = text.stdout.splitlines()
    for name, reason in BROKEN.items():
        at = next(i for i, line in enumerate(lines) if line.startswith(f"{name}  "))
        assert lines[at].endswith("(seqkit-broken-plugins)  error")
        error = next(line for line in lines[at + 1 :] if line.startswith("    error: "))
        assert reason.endswith(error.removeprefix("    error: "))
    assert any(line.startswith("good  0.0.1  (seqkit-broken-plugins)  ok") for line in lines)


def run_summary(env: dict[str, str], out: Path, cell: str, **extra: str) -> tuple[dict, str]:
    proc = seqkit(
        env,
        "run",
        "--cell",
        cell,
        "--task",
        "square",
        "--epochs",
        "2",
        "--quiet",
        "--json",
        "--out",
        str(out),
        **extra,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout), proc.stderr


def test_a_run_that_does_not_use_them_works(env: dict[str, str], tmp_path: Path) -> None:
    summary, stderr = run_summary(env, tmp_path / "run", "lstm")
    check_warnings(stderr)  # the warnings, and no other line
    assert summary["cell"] == "lstm" and summary["epochs_run"] == 2
    assert (tmp_path / "run" / "model.safetensors").is_file()


def test_the_good_plugin_of_the_same_distribution_runs(env: dict[str, str], tmp_path: Path) -> None:
    summary, stderr = run_summary(env, tmp_path / "run", "goodcell")
    check_warnings(stderr)
    assert summary["cell"] == "goodcell" and summary["epochs_run"] == 2
    assert summary["versions"]["plugin:good"] == "0.0.1"


def test_a_clashing_name_is_an_error_naming_both_until_one_is_disabled(
    env: dict[str, str], tmp_path: Path
) -> None:
    proc = seqkit(env, "run", "--cell", "gru", "--task", "square", "--out", str(tmp_path / "r"))
    assert proc.returncode == 2
    *warned, error = proc.stderr.splitlines()
    check_warnings("\n".join(warned))
    assert error.startswith(
        "Error: Invalid value for '--cell': cell 'gru' is registered by more than one plugin "
        "('cells' and 'clash'); disable one with SEQKIT_DISABLE_PLUGINS"
    )
    assert not (tmp_path / "r").exists()
    summary, stderr = run_summary(env, tmp_path / "r", "gru", SEQKIT_DISABLE_PLUGINS="clash")
    assert summary["cell"] == "gru" and summary["versions"]["plugin:cells"]
    assert "plugin:clash" not in summary["versions"]
    assert set(warnings_of(stderr)) == set(BROKEN) - {"clash"}


def test_a_cell_that_breaks_the_contract_fails_on_use_in_one_line(
    env: dict[str, str], tmp_path: Path
) -> None:
    proc = seqkit(env, "run", "--cell", "nostep", "--task", "square", "--out", str(tmp_path / "r"))
    assert proc.returncode == 2
    *warned, error = proc.stderr.splitlines()
    check_warnings("\n".join(warned))
    assert error == (
        "Error: cell 'nostep' does not satisfy the Cell contract: missing step "
        "(see docs/plugins.md)"
    )
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("name", ["noimport", "raises", "clash", "notcallable", "badhook"])
def test_strict_mode_makes_a_broken_plugin_an_error(env: dict[str, str], name: str) -> None:
    proc = seqkit(env, "list", SEQKIT_STRICT_PLUGINS="1", SEQKIT_LOAD_PLUGINS=name)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == f"Error: plugin '{name}' {BROKEN[name]}\n"


@pytest.mark.parametrize("selected, loaded", [("good", {"good"}), ("", set())])
def test_load_plugins_leaves_the_broken_ones_out(
    env: dict[str, str], selected: str, loaded: set[str]
) -> None:
    proc = seqkit(env, "plugins", "--json", SEQKIT_LOAD_PLUGINS=selected, SEQKIT_STRICT_PLUGINS="1")
    assert proc.returncode == 0 and proc.stderr == ""
    plugins = {p["name"]: p["status"] for p in json.loads(proc.stdout)}
    assert plugins == dict.fromkeys(BUILTIN | loaded, "ok")
