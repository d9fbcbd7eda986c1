"""The `seqkit` command group, its error handling, and plugin-added commands."""

from __future__ import annotations

import sys
import warnings
from typing import Any

import click

from seqkit import __version__
from seqkit._cli.check_cmd import check_cmd
from seqkit._cli.compare_cmd import compare_cmd
from seqkit._cli.explain_cmd import explain_cmd
from seqkit._cli.gradients_cmd import gradients_cmd
from seqkit._cli.listing import describe_cmd, list_cmd, plugins_cmd
from seqkit._cli.new_cmd import new_cmd
from seqkit._cli.predict_cmd import predict_cmd
from seqkit._cli.report_cmd import report_cmd
from seqkit._cli.run_cmd import run_cmd
from seqkit._cli.suite_cmd import suite_cmd
from seqkit._errors import NonFiniteError, SeqkitError, WorkerFailed

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
        except WorkerFailed as exc:  # not bad input: a worker process died or raised
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


def _error(message: str) -> None:
    """`Error: MESSAGE` on stderr, on one line whatever the message holds."""
    one_line = " ".join(line.strip() for line in message.splitlines() if line.strip())
    click.echo(f"Error: {one_line}", err=True)


def _usage_message(exc: click.UsageError) -> str:
    where = exc.ctx.command_path if exc.ctx is not None else "seqkit"
    return f"{exc.format_message()} (see '{where} --help')"


@click.group(cls=SeqkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="seqkit")
def cli() -> None:
    """Train, compare and understand recurrent sequence models (RNN, LSTM, GRU).

    \b
    seqkit run --cell gru --task sum                    train, print a summary
    seqkit run --resume runs/sum-gru-...                continue a stopped run
    seqkit predict runs/sum-gru-... --input 2,4,6,8,10,11
    seqkit report runs/sum-gru-...                      rebuild its report.html
    seqkit explain --cell lstm --task sum               shapes, batch to loss
    seqkit gradients --cells rnn,lstm,gru --task adding see gradients vanish
    seqkit compare --cells rnn,gru --task recall --task-opt seq_len=10,40 --seeds 3
    seqkit suite long-range --cells rnn,lstm,gru        the long-range leaderboard
    seqkit list -v | seqkit plugins                     what is installed, every option
    seqkit describe lstm                                one name and its options
    seqkit check --all                                  plugins against their contracts
    seqkit new plugin indrnn                            a plugin package to start from
    """


cli.add_command(run_cmd)
cli.add_command(list_cmd)
cli.add_command(describe_cmd)
cli.add_command(plugins_cmd)
cli.add_command(explain_cmd)
cli.add_command(gradients_cmd)
cli.add_command(compare_cmd)
cli.add_command(suite_cmd)
cli.add_command(predict_cmd)
cli.add_command(report_cmd)
cli.add_command(check_cmd)
cli.add_command(new_cmd)


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
    """Entry point of the `seqkit` script and `python -m seqkit`."""
    warnings.showwarning = _one_line_warning
    from seqkit._registry import get_registry

    try:
        get_registry().add_commands(cli)
    except SeqkitError as exc:  # strict plugin mode
        _error(str(exc))
        sys.exit(EXIT_USAGE)
    cli.main(args=argv, prog_name="seqkit")
