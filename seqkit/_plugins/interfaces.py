"""The contracts between the core and plugins: cells, topologies, tasks, trainers,
executors and suites.

Shapes, batch first everywhere: inputs `(B, T_in, D)`, model outputs `(B, T_out, K)`,
targets `(B, T_out, K)` for regression and binary tasks, `(B, T_out)` int64 for
classification.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from seqkit._core.config import RunConfig
from seqkit._core.errors import PluginError
from seqkit._plugins.task import Task

if TYPE_CHECKING:  # torch is imported when a model is built, not when plugins register
    import torch
    from torch import Tensor, nn

State = Any
"""A cell's recurrent state: opaque to everyone but the cell (LSTM: `(h, c)`)."""


@runtime_checkable
class Cell(Protocol):
    """A recurrent layer (stack). Built by a factory `(input_size, hidden_size, **options)`.

    `output_size` is `H_out`: `hidden_size * num_directions`. A bidirectional cell lays
    its outputs out as `[forward | backward]` halves on the last axis, as torch does.
    A cell that reads padded batches (sequences of different lengths) also takes
    `forward(x, state=None, lengths=None)`, `lengths (B,)` each sequence's real steps
    (see docs/plugins.md, "Sequences of different lengths").
    """

    input_size: int
    hidden_size: int
    output_size: int
    num_directions: int

    def forward(self, x: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """`x (B, T, D)` -> `outputs (B, T, H_out)`, final state."""
        ...

    def step(self, x_t: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """One time step: `x_t (B, D)` -> `h_t (B, H_out)`, new state."""
        ...


CellFactory = Callable[..., "nn.Module"]
"""`factory(input_size, hidden_size, **options) -> Cell`."""
MakeCell = Callable[[int], "nn.Module"]
"""`make_cell(input_size)`: a cell with the run's hidden size and cell options bound."""


# -- what a cell may also offer (each found with isinstance) -------------------------------
@runtime_checkable
class NamedStateParts(Protocol):
    """A cell that names the pieces of its state for the gradient probe and its plots.

    Without it the probe names them `state0[1]`, `state1[1]`, ... by position."""

    headline_part: str
    """The part the probe reports as `h_t` (the top layer's h: `"h"`, `"h2"`)."""

    def state_parts(self, state: State) -> dict[str, Tensor]:
        """The state as named `(B, H)` pieces: `{"h": ..., "c": ...}` (per layer `h1`, `h2`)."""
        ...


@runtime_checkable
class RecurrentMatrices(Protocol):
    """A cell whose recurrent matrices the probe records (spectral radius, top singular value)."""

    def recurrent_matrices(self) -> dict[str, Tensor]:
        """Each recurrent matrix by name, one `(H, H)` block per gate
        (`{"weight_hh_l0[f]": ...}`)."""
        ...


@runtime_checkable
class ForgetGates(Protocol):
    """A gated cell whose keep (forget) gate the probe records over t."""

    def forget_gates(self, x: Tensor) -> Tensor | None:
        """`x (B, T, D)` -> the first layer's batch-mean keep gate at each step `(T,)`, or
        None when the cell has no such gate."""
        ...


@runtime_checkable
class Equations(Protocol):
    """A cell that shows its per-step equations in `seqkit explain`."""

    def equations(self, batch_size: int) -> list[str]:
        """One line per equation, with the shape of each term for this batch size."""
        ...


@runtime_checkable
class Constrained(Protocol):
    """A module (a cell, or any part of a model) whose parameters must stay in a set: the
    trainer calls `constrain()` after every optimizer step, under `torch.no_grad()`.
    IndRNN, for one, clips its recurrent weights to `|u| <= u_max`."""

    def constrain(self) -> None:
        """Project the parameters back into their allowed set, in place."""
        ...


# -- what a topology may also offer -----------------------------------------------------
ChunkTargets = Literal["aligned", "last"]


@runtime_checkable
class ChunkedTopology(Protocol):
    """A topology that can be trained with truncated BPTT (`--tbptt K`).

    `chunk_targets` says where its targets are: `"aligned"` (one output per input step,
    every chunk has a loss) or `"last"` (one output after the whole sequence: only the
    last chunk has a loss). None: it cannot be trained in chunks."""

    chunk_targets: ChunkTargets | None

    def forward_chunk(self, x: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """`x (B, K, D)` read from `state` -> `(out, state)`: `out (B, K, K_out)` when aligned,
        `(B, 1, K_out)`, the prediction after the chunk, when last."""
        ...


CELL_ATTRIBUTES = ("input_size", "hidden_size", "output_size", "num_directions")
CELL_METHODS = ("forward", "step")


def missing_cell_members(cell: object) -> list[str]:
    """The Cell contract's attributes and methods that `cell` lacks."""
    missing = [a for a in CELL_ATTRIBUTES if not hasattr(cell, a)]
    return missing + [m for m in CELL_METHODS if not callable(getattr(cell, m, None))]


def check_cell(cell: object, owner: str) -> None:
    """Raise PluginError naming `owner` if `cell` does not satisfy the Cell contract."""
    from torch import nn

    missing = missing_cell_members(cell)
    if not isinstance(cell, nn.Module) or missing:
        what = ", ".join(missing) if missing else "it is not a torch.nn.Module"
        raise PluginError(
            f"cell '{owner}' does not satisfy the Cell contract: missing {what} "
            "(see docs/plugins.md)"
        )


TopologyFactory = Callable[..., "nn.Module"]
"""`factory(make_cell, io: IOSpec, **options) -> nn.Module`; raises ConfigError if it
cannot serve `io` (say, one-to-one for a sequence output), naming the reason."""


@dataclass
class Data:
    """Training and held-out validation tensors, on the run's device."""

    train_x: Tensor
    train_y: Tensor
    val_x: Tensor
    val_y: Tensor
    resample: Callable[[int], tuple[Tensor, Tensor]] | None = None
    """For tasks with fresh data: `resample(epoch)` draws that epoch's training set."""
    generator: torch.Generator | None = None
    """The training stream `resample` draws from (saved in checkpoints)."""


@dataclass
class History:
    """What a trainer returns: one record per epoch, and why it stopped early if it did."""

    epochs: list[dict[str, float]] = field(default_factory=list)
    stopped: str | None = None
    non_finite: bool = False
    """True when training stopped because the loss became NaN or infinite."""
    interrupted: bool = False
    """True when `TrainState.interrupt` stopped training mid-epoch."""

    @property
    def last(self) -> dict[str, float]:
        return self.epochs[-1] if self.epochs else {}


@dataclass
class TrainState:
    """What callbacks see at each event."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    task: Task
    config: RunConfig
    """The run's resolved configuration (every default filled in by `plan`)."""
    history: History
    epochs: int
    steps_per_epoch: int | None = None
    epoch: int = 0
    step: int = 0
    loss: Tensor | None = None
    """The last step's loss, on the device: reading it (`.item()`) forces a sync."""
    grad_norm: Tensor | None = None
    """The last step's global gradient norm before clipping, on the device; computed when
    clipping is on or a callback sets `track_grad_norm` in `on_fit_start`."""
    track_grad_norm: bool = False
    schedule: Any = None
    """The learning-rate scheduler, if any (saved in checkpoints)."""
    generator: torch.Generator | None = None
    """The trainer's shuffling stream (saved in checkpoints)."""
    scaler: Any = None
    """The fp16 gradient scaler, if any (saved in checkpoints)."""
    interrupt: str | None = None
    """Set (by a signal handler) to stop at the next step; the epoch is abandoned."""
    stop: str | None = None
    """Set by a callback to end training after the current epoch, with the reason."""


class Callback:
    """Attach to trainer events by overriding any of these; each gets the TrainState."""

    def on_fit_start(self, state: TrainState) -> None: ...
    def on_epoch_start(self, state: TrainState) -> None: ...
    def on_step_start(self, state: TrainState) -> None: ...
    def on_step_end(self, state: TrainState) -> None: ...
    def on_epoch_end(self, state: TrainState, record: dict[str, float]) -> None: ...
    def on_fit_end(self, state: TrainState) -> None: ...


class Resume(Protocol):
    """What a trainer is handed to continue a stopped run (`seqkit.Checkpoint` is one):
    the number of epochs it finished, and its training part to restore into the state."""

    epoch: int

    def restore_training(self, state: TrainState) -> None: ...


@runtime_checkable
class Trainer(Protocol):
    """Built by a factory `(**options)`; `fit` trains `model` in place and returns its
    History, calling each callback's events. `seqkit.LoopTrainer` is the core's loop:
    subclass or compose it rather than writing one from scratch.

    `resume`, when given, is the checkpoint of a stopped run: restore the training state
    from it (`resume.restore_training(state)`) and continue after its last epoch. A trainer
    may also offer `ChecksSettings` and `RunsDistributed`.
    """

    def fit(
        self,
        model: nn.Module,
        data: Data,
        task: Task,
        config: RunConfig,
        callbacks: list[Callback],
        resume: Resume | None = None,
    ) -> History: ...


@runtime_checkable
class ChecksSettings(Protocol):
    """A trainer that refuses settings it cannot honour, before anything is written."""

    def check(self, config: RunConfig) -> None:
        """Raise ConfigError naming the setting and what is allowed."""
        ...


@runtime_checkable
class RunsDistributed(Protocol):
    """A trainer that runs as one of torchrun's processes when `distributed` is True
    (`seqkit run --nproc N` starts them; rank 0 alone writes)."""

    distributed: bool


class Executor(Protocol):
    """Runs a comparison's independent jobs somewhere: this process, worker processes, a
    cluster. Built by a factory `(jobs, **options)`; `jobs` is how many run at once
    where the executor decides that (a cluster may decide itself).

    `map(fn, items)` calls the module-level function `fn` once per item and yields
    `(index, result)` as each call finishes, in any order. A call that raised, or whose
    worker died (after whatever retries the executor makes), yields `(index, exception)`
    and the others go on: nothing finished is lost. `close()` releases what the executor
    started (worker processes, a local cluster).

    An executor that runs the calls one at a time in this process says so with
    `in_process = True`: its runs keep their own thread settings and may use a registry
    object; every other executor's runs get one CPU thread each.
    """

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[tuple[int, Any]]: ...

    def close(self) -> None: ...
