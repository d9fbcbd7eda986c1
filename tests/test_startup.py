"""Fast from the first keystroke: commands that do not train never import torch, and shell
completion knows commands, options, names and plugin option keys."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from seqkit._cli import main as main_module
from seqkit._cli.main import COMMANDS, cli

PROBE = """
import sys
sys.argv = ["seqkit", *{args!r}]
from seqkit._cli.main import main
try:
    main()
except SystemExit:
    pass
print("MATPLOTLIB" if "matplotlib" in sys.modules else "NO-MATPLOTLIB", file=sys.stderr)
print("TORCH" if "torch" in sys.modules else "NO-TORCH", file=sys.stderr)
"""


def run_probe(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PROBE.format(args=args)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["--version"],
        ["list"],
        ["list", "cells", "-v"],
        ["list", "--json"],
        ["plugins"],
        ["plugins", "--json"],
        ["describe", "lstm"],
        ["run", "--help"],
        ["explain", "--help"],
        ["gradients", "--help"],
        ["compare", "--help"],
        ["predict", "--help"],
        ["export", "--help"],
        ["report", "--help"],
        ["check", "--help"],
        ["new", "plugin", "--help"],
    ],
    ids=" ".join,
)
def test_commands_that_do_not_train_never_import_torch(args):
    proc = run_probe(args)
    assert proc.stderr.strip().splitlines()[-1] == "NO-TORCH", proc.stderr
    assert proc.stdout  # and they answered


def test_the_probe_sees_torch_when_a_command_needs_it(tmp_path):
    proc = run_probe(["explain", "--cell", "gru", "--task", "sum"])
    assert "stages (each module call" in proc.stdout
    assert proc.stderr.strip().splitlines()[-2:] == ["NO-MATPLOTLIB", "TORCH"]  # draws nothing


def test_importing_the_public_api_and_a_plugins_names_needs_no_torch():
    code = (
        "import sys, seqkit\n"
        "from seqkit import Option, Task, IOSpec, hookimpl, lazy, sample_options\n"
        "r = seqkit.load_registry(strict=True)\n"
        "assert 'gru' in r.names('cell') and r.get('task', 'sum').options['seq_len'].default == 6\n"
        "print('torch' in sys.modules)\n"
        "seqkit.get_task('sum')\n"  # building a task imports its implementation, and torch
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["False", "True"], out.stderr


def complete(words: str, shell: str = "bash") -> list[str]:
    """What `seqkit`'s click completion answers for the command line `words` (the last
    word is the one being completed), as the shell's completion script would ask."""
    parts = words.split(" ")
    proc = run_probe(
        [],
        _SEQKIT_COMPLETE=f"{shell}_complete",
        COMP_WORDS=words,
        COMP_CWORD=str(len(parts) - 1),
    )
    assert proc.stderr.strip().splitlines()[-1] == "NO-TORCH", proc.stderr
    return [line.split(",", 1)[1] for line in proc.stdout.splitlines() if "," in line]


def test_completion_of_commands_and_options():
    assert complete("seqkit ") == [
        "check", "compare", "describe", "explain", "export", "gradients", "list", "new", "plugins",
        "predict", "report", "run", "sample", "suite", "tune",
    ]  # fmt: skip
    assert complete("seqkit run --hid") == ["--hidden-size"]
    assert "--num-layers" in complete("seqkit run --num")  # a cell flag from the registry


def test_completion_of_names():
    assert complete("seqkit run --cell l") == ["lstm"]
    assert complete("seqkit run --cell gru --task s") == ["series", "smnist", "square", "sum"]
    assert complete("seqkit run --topology many") == ["many-to-many", "many-to-one"]
    assert complete("seqkit compare --cells rnn,l") == ["rnn,lstm"]
    assert complete("seqkit suite l") == ["long-range"]


def test_completion_of_plugin_option_keys_and_values():
    assert complete("seqkit run --cell lstm --cell-opt for") == ["forget_bias="]
    assert "forget_bias=" not in complete("seqkit run --cell gru --cell-opt ")
    assert complete("seqkit run --cell gru --cell-opt impl=") == [
        "impl=auto",
        "impl=fused",
        "impl=kernels",
        "impl=scratch",
        "impl=fastest",
    ]
    assert "impl=kernels" not in complete("seqkit run --cell lstm --cell-opt impl=")
    assert complete("seqkit run --threads a") == ["auto"]
    assert complete("seqkit run --cell gru --cell-opt bidirectional=t") == ["bidirectional=true"]
    assert complete("seqkit run --cell gru --task adding --task-opt seq") == ["seq_len="]
    assert complete("seqkit run --topology-opt feed=p") == ["feed=prediction"]


def test_zsh_gets_descriptions():
    proc = run_probe(
        [], _SEQKIT_COMPLETE="zsh_complete", COMP_WORDS="seqkit run --task ad", COMP_CWORD="3"
    )
    assert proc.stdout.splitlines()[:3] == [
        "plain",
        "adding",
        "Adding problem: sum the two marked values of a long sequence (Arjovsky 2016).",
    ]


# -- the lazy command group ----------------------------------------------------------------
MODULES_PROBE = """
import json, sys
sys.argv = ["seqkit", *{args!r}]
from seqkit._cli.main import main
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted(m for m in sys.modules if m.startswith(("seqkit", "importlib.metadata")))),
      file=sys.stderr)
"""


def modules_after(*args: str) -> set[str]:
    """The seqkit and importlib.metadata modules a `seqkit ARGS` process imported."""
    proc = subprocess.run(
        [sys.executable, "-c", MODULES_PROBE.format(args=list(args))],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0 and proc.stdout, proc.stderr
    return set(json.loads(proc.stderr.strip().splitlines()[-1]))


COMMAND_MODULES = {target.partition(":")[0] for target, _ in COMMANDS.values()}


def test_help_imports_no_command_and_list_only_its_own():
    modules_after("--help")  # the entry-point scan, if this sys.path has none cached
    loaded = modules_after("--help")
    assert not loaded & COMMAND_MODULES, loaded & COMMAND_MODULES
    assert "importlib.metadata" not in loaded  # the remembered scan
    assert {"seqkit_plugins.cells", "seqkit._plugins.registry"} <= loaded  # plugins did load
    # The built-in plugins register from light modules: listing them needs neither the
    # task protocol nor RunConfig (and json); a plugin importing them makes --help slower.
    assert not loaded & {"seqkit._plugins.interfaces", "seqkit._core.config"}, loaded
    assert loaded & COMMAND_MODULES == set()
    assert modules_after("list") & COMMAND_MODULES == {"seqkit._cli.listing"}
    assert modules_after("run", "--help") & COMMAND_MODULES == {"seqkit._cli.run_cmd"}


def test_the_table_names_every_command_and_its_own_summary():
    """COMMANDS is the list of what seqkit/_cli defines, and each summary is the first
    paragraph of the command's help (what click's listing shortens)."""
    defined = {}
    for path in sorted(Path(main_module.__file__).parent.glob("*.py")):
        if path.stem == "main":  # the group itself
            continue
        module = importlib.import_module(f"seqkit._cli.{path.stem}")
        commands = {v for v in vars(module).values() if isinstance(v, click.Command)}
        nested = {c for g in commands if isinstance(g, click.Group) for c in g.commands.values()}
        defined |= {
            f"{module.__name__}:{attribute}": c
            for attribute, c in vars(module).items()
            if isinstance(c, click.Command) and c not in nested
        }
    assert sorted(defined) == sorted(target for target, _ in COMMANDS.values())
    for name, (target, summary) in COMMANDS.items():
        command = defined[target]
        assert command.name == name and not command.hidden and command.short_help is None
        assert command.help is not None
        assert command.help.split("\n\n")[0].split() == summary.split(), name


@pytest.mark.parametrize("width", [40, 60, 80, 100, 140])
def test_help_lists_what_an_eager_group_would(width):
    """The listing from the table is click's own listing of the loaded commands."""
    eager = click.Group(
        "seqkit",
        commands={n: cli.get_command(click.Context(cli), n) for n in COMMANDS},
        params=cli.params,
        help=cli.help,
        context_settings=cli.context_settings,
    )
    fresh = type(cli)(
        "seqkit",
        lazy=COMMANDS,
        params=cli.params,
        help=cli.help,
        context_settings=cli.context_settings,
    )  # nothing loaded yet: every row comes from the table
    texts = [
        group.get_help(click.Context(group, info_name="seqkit", terminal_width=width))
        for group in (eager, fresh)
    ]
    assert texts[0] == texts[1]
    assert fresh._loaded == {}  # the listing loaded no command
    assert "Commands:\n  check " in texts[1]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_runs_through_the_lazy_group(name):
    result = CliRunner().invoke(cli, [name, "--help"], prog_name="seqkit")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: seqkit {name} ")


def test_a_plugin_command_is_listed_and_wins_over_a_built_in_of_its_name():
    group = type(cli)("seqkit", lazy=COMMANDS, help=cli.help)

    @group.command("hello")
    def hello() -> None:
        """Say hello from a plugin."""
        click.echo("hello")

    @group.command("report")
    def report() -> None:
        """A plugin's own report."""
        click.echo("theirs")

    listing = CliRunner().invoke(group, ["--help"]).output
    assert "  hello      Say hello from a plugin." in listing
    assert "  report     A plugin's own report." in listing
    assert CliRunner().invoke(group, ["hello"]).output == "hello\n"
    assert CliRunner().invoke(group, ["report"]).output == "theirs\n"
    assert group.list_commands(click.Context(group)) == sorted([*COMMANDS, "hello"])
    for typo, meant in (("helo", "hello"), ("descibe", "describe")):  # either kind
        assert f"Did you mean '{meant}'?" in CliRunner().invoke(group, [typo]).output


def test_completing_a_command_name_imports_no_command():
    proc = subprocess.run(
        [sys.executable, "-c", MODULES_PROBE.format(args=[])],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "_SEQKIT_COMPLETE": "zsh_complete", "COMP_WORDS": "seqkit r",
             "COMP_CWORD": "1"},
    )  # fmt: skip
    summary = {n: click.Command(n, help=COMMANDS[n][1]).get_short_help_str() for n in COMMANDS}
    assert proc.stdout.splitlines() == ["plain", "report", summary["report"], "plain", "run",
                                        summary["run"]]  # fmt: skip
    assert not set(json.loads(proc.stderr.strip().splitlines()[-1])) & COMMAND_MODULES
