"""The `seqkit` command group, its error handling, and plugin-added commands.

The built-in commands are listed in `COMMANDS` with the summary `seqkit --help` shows;
a command's module (and what it imports) is loaded only when that command runs or its
own help is asked for, as in click's lazy-loading group pattern."""

from __future__ import annotations

import importlib
import sys
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import click

from seqkit._core.errors import NonFiniteError, SeqkitError, WorkerFailed, WriteFailed
from seqkit._core.lifetime import end_with_parent
from seqkit._train import host
from seqkit._version import __version__

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem

EXIT_USAGE = 2
EXIT_NON_FINITE = 3
EXIT_FAILED = 1


class SeqkitGroup(click.Group):
    """Turns seqkit's own errors and click's usage errors into one line on stderr and a
    non-zero exit (click's own form adds the usage and a hint: four lines)."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as exc:  # `seqkit --bogus`
            _error(_usage_message(exc))
            raise click.exceptions.Exit(exc.exit_code) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NonFiniteError as exc:
            _error(str(exc))
            ctx.exit(EXIT_NON_FINITE)
        except (WorkerFailed, WriteFailed) as exc:  # not bad input: a worker or the disk failed
            _error(str(exc))
            ctx.exit(EXIT_FAILED)
        except SeqkitError as exc:
            _error(str(exc))
            ctx.exit(EXIT_USAGE)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as exc:  # an unknown command, a bad flag or value
            _error(_usage_message(exc))
            ctx.exit(exc.exit_code)


COMMANDS: dict[str, tuple[str, str]] = {
    "run": (
        "seqkit._cli.run_cmd:run_cmd",
        "Train CELL on TASK, show progress, print a summary and example predictions.",
    ),
    "list": (
        "seqkit._cli.listing:list_cmd",
        "List cells, topologies, tasks and trainers (or just WHAT) with their plugins.",
    ),
    "describe": (
        "seqkit._cli.listing:describe_cmd",
        "What NAME is (a cell, topology, task or trainer), who provides it, and every "
        "option it takes: help, type, default, choices and bounds.",
    ),
    "plugins": (
        "seqkit._cli.listing:plugins_cmd",
        "Loaded plugins: distribution, version, status and what each registers.",
    ),
    "explain": (
        "seqkit._cli.explain_cmd:explain_cmd",
        "Show each stage from the input batch to the loss with its tensor shapes, the "
        "parameters, and the cell's per-step equations, for the sizes of this run.",
    ),
    "gradients": (
        "seqkit._cli.gradients_cmd:gradients_cmd",
        "Measure ||dL/dh_t|| at every step, at initialisation and after training, for each "
        "cell; draw them in one plot (dashed: init, solid: trained) and print the table.",
    ),
    "compare": (
        "seqkit._cli.compare_cmd:compare_cmd",
        "Run every cell at every grid point with several seeds. Any run flag or plugin "
        "option given several values is an axis (`--lr 1e-3,1e-2`, `--task-opt "
        "seq_len=10,30`); print loss and metric (mean ± 95% interval over seeds), solved k/n "
        "with its interval, the median steps to solve, parameters and hidden size. Each "
        "finished run is kept as it completes: `--resume DIR` goes on after a crash.",
    ),
    "suite": (
        "seqkit._cli.suite_cmd:suite_cmd",
        "Run suite NAME (`long-range`: the classic memory tasks at the papers' lengths and "
        "budgets) for --cells, each entry a comparison with --seeds seeds, and write its "
        "leaderboard: leaderboard.md, .csv, .json and .html. `seqkit list suites` lists them.",
    ),
    "tune": (
        "seqkit._cli.tune_cmd:tune_cmd",
        "Tune a run's settings with Optuna: each trial trains --seeds runs at once, its "
        "objective the mean validation loss (test is never seen), pruned by the mean at "
        "each epoch. Prints a line per trial, the best, and writes best.toml, which "
        "`seqkit run --config` trains again, and report.html.",
    ),
    "predict": (
        "seqkit._cli.predict_cmd:predict_cmd",
        "Load RUN_DIR's model and print its predictions in the task's own format.",
    ),
    "export": (
        "seqkit._cli.export_cmd:export_cmd",
        "Export RUN_DIR's model (standardisation in, outputs in the task's units) as one "
        "ONNX or TorchScript file that runs without seqkit, with a model card MODEL.md "
        "beside it.",
    ),
    "sample": (
        "seqkit._cli.sample_cmd:sample_cmd",
        "Draw text from RUN_DIR's model (a run on the text task), after --prime.",
    ),
    "report": (
        "seqkit._cli.report_cmd:report_cmd",
        "Draw the plots of the run (or comparison) in DIRECTORY again and write its "
        "report.html: one self-contained page, plots embedded, nothing fetched.",
    ),
    "check": (
        "seqkit._cli.check_cmd:check_cmd",
        "Check NAMES (or a --plugin's names, or --all) against their contracts: one line "
        "per check, passed, failed with the reason, or skipped. Exit 1 if any failed.",
    ),
    "new": ("seqkit._cli.new_cmd:new_cmd", "Start something new from a template."),
}
"""Each built-in command: where it is defined, and the start of its help (the listing's
summary; a test checks it against the command's own)."""


NO_SUCH_COMMAND: Any = getattr(click.exceptions, "NoSuchCommand", ())
"""click's error for an unknown command, which suggests the nearest (click 8.4 and later;
before, a plain usage error without suggestions)."""


class LazyGroup(SeqkitGroup):
    """A group whose built-in commands are imported when one is used, not to list them.

    Commands added with `add_command` (a plugin's) are kept as click keeps them and take
    precedence over a built-in of the same name, as they did when every command was added.
    """

    def __init__(self, *args: Any, lazy: Mapping[str, tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy)
        self._loaded: dict[str, click.Command] = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.lazy, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands or cmd_name not in self.lazy:
            return self.commands.get(cmd_name)
        if cmd_name not in self._loaded:
            module, _, attribute = self.lazy[cmd_name][0].partition(":")
            command = getattr(importlib.import_module(module), attribute)
            if not isinstance(command, click.Command):
                raise TypeError(f"{module}:{attribute} is not a click command")
            self._loaded[cmd_name] = command
        return self._loaded[cmd_name]

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """click's, with its did-you-mean for an unknown command (click 8.4 and later)
        drawn from every command, not only those in `commands`."""
        try:
            return super().resolve_command(ctx, args)
        except NO_SUCH_COMMAND as exc:
            raise type(exc)(
                exc.command_name, possibilities=self.list_commands(ctx), ctx=ctx
            ) from None

    def listed(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command as a listing shows it: a built-in not imported yet is a stand-in
        that carries its name and summary."""
        if cmd_name in self.commands or cmd_name in self._loaded or cmd_name not in self.lazy:
            return self.get_command(ctx, cmd_name)
        return click.Command(cmd_name, help=self.lazy[cmd_name][1])

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """click's listing of the commands, from `listed` (no command module imported)."""
        shown = [
            (name, cmd)
            for name in self.list_commands(ctx)
            if (cmd := self.listed(ctx, name)) is not None and not cmd.hidden
        ]
        if shown:
            limit = formatter.width - 6 - max(len(name) for name, _ in shown)
            with formatter.section("Commands"):
                formatter.write_dl([(name, cmd.get_short_help_str(limit)) for name, cmd in shown])

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[CompletionItem]:
        """click's completion of command names (with their summaries), from `listed`."""
        from click.shell_completion import CompletionItem

        commands = [
            CompletionItem(name, help=cmd.get_short_help_str())
            for name in self.list_commands(ctx)
            if name.startswith(incomplete)
            and (cmd := self.listed(ctx, name)) is not None
            and not cmd.hidden
        ]
        return commands + click.Command.shell_complete(self, ctx, incomplete)


def _error(message: str) -> None:
    """`Error: MESSAGE` on stderr, on one line whatever the message holds."""
    one_line = " ".join(line.strip() for line in message.splitlines() if line.strip())
    click.echo(f"Error: {one_line}", err=True)


def _usage_message(exc: click.UsageError) -> str:
    where = exc.ctx.command_path if exc.ctx is not None else "seqkit"
    return f"{exc.format_message()} (see '{where} --help')"


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="seqkit")
def cli() -> None:
    """Train, compare and understand recurrent sequence models (RNN, LSTM, GRU).

    \b
    seqkit run --cell gru --task sum                    train, print a summary
    seqkit run --resume runs/sum-gru-...                continue a stopped run
    seqkit predict runs/sum-gru-... --input 2,4,6,8,10,11
    seqkit report runs/sum-gru-...                      rebuild its report.html
    seqkit export runs/sum-gru-... --format onnx        a file that runs without seqkit
    seqkit run --cell lstm --task text --task-opt path=novel.txt --out novel
    seqkit sample novel --prime "It was" --length 300   text from your own text
    seqkit explain --cell lstm --task sum               shapes, batch to loss
    seqkit gradients --cells rnn,lstm,gru --task adding see gradients vanish
    seqkit compare --cells rnn,gru --task recall --task-opt seq_len=10,40 --seeds 3
    seqkit suite long-range --cells rnn,lstm,gru        the long-range leaderboard
    seqkit list -v | seqkit plugins                     what is installed, every option
    seqkit describe lstm                                one name and its options
    seqkit check --all                                  plugins against their contracts
    seqkit new plugin indrnn                            a plugin package to start from
    """
    # The command owns the process while it runs: process-wide speed-ups (glibc's heap,
    # subnormal flushing) apply to its runs, not to a library caller's (_train.host).
    click.get_current_context().with_resource(host.owned())


def _one_line_warning(
    message: Any,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    print(f"seqkit: warning: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `seqkit` script and `python -m seqkit`; it ends by raising
    SystemExit, as click's commands do."""
    warnings.showwarning = _one_line_warning
    from seqkit._cli import process
    from seqkit._plugins.registry import get_registry

    process.owned = True
    end_with_parent()  # a child of a tuning study ends with it

    try:
        get_registry().add_commands(cli)
    except SeqkitError as exc:  # strict plugin mode
        _error(str(exc))
        sys.exit(EXIT_USAGE)
    try:
        cli.main(args=argv, prog_name="seqkit")
    finally:
        process.leave_to_exit()
