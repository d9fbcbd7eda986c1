"""Run every example shown with its output in the docs, and write the output into the page.

A block is generated when the line just before its opening fence is a marker:

    <!-- generate -->
    ```
    $ seqkit run --cell rnn --task toy
    (everything down to the next `$ ` line or the closing fence is output)
    ```

The marker is an HTML comment, so it does not show on the site. Inside the block:

- a line starting with `$ ` is a shell command (run with bash in a scratch directory);
  a command ending in `\\` continues on the next line. Everything up to the next `$ `
  line or the closing fence is its output, stderr and stdout together, as a terminal
  that is not a tty shows them (so progress is a line every `--log-every` epochs).
- a line starting with `>>> ` is Python (continued by `... ` lines), run as the
  interactive interpreter would: the lines that follow, up to the next `>>> `, are what
  it prints (the repr of an expression, print output, or the last line of a traceback).
  Each block is a fresh interpreter.
- a block may hold several commands or statements; each one's output follows it.

Options go in the marker, separated by spaces (shell quoting for values with spaces):

    <!-- generate expensive -->              CI skips it (minutes, not seconds)
    <!-- generate machine -->                its output depends on the CPU or GPU it ran
                                             on (a kernel one processor lacks): --check
                                             skips it; the page says which machine
    <!-- generate exit=2 -->                 the commands are expected to exit 2
    <!-- generate head=3 -->                 keep the first 3 lines of each output, then `...`
    <!-- generate keep='^  loss:' -->        keep only lines matching the regex, `...`
                                             where lines were left out
    <!-- generate timeout=600 -->            seconds per command (default 300)
    <!-- generate setup='mkdir d; touch d/f' -->  a shell command run first, not shown
                                             (it must exit 0)

Every block of a page runs in document order in one scratch directory for that page
(so `--out DIR` of one command can be read by the next); the repository root is `$REPO`
there. An English page and its Korean version (`page.ko.md`) hold the same blocks with
the same markers: each distinct command runs once and both pages get its output.

Usage (from the repository root):

    python docs/generate.py                 # rerun the cheap blocks, rewrite the pages
    python docs/generate.py --all           # ... and the expensive ones
    python docs/generate.py --check         # rerun the cheap blocks, rewrite nothing, fail if
                                            # a command fails or its output's structure
                                            # differs from the page (CI runs this)
    python docs/generate.py --list          # every block, its page, line and cost
    python docs/generate.py docs/tutorial.md    # only these pages
    python docs/generate.py --all --match 'gradients'   # only blocks whose commands match

The check compares structure, not digits: every number (losses, times, counts, the
time stamp in a run directory's name) becomes `#` and runs of spaces become one, then
the lines must be equal. A block that shows output but carries no marker is reported.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
MARKER = re.compile(r"^<!--\s*generate(?P<options>(\s[^>]*)?)\s*-->\s*$")
FENCE = re.compile(r"^(?P<fence>```+|~~~+)")
# A number not glued to a word (so `fp16` and `weight_ih_l0` stay as they are): digits
# with thousands commas, a fraction and an exponent; a sign unless it follows a word.
NUMBER = re.compile(
    r"(?<!\w)(?:(?<![\w)])[-+])?(?:\d{1,3}(?:,\d{3})+|\d+|(?=\.\d))(?:\.\d+)?(?:[eE][-+]?\d+)?"
)
DEFAULT_TIMEOUT = 300


def shown(page: Path) -> str:
    """A page's path as messages name it: from the repository root when it is inside."""
    return str(page.relative_to(ROOT)) if page.is_relative_to(ROOT) else str(page)


class DocError(Exception):
    """A page that cannot be parsed, or a marker with an unknown option."""


@dataclass
class Options:
    expensive: bool = False
    machine: bool = False
    exit: int = 0
    head: int | None = None
    keep: str | None = None
    timeout: int = DEFAULT_TIMEOUT
    setup: str | None = None

    @classmethod
    def parse(cls, text: str, where: str) -> Options:
        options = cls()
        for word in shlex.split(text):
            key, eq, value = word.partition("=")
            if key in ("expensive", "machine") and not eq:
                setattr(options, key, True)
            elif key in ("exit", "head", "timeout") and eq and value.isdigit():
                setattr(options, key, int(value))
            elif key == "keep" and eq:
                re.compile(value)
                options.keep = value
            elif key == "setup" and eq:
                options.setup = value
            else:
                raise DocError(
                    f"{where}: unknown marker option {word!r}; allowed: expensive, machine, "
                    "exit=N, head=N, keep=REGEX, timeout=S, setup=COMMAND"
                )
        return options


@dataclass
class Example:
    """One command (`$ `) or statement (`>>> `) and the output shown under it."""

    prompt: str  # "$" or ">>>"
    source: list[str]  # the lines as written, prompts included
    output: list[str]

    @property
    def code(self) -> str:
        strip = 2 if self.prompt == "$" else 4
        lines = [line[strip:] for line in self.source]
        if self.prompt == "$":
            return "\n".join(lines)
        return "\n".join(lines) + "\n"


@dataclass
class Block:
    page: Path
    line: int  # 1-based line of the marker
    options: Options
    start: int  # index of the first line inside the fence
    end: int  # index of the closing fence
    examples: list[Example] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{shown(self.page)}:{self.line}"


def parse_examples(lines: list[str], where: str) -> list[Example]:
    examples: list[Example] = []
    for line in lines:
        if line.startswith("$ "):
            examples.append(Example("$", [line], []))
        elif line.startswith(">>> "):
            examples.append(Example(">>>", [line], []))
        elif not examples:
            raise DocError(f"{where}: a generated block must start with a `$ ` or `>>> ` line")
        elif continues(examples[-1], line):
            examples[-1].source.append(line)
        else:
            examples[-1].output.append(line)
    for example in examples:
        while example.output and not example.output[-1].strip():
            example.output.pop()
    return examples


def continues(example: Example, line: str) -> bool:
    """Whether `line` is more of `example`'s source: after a `\\`, or a `... ` line."""
    if example.output:
        return False
    if example.prompt == "$":
        return example.source[-1].endswith("\\")
    return line.startswith("... ")


def parse_page(page: Path) -> tuple[list[str], list[Block], list[int]]:
    """The page's lines, its generated blocks, and the lines of unmarked output blocks."""
    lines = page.read_text().split("\n")
    blocks, unmarked = [], []
    i = 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        close = next(
            (j for j in range(i + 1, len(lines)) if lines[j].strip() == fence["fence"]), None
        )
        if close is None:
            raise DocError(f"{shown(page)}:{i + 1}: a fence that never closes")
        marker = MARKER.match(lines[i - 1]) if i else None
        if marker:
            where = f"{shown(page)}:{i}"
            block = Block(page, i, Options.parse(marker["options"], where), i + 1, close)
            block.examples = parse_examples(lines[i + 1 : close], where)
            blocks.append(block)
        elif shows_output(lines[i + 1 : close]):
            unmarked.append(i + 1)
        i = close + 1
    return lines, blocks, unmarked


def shows_output(body: list[str]) -> bool:
    """Whether a block holds a prompt followed by something that is not another prompt."""
    prompted = False
    for line in body:
        if line.startswith(("$ ", ">>> ")):
            prompted = True
        elif prompted and line.strip() and not line.startswith(("... ", "  ", "#")):
            return True
    return False


# -- running ----------------------------------------------------------------------------
def run_shell(command: str, cwd: Path, timeout: int) -> tuple[int, list[str]]:
    env = dict(os.environ, REPO=str(ROOT), PYTHONUNBUFFERED="1", COLUMNS="100")
    env.pop("FORCE_COLOR", None)
    try:
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return 124, [f"(timed out after {timeout} s)"]
    return done.returncode, done.stdout.rstrip("\n").split("\n") if done.stdout.strip() else []


def run_python(statements: list[str], cwd: Path, timeout: int) -> tuple[int, list[list[str]]]:
    """Each statement's printed lines, run in order in one fresh interpreter."""
    env = dict(os.environ, REPO=str(ROOT), PYTHONUNBUFFERED="1")
    try:
        done = subprocess.run(
            [sys.executable, __file__, "--python-session"],
            cwd=cwd,
            env=env,
            input=json.dumps(statements),
            capture_output=True,
            text=True,
            timeout=timeout * max(1, len(statements)),
        )
    except subprocess.TimeoutExpired:
        return 124, [[f"(timed out after {timeout} s)"]]
    if done.returncode:
        return done.returncode, [done.stderr.rstrip("\n").split("\n")]
    return 0, json.loads(done.stdout)


def python_session() -> None:
    """Run the statements on stdin (a JSON list) as the REPL would; print each one's output."""
    namespace: dict[str, object] = {"__name__": "__main__"}
    outputs = []
    for source in json.loads(sys.stdin.read()):
        captured = io.StringIO()
        with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
            try:
                exec(compile(source, "<docs>", "single"), namespace)
            except Exception as error:
                print("Traceback (most recent call last):\n  ...")
                print(traceback.format_exception_only(error)[-1], end="")
        text = captured.getvalue().rstrip("\n")
        outputs.append(text.split("\n") if text else [])
    print(json.dumps(outputs))


def shape(output: list[str], options: Options) -> list[str]:
    """The lines of `output` the page shows: all, the first `head`, or those matching `keep`."""
    if options.head is not None and len(output) > options.head:
        return [*output[: options.head], "..."]
    if options.keep is None:
        return output
    shown: list[str] = []
    for line in output:
        if re.search(options.keep, line):
            shown.append(line)
        elif not shown or shown[-1] != "...":
            shown.append("...")
    return shown


class Runner:
    """Runs blocks, once per distinct example, in a scratch directory per page."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.cache: dict[tuple[str, ...], list[list[str]]] = {}

    def outputs(self, block: Block) -> list[list[str]]:
        """Each example's output as the page should show it; DocError if a command failed."""
        cwd = self.scratch / block.page.name.split(".")[0]
        cwd.mkdir(exist_ok=True)
        if block.options.setup:
            status, output = run_shell(block.options.setup, cwd, block.options.timeout)
            if status:
                failed = "\n".join(output[-15:])
                raise DocError(f"{block.where}: setup exited {status}:\n{failed}")
        if block.examples[0].prompt == "$":
            return [shape(self.shell(block, e.code, cwd), block.options) for e in block.examples]
        key = ("python", *(e.code for e in block.examples))
        if key not in self.cache:
            status, printed = run_python(
                [e.code for e in block.examples], cwd, block.options.timeout
            )
            if status:
                failed = "\n".join(printed[0])
                raise DocError(f"{block.where}: the Python session failed:\n{failed}")
            self.cache[key] = printed
        return [shape(lines, block.options) for lines in self.cache[key]]

    def shell(self, block: Block, command: str, cwd: Path) -> list[str]:
        key = ("shell", str(cwd), command)
        if key not in self.cache:
            status, output = run_shell(command, cwd, block.options.timeout)
            if status != block.options.exit:
                raise DocError(
                    f"{block.where}: `{command}` exited {status}, the page expects "
                    f"{block.options.exit}:\n" + "\n".join(output[-15:])
                )
            self.cache[key] = [output]
        return self.cache[key][0]


# -- comparing and writing --------------------------------------------------------------
def structure(lines: list[str]) -> list[str]:
    """The lines with every number as `#` and runs of spaces as one: what the check compares."""
    return [" ".join(NUMBER.sub("#", line).split()) for line in lines]


def render(block: Block, outputs: list[list[str]]) -> list[str]:
    body: list[str] = []
    previous: list[str] = []
    for example, output in zip(block.examples, outputs, strict=True):
        if example.prompt == "$" and previous:  # a blank line after each command's output
            body.append("")
        body.extend(example.source)
        body.extend(output)
        previous = output
    return body


def differences(block: Block, outputs: list[list[str]]) -> list[str]:
    found = []
    for example, output in zip(block.examples, outputs, strict=True):
        shown, fresh = structure(example.output), structure(output)
        if shown != fresh:
            first = next(
                (i for i, pair in enumerate(zip(shown, fresh, strict=False)) if pair[0] != pair[1]),
                min(len(shown), len(fresh)),
            )
            page_line = example.output[first] if first < len(example.output) else "(no line)"
            run_line = output[first] if first < len(output) else "(no line)"
            found.append(
                f"{block.where}: `{example.code}`: output line {first + 1} changed\n"
                f"    page: {page_line}\n    now:  {run_line}"
            )
    return found


def pages(paths: list[str]) -> list[Path]:
    if paths:
        return [Path(p).resolve() for p in paths]
    return sorted(DOCS.glob("*.md"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("pages", nargs="*", help="pages to process (default: docs/*.md)")
    parser.add_argument("--check", action="store_true", help="compare, rewrite nothing")
    parser.add_argument("--all", action="store_true", help="include the expensive blocks")
    parser.add_argument("--list", action="store_true", help="list the blocks and stop")
    parser.add_argument("--match", metavar="REGEX", help="only blocks whose commands match")
    parser.add_argument("--python-session", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.python_session:
        python_session()
        return 0
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="seqkit-docs-") as scratch:
        runner = Runner(Path(scratch))
        for page in pages(args.pages):
            try:
                failures += process(page, runner, args)
            except DocError as error:
                failures.append(str(error))
    for failure in failures:
        print(failure, file=sys.stderr)
    return 1 if failures else 0


def process(page: Path, runner: Runner, args: argparse.Namespace) -> list[str]:
    lines, blocks, unmarked = parse_page(page)
    name = shown(page)
    for line in unmarked:
        print(f"{name}:{line}: shows output but has no <!-- generate --> marker", file=sys.stderr)
    if args.list:
        for block in blocks:
            cost = "expensive" if block.options.expensive else "cheap"
            print(f"{block.where}  {cost:9}  {block.examples[0].code.splitlines()[0]}")
        return []
    failures: list[str] = []
    fresh: list[tuple[Block, list[list[str]]]] = []
    for block in blocks:  # in document order: a block may read what an earlier one wrote
        if block.options.expensive and not args.all:
            continue
        if block.options.machine and args.check:  # another processor prints otherwise
            continue
        if args.match and not any(re.search(args.match, e.code) for e in block.examples):
            continue
        print(f"{block.where}: {block.examples[0].code.splitlines()[0]}", file=sys.stderr)
        try:
            outputs = runner.outputs(block)
        except DocError as error:
            failures.append(str(error))
            continue
        if args.check:
            failures += differences(block, outputs)
        fresh.append((block, outputs))
    for block, outputs in reversed(fresh):  # from the end, so earlier indices stay valid
        lines[block.start : block.end] = render(block, outputs)
    if not args.check and not failures:
        page.write_text("\n".join(lines))
    return failures


if __name__ == "__main__":
    sys.exit(main())
