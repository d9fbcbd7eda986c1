"""`seqkit run`: train one model and print what it learned."""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from seqkit._cli.config_options import (
    RunSettingsCommand,
    config_from_options,
    config_options,
    given_settings,
    was_given,
)
from seqkit._cli.process import collected_after
from seqkit._core import files
from seqkit._core.errors import ConfigError, Interrupted, WorkerFailed
from seqkit._plugins.interfaces import Callback, TrainState
from seqkit._present.text import run_summary
from seqkit._run import rundir
from seqkit._run.rundir import read_run_config
from seqkit._train import distributed
from seqkit._train.progress import BarProgress, PlainProgress

if TYPE_CHECKING:  # imported when a run starts, so that --help needs no torch
    from seqkit._present.drawing import Drawer
    from seqkit._run.plan import Plan
    from seqkit._run.runner import RunResult

RUN_ONLY = {"out", "overwrite"}
"""Flags of `run`, besides the run settings, that `--resume` takes from the run itself."""


@click.command("run", cls=RunSettingsCommand)
@config_options
@click.option(
    "--resume",
    "resume_dir",
    type=click.Path(path_type=Path),
    help="Continue the run in this directory from its checkpoint.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Run directory [default: runs/<task>-<cell>-<time>].",
)
@click.option("--overwrite", is_flag=True, help="Reuse an --out directory that holds files.")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@click.option(
    "--nproc",
    type=click.IntRange(min=1, max=1024),
    help="Start N worker processes on this machine through torchrun (a distributed trainer).",
)
@click.option(
    "--log-every",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Epochs between progress lines when not on a terminal.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the closing summary as one JSON object on stdout.",
)
def run_cmd(resume_dir: Path | None, **kw: Any) -> None:
    """Train CELL on TASK, show progress, print a summary and example predictions."""
    with collected_after():
        from seqkit._present.drawing import Drawer
        from seqkit._run.plan import plan
        from seqkit._run.runner import default_run_dir, execute, resume

    every = kw["log_every"]
    progress = None if kw["quiet"] else (lambda chance: _progress(every, chance))
    interrupt = SignalStop()
    if resume_dir is not None:
        ctx = click.get_current_context()
        given = given_settings(ctx) + [
            p.opts[0] for p in ctx.command.params if p.name in RUN_ONLY and was_given(ctx, p.name)
        ]
        if given:
            raise ConfigError(
                f"--resume continues a run with its own settings; drop {', '.join(given)}"
            )
        if kw["nproc"] and not distributed.launched():
            where = f"--resume {resume_dir}"
            saved = plan(read_run_config(resume_dir, where, kw["data_changed"]), resuming=True)
            launch_workers(kw["nproc"], saved, resume_dir)
            return
        with interrupt.installed(), Drawer() as drawer:
            result = resume(
                resume_dir,
                callbacks=[interrupt],
                progress=progress,
                drawer=drawer,
                data_changed=kw["data_changed"],
            )
            finish(result, kw["as_json"], drawer)
    else:
        config = config_from_options(kw)
        the_plan = plan(config)  # every check, before anything is written
        out = kw["out"] or default_run_dir(the_plan.config)
        if kw["nproc"] and not distributed.launched():
            rundir.check_out_dir(out, kw["overwrite"])  # rank 0's worker holds it, below
            pin = [] if kw["out"] else ["--out", str(out)]  # one directory for every worker
            launch_workers(kw["nproc"], the_plan, out, pin)
            return
        # Rank 0 alone writes (holding the directory) and draws; the others pass no drawer.
        main = distributed.is_main()
        with (
            rundir.claimed(out, kw["overwrite"]) if main else nullcontext(),
            interrupt.installed(),
            Drawer() if main else nullcontext() as drawer,
        ):
            result = execute(the_plan, out, [interrupt], progress=progress, drawer=drawer)
            finish(result, kw["as_json"], drawer)


def finish(result: RunResult, as_json: bool, drawer: Drawer | None) -> None:
    """The summary, printed while the run's plots are drawn; returns when they are."""
    if not distributed.is_main():
        return
    if as_json:
        click.echo(json.dumps(result.summary(), default=str))
    else:
        print_summary(result)
    sys.stdout.flush()
    if drawer is not None:
        drawer.wait()
    if result.run_dir is not None and not as_json:
        click.echo(f"report: {result.run_dir / files.REPORT}")


def check_nproc(nproc: int, device: Any) -> None:
    """Refuse more workers than the machine has for them: GPUs for a CUDA run, usable
    cores for a CPU run (more processes than cores only wait for each other)."""
    import torch

    from seqkit._core.config import usable_cores

    if device.type == "cuda":
        have, what = torch.cuda.device_count(), "CUDA device(s)"
    else:
        have, what = usable_cores(), "usable CPU core(s)"
    if nproc > have:
        raise ConfigError(
            f"--nproc {nproc}: this machine has {have} {what}; use --nproc {have} or fewer"
        )


def launch_workers(nproc: int, the_plan: Plan, out: Path, extra: Sequence[str] = ()) -> None:
    """Run this same command (plus `extra` arguments) in `nproc` workers through
    torch.distributed.run (torchrun); each worker sees torchrun's environment and trains
    its share, and rank 0 writes `out`. The trainer must declare `distributed = True`."""
    from seqkit._run.plan import is_distributed, use_distributed

    if not is_distributed(the_plan.trainer):
        raise ConfigError(
            f"--nproc starts torchrun workers: {use_distributed(the_plan.registry)} "
            f"(trainer '{the_plan.config.trainer}' trains alone)"
        )
    if len(sys.argv) < 2 or sys.argv[1] != "run":
        raise ConfigError("--nproc works from the seqkit command line; from Python use torchrun")
    check_nproc(nproc, the_plan.device)
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import main as torchrun

    try:
        args = ["--standalone", f"--nproc_per_node={nproc}", "-m", "seqkit"]
        torchrun([*args, *without_nproc(sys.argv[1:]), *extra])
    except SignalException as exc:  # Ctrl-C or SIGTERM: torchrun has stopped the workers
        name = signal.Signals(exc.sigval).name
        click.echo(
            f"Error: the {nproc}-process run was stopped by {name}; resume with: "
            f"seqkit run --resume {out} --nproc {nproc}",
            err=True,
        )
        sys.exit(128 + exc.sigval)
    except ChildFailedError as exc:
        rank, failure = exc.get_first_failure()
        how = (
            f"was killed by {failure.signal_name()}"
            if failure.exitcode < 0
            else f"exited with code {failure.exitcode}"
        )
        where = f"rank {rank} {how}"
        raise WorkerFailed(
            f"the {nproc}-process run stopped: {where} (its error is above)"
        ) from None


def without_nproc(argv: list[str]) -> list[str]:
    """`argv` less `--nproc N` / `--nproc=N` (the workers are the N processes)."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--nproc":
            skip = True
        elif not arg.startswith("--nproc="):
            out.append(arg)
    return out


class SignalStop(Callback):
    """On SIGINT or SIGTERM, stop at the next step; the CLI then exits 130 or 143.

    A second signal of the same kind acts at once (the handler is restored first)."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def handle(self, signum: int, frame: Any) -> None:
        self.signum = signum
        if distributed.launched():
            # A torchrun worker gets Ctrl-C from the terminal and again from torchrun's
            # agent: the second must not kill it mid-collective (the agent itself ends
            # workers that do not stop in time).
            return
        signal.signal(
            signum, signal.SIG_DFL if signum == signal.SIGTERM else signal.default_int_handler
        )

    def on_step_end(self, state: TrainState) -> None:
        if self.signum is not None:
            state.interrupt = f"was interrupted by {signal.Signals(self.signum).name}"

    @contextmanager
    def installed(self) -> Iterator[None]:
        previous = {s: signal.signal(s, self.handle) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        except Interrupted as exc:
            if distributed.is_main():
                click.echo(f"Error: {exc}", err=True)
            sys.exit(128 + (self.signum or signal.SIGINT))
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)


def _progress(every: int, chance: float) -> Callback:
    return BarProgress(chance) if sys.stderr.isatty() else PlainProgress(every, chance)


def print_summary(result: RunResult) -> None:
    c = result.config
    for line in run_summary(result.summary(), (c.cell, c.topology or "", c.task)):
        click.secho(line.text, bold=line.bold)
    if result.run_dir:
        click.echo(f"run directory: {result.run_dir}")
