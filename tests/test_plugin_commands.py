"""A third party's `register_commands` command, pip-installed: `seqkit --help` lists it
and it runs, the first time and every time after (the remembered entry-point scan sees a
distribution installed or removed since), and the built-in commands still load lazily."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from plugin_install import install_plugin

PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "seqkit-{name}"
version = "0.0.1"

[project.entry-points.seqkit]
{name} = "seqkit_{name}"

[tool.setuptools]
py-modules = ["seqkit_{name}"]
"""

MODULE = '''\
import click
from seqkit import hookimpl


@hookimpl
def register_commands(cli):
    @cli.command("{name}")
    @click.option("--times", type=int, default=1)
    def command(times):
        """Say {name} from a plugin."""
        click.echo(" ".join(["{name}"] * times))
'''


def plugin_source(root: Path, name: str) -> Path:
    """A distribution `seqkit-NAME` whose plugin adds the command NAME."""
    source = root / f"seqkit-{name}"
    source.mkdir(parents=True)
    (source / "pyproject.toml").write_text(PYPROJECT.format(name=name))
    (source / f"seqkit_{name}.py").write_text(MODULE.format(name=name))
    return source


def seqkit(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "seqkit", *args], env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    return proc


def listed(env: dict[str, str]) -> list[str]:
    """The command names `seqkit --help` lists."""
    text = seqkit(env, "--help").stdout
    rows = text.split("Commands:\n", 1)[1].splitlines()
    return [row.split()[0] for row in rows if row.startswith("  ") and row.split()]


def test_an_installed_plugins_command_is_listed_and_runs_then_and_after(tmp_path):
    env = install_plugin(plugin_source(tmp_path / "a", "hello"), tmp_path / "a")
    first = seqkit(env, "--help").stdout
    assert "  hello      Say hello from a plugin." in first
    assert seqkit(env, "--help").stdout == first  # again, from the remembered scan
    assert seqkit(env, "hello", "--times", "2").stdout == "hello hello\n"
    assert {"run", "list", "compare", "hello"} <= set(listed(env))

    # A second distribution installed beside the first: listed the next time.
    site = tmp_path / "a" / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--no-deps", "--no-build-isolation", "--target", str(site),
         str(plugin_source(tmp_path / "b", "howdy"))],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    assert {"hello", "howdy"} <= set(listed(env))
    assert seqkit(env, "howdy").stdout == "howdy\n"

    # And removed: gone the next time.
    for path in site.glob("seqkit_howdy*"):
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    assert "howdy" not in listed(env) and "hello" in listed(env)
