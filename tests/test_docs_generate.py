"""docs/generate.py: generated blocks get their commands' real output, and the check
fails when a command no longer runs or its output's structure changed."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("docs_generate", ROOT / "docs" / "generate.py")
assert spec and spec.loader
generate = importlib.util.module_from_spec(spec)
sys.modules["docs_generate"] = generate
spec.loader.exec_module(generate)

PAGE = """# A page

<!-- generate -->
```
$ printf 'loss 0.25\\nrun directory: runs/x-20261201-101010\\n'
stale text
```

Between.

<!-- generate exit=3 -->
```
$ echo 'Error: bad value' && exit 3
```

<!-- generate -->
```
>>> 1 + 2
>>> for i in range(2):
...     print(i * 10)
>>> int("x")
```
"""


def write(tmp_path: Path, text: str = PAGE) -> Path:
    page = tmp_path / "page.md"
    page.write_text(text)
    return page


def test_generating_writes_each_commands_output_under_it(tmp_path):
    page = write(tmp_path)
    assert generate.main([str(page)]) == 0
    text = page.read_text()
    assert "stale text" not in text
    assert "$ printf 'loss 0.25\\nrun directory: runs/x-20261201-101010\\n'\nloss 0.25\n" in text
    assert "$ echo 'Error: bad value' && exit 3\nError: bad value\n```" in text
    assert ">>> 1 + 2\n3\n>>> for i in range(2):\n...     print(i * 10)\n0\n10\n" in text
    assert '>>> int("x")\nTraceback (most recent call last):\n  ...\nValueError: invalid' in text
    assert "<!-- generate exit=3 -->" in text and "Between." in text
    assert generate.main(["--check", str(page)]) == 0  # a generated page checks clean


def test_the_check_ignores_digits_but_not_structure(tmp_path):
    page = write(tmp_path)
    generate.main([str(page)])
    generated = page.read_text()
    shown = "\nloss 0.25\n"  # the output line, not the command
    page.write_text(generated.replace(shown, "\nloss 1.5e-05\n"))
    assert generate.main(["--check", str(page)]) == 0
    changed = generated.replace(shown, "\nval loss 0.25\n")
    page.write_text(changed)
    assert generate.main(["--check", str(page)]) == 1
    assert page.read_text() == changed  # the check rewrites nothing


def test_a_command_that_fails_fails_the_check_and_leaves_the_page(tmp_path, capsys):
    text = PAGE.replace("exit 3", "exit 4")
    page = write(tmp_path, text)
    assert generate.main(["--check", str(page)]) == 1
    assert "exited 4, the page expects 3" in capsys.readouterr().err
    assert generate.main([str(page)]) == 1
    assert page.read_text() == text


def test_expensive_blocks_run_only_with_all(tmp_path):
    page = write(tmp_path, "<!-- generate expensive -->\n```\n$ echo ran\nold\n```\n")
    assert generate.main(["--check", str(page)]) == 0  # skipped: "old" is not compared
    assert generate.main(["--all", "--check", str(page)]) == 1
    assert generate.main(["--all", str(page)]) == 0
    assert "$ echo ran\nran\n" in page.read_text()


def test_machine_dependent_blocks_are_generated_but_not_checked(tmp_path):
    page = write(tmp_path, "<!-- generate machine -->\n```\n$ echo ran\nold\n```\n")
    assert generate.main(["--check", str(page)]) == 0  # "old" is not compared
    assert generate.main([str(page)]) == 0
    assert "$ echo ran\nran\n" in page.read_text()


def test_head_and_keep_show_part_of_the_output():
    options = generate.Options.parse("head=2", "here")
    assert generate.shape(["a", "b", "c"], options) == ["a", "b", "..."]
    options = generate.Options.parse("keep='^  loss'", "here")
    assert generate.shape(["x", "  loss 1", "y", "z"], options) == ["...", "  loss 1", "..."]


def test_a_bad_marker_option_names_the_allowed_ones():
    with pytest.raises(generate.DocError, match=r"here: unknown marker option 'fast'; allowed"):
        generate.Options.parse("fast", "here")


def test_an_output_block_without_a_marker_is_reported(tmp_path, capsys):
    page = write(tmp_path, "```\n$ seqkit list\ncells\n```\n\n```sh\n$ seqkit list\n```\n")
    assert generate.main(["--list", str(page)]) == 0
    err = capsys.readouterr().err
    assert f"{page}:1: shows output but has no <!-- generate --> marker" in err
    assert ":6:" not in err  # a command alone shows no output


def test_the_structure_is_the_text_with_numbers_as_hashes():
    assert generate.structure(["  val loss   7.258e-05  (0.00022% of chance)"]) == [
        "val loss # (#% of chance)"
    ]
    assert generate.structure(["runs/sum-gru-20261127-153012, 1,761 parameters"]) == [
        "runs/sum-gru-#-#, # parameters"
    ]
