"""The example third-party plugin `examples/seqkit-mingru`, installed and used for real.

The end-to-end tests pip-install the example into a temporary directory and drive the
real `seqkit` command in subprocesses, so the plugin is found exactly as a user's would
be: through its `seqkit` entry point, with no in-process registration. The unit tests
load the plugin module straight from its source file.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import torch
from plugin_install import install_plugin

import seqkit
from seqkit._plugins.interfaces import check_cell

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "seqkit-mingru"


# -- end to end: pip install, then the real command -------------------------------------
@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """An environment in which `python -m seqkit` sees the installed example plugin."""
    return install_plugin(EXAMPLE, tmp_path_factory.mktemp("mingru"))


def seqkit_cmd(env: dict[str, str], *args: str) -> str:
    """Run `python -m seqkit ARGS`, require exit status 0, return stdout."""
    proc = subprocess.run(
        [sys.executable, "-m", "seqkit", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"seqkit {' '.join(args)} failed:\n{proc.stderr}"
    return proc.stdout


def test_the_plugins_own_tests_pass_with_seqkit_testing(
    plugin_env: dict[str, str], tmp_path: Path
) -> None:
    tests = tmp_path / "plugin"
    shutil.copytree(EXAMPLE, tests, ignore=shutil.ignore_patterns("__pycache__"))
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=tests,
        env=plugin_env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    passed = int(proc.stdout.strip().splitlines()[-1].split(" passed")[0].split()[-1])
    assert passed >= 20  # one case per check: 11 cell, 7 task, 2 topology


def test_plugins_lists_mingru(plugin_env: dict[str, str]) -> None:
    plugins = {p["name"]: p for p in json.loads(seqkit_cmd(plugin_env, "plugins", "--json"))}
    mingru = plugins["mingru"]
    assert mingru["version"] == "0.1.0"
    assert mingru["distribution"] == "seqkit-mingru"
    assert mingru["status"] == "ok", mingru["error"]
    assert mingru["builtin"] is False
    assert mingru["registers"] == {"cells": ["mingru"], "tasks": ["maxval"]}


def test_list_cells_shows_mingru(plugin_env: dict[str, str]) -> None:
    rows = [line.split() for line in seqkit_cmd(plugin_env, "list", "cells").splitlines()]
    mingru = [row for row in rows if row and row[0] == "mingru"]
    assert mingru and mingru[0][-1] == "[mingru]"


def run_json(env: dict[str, str], out: Path, *args: str) -> dict:
    stdout = seqkit_cmd(env, "run", *args, "--json", "--quiet", "--out", str(out))
    return json.loads(stdout.strip().splitlines()[-1])


def test_mingru_learns_sum(plugin_env: dict[str, str], tmp_path: Path) -> None:
    summary = run_json(plugin_env, tmp_path / "run", "--cell", "mingru", "--task", "sum")
    assert summary["cell"] == "mingru"
    assert summary["versions"]["plugin:mingru"] == "0.1.0"
    assert summary["val_loss"] < 0.05 * summary["chance_loss"], summary


def test_gru_learns_maxval(plugin_env: dict[str, str], tmp_path: Path) -> None:
    summary = run_json(plugin_env, tmp_path / "run", "--cell", "gru", "--task", "maxval")
    assert summary["task"] == "maxval"
    assert summary["topology"] == "many-to-one"
    assert summary["val_loss"] < 0.05 * summary["chance_loss"], summary


# -- unit tests of the plugin's code, in process ----------------------------------------
@pytest.fixture(scope="module")
def mingru_module() -> Iterator[ModuleType]:
    """The example's `seqkit_mingru` package, imported from its source folder (removed
    from sys.path and sys.modules afterwards); its cell and task modules load lazily."""
    sys.path.insert(0, str(EXAMPLE))
    try:
        package = importlib.import_module("seqkit_mingru")
        importlib.import_module("seqkit_mingru.cell")
        yield package
    finally:
        sys.path.remove(str(EXAMPLE))
        for name in [m for m in sys.modules if m.split(".")[0] == "seqkit_mingru"]:
            del sys.modules[name]


def test_the_plugin_module_registers_without_torch() -> None:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import seqkit, seqkit_mingru\n"
        "r = seqkit.load_registry([seqkit_mingru], entry_points=False, strict=True)\n"
        "assert r.names('cell') == ['mingru'] and 'torch' not in sys.modules\n"
        "r.get('cell', 'mingru').factory(2, 3)\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(EXAMPLE)], capture_output=True, text=True, timeout=120
    )
    assert out.stdout.strip() == "True", out.stderr  # torch only once a cell is built


@pytest.mark.parametrize("num_layers", [1, 2])
def test_forward_equals_step_loop(mingru_module: ModuleType, num_layers: int) -> None:
    torch.manual_seed(0)
    b, t, d, h = 3, 7, 2, 5
    cell = mingru_module.cell.mingru(d, h, num_layers=num_layers).double()
    check_cell(cell, "mingru")
    x = torch.randn(b, t, d, dtype=torch.float64)
    for state0 in (None, tuple(torch.randn(b, h, dtype=torch.float64) for _ in range(num_layers))):
        out, state = cell(x, state0)
        steps, s = [], state0
        for i in range(t):
            h_t, s = cell.step(x[:, i], s)
            steps.append(h_t)
        torch.testing.assert_close(out, torch.stack(steps, dim=1), rtol=0, atol=1e-10)
        for a, c in zip(state, s, strict=True):
            torch.testing.assert_close(a, c, rtol=0, atol=1e-10)
        torch.testing.assert_close(out[:, -1], state[-1], rtol=0, atol=0)


def test_mingru_shapes_two_layers(mingru_module: ModuleType) -> None:
    cell = mingru_module.cell.mingru(3, 4, num_layers=2)
    assert (cell.input_size, cell.hidden_size, cell.output_size, cell.num_directions) == (
        3,
        4,
        4,
        1,
    )
    out, state = cell(torch.randn(2, 6, 3))
    assert out.shape == (2, 6, 4)
    assert len(state) == 2 and all(s.shape == (2, 4) for s in state)
    h_t, state = cell.step(torch.randn(2, 3), state)
    assert h_t.shape == (2, 4)
    assert len(state) == 2 and all(s.shape == (2, 4) for s in state)


def test_mingru_equations(mingru_module: ModuleType) -> None:
    """One step by hand: h_t = (1 - z) h + z h~, z = sigmoid(W_z x + b_z), h~ = W_h x + b_h."""
    cell = mingru_module.cell.mingru(2, 3).double()
    layer = cell.layers[0]
    x, h = torch.randn(4, 2, dtype=torch.float64), torch.randn(4, 3, dtype=torch.float64)
    z = torch.sigmoid(x @ layer.linear_z.weight.T + layer.linear_z.bias)
    h_tilde = x @ layer.linear_h.weight.T + layer.linear_h.bias
    h_t, _ = cell.step(x, (h,))
    torch.testing.assert_close(h_t, (1 - z) * h + z * h_tilde)


def test_registers_through_public_hooks(mingru_module: ModuleType) -> None:
    registry = seqkit.load_registry([mingru_module], entry_points=False, strict=True)
    assert registry.names("cell") == ["mingru"] and registry.names("task") == ["maxval"]
    assert registry.get("cell", "mingru").options["num_layers"].default == 1
    task = seqkit.get_task("maxval", registry=registry, seq_len=5)
    x = task.inputs(64, torch.Generator().manual_seed(0), torch.device("cpu"))
    assert x.shape == (64, 5, 1) and x.min() >= 0 and x.max() <= 20
    y = task.targets(x)
    assert y.shape == (64, 1, 1)
    torch.testing.assert_close(y[:, 0, 0], x[:, :, 0].max(dim=1).values)
    with pytest.raises(seqkit.ConfigError):
        seqkit.get_task("maxval", registry=registry, low=5, high=1)
