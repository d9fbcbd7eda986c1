"""Fast from the first keystroke: commands that do not train never import torch, and shell
completion knows commands, options, names and plugin option keys."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

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
        "check", "compare", "describe", "explain", "gradients", "list", "new", "plugins",
        "predict", "report", "run", "suite",
    ]  # fmt: skip
    assert complete("seqkit run --hid") == ["--hidden-size"]
    assert "--num-layers" in complete("seqkit run --num")  # a cell flag from the registry


def test_completion_of_names():
    assert complete("seqkit run --cell l") == ["lstm"]
    assert complete("seqkit run --cell gru --task s") == ["square", "sum"]
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
