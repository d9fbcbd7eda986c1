"""The contracts between the core and plugins: cells, topologies, tasks, trainers,
executors and suites.

Shapes, batch first everywhere: inputs `(B, T_in, D)`, model outputs `(B, T_out, K)`,
targets `(B, T_out, K)` for regression and binary tasks, `(B, T_out)` int64 for
classification.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, runtime_checkable

from seqkit._core.config import RunConfig
from seqkit._core.errors import PluginError
from seqkit._core.options import Option, sample_options
from seqkit._plugins import objectives

if TYPE_CHECKING:  # torch is imported when a model is built, not when plugins register
    import torch
    from torch import Tensor, nn

State = Any
"""A cell's recurrent state: opaque to everyone but the cell (LSTM: `(h, c)`)."""

TaskKind = Literal["regression", "classification", "binary"]


@runtime_checkable
class Cell(Protocol):
    """A recurrent layer (stack). Built by a factory `(input_size, hidden_size, **options)`.

    `output_size` is `H_out`: `hidden_size * num_directions`. A bidirectional cell lays
    its outputs out as `[forward | backward]` halves on the last axis, as torch does.
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


@dataclass(frozen=True)
class IOSpec:
    """What a topology must map: `(B, input_len, input_size)` -> `(B, output_len, output_size)`.

    A length of None is "any": the topology checks only what is known.
    """

    input_size: int
    output_size: int
    input_len: int | None = None
    output_len: int | None = None


TopologyFactory = Callable[..., "nn.Module"]
"""`factory(make_cell, io: IOSpec, **options) -> nn.Module`; raises ConfigError if it
cannot serve `io` (say, one-to-one for a sequence output), naming the reason."""


class Task:
    """A synthetic task: how to make inputs, the answer rule, loss, metrics and baseline.

    Subclass it, set the class attributes, declare `options` and implement `inputs` and
    `targets`. The registered factory is the class; it is called with every declared
    option resolved.
    """

    name: ClassVar[str] = "task"
    kind: ClassVar[TaskKind] = "regression"
    default_topology: str | None = None
    """The topology a run uses unless `--topology` is given: the task's plugin names it
    (an instance may set it from its options, as `parity` with `running=true` does)."""
    headline_metric: ClassVar[str | None] = None
    """The metric (a key of `metrics()`, without `val_`) that comparisons report beside the
    loss; None: the kind's own, `accuracy` for classification and binary, `mae` for
    regression."""
    fresh_data: ClassVar[bool] = False
    """True: the trainer draws a new training set every epoch (the literature's recipe for
    the long-range tasks), so a network cannot memorise a fixed set."""
    solved_rule: ClassVar[str] = ""
    """What `solved` checks, in words (e.g. "MSE < 0.01")."""
    categorical_inputs: ClassVar[tuple[int, ...] | Literal["all"]] = ()
    """Input channels that are symbols, markers or bits (one-hot, 0/1): standardisation
    (`normalize`) leaves them as they are and standardises the rest.
    `"all"` for a task whose every channel is categorical."""
    evaluable: ClassVar[tuple[str, ...]] = ()
    """Options that may differ between training and evaluation: `("seq_len",)` lets
    `compare --eval-task-opt seq_len=100,200` score a model trained at one length at
    others (length generalisation). Only options that keep the input and output sizes."""
    ranges: ClassVar[Mapping[str, tuple[float, float]]] = {}
    """Where `loss` (`"loss"`) and each metric (its name in `metrics()`) lie, where the
    defaults are not right: `{"recalled": (0, 1)}`. Intervals over seeds are kept inside
    it. The defaults: the kind's loss >= 0 (unbounded for a task that overrides `loss`),
    `accuracy` in [0, 1], `mae` >= 0, any other metric unbounded. `math.inf` is an open end."""
    defaults: ClassVar[Mapping[str, Any]] = {}
    """Default hyper-parameters: any of hidden_size, epochs, lr, batch_size, optimizer,
    normalize (False: train on raw inputs and targets, as a task's source does)."""
    options: ClassVar[Mapping[str, Option]] = sample_options(1000, 500)
    """Declared options; extend with `{**sample_options(n, val), "seq_len": Option(...)}`."""

    def __init__(self, **options: Any) -> None:
        self.opts: dict[str, Any] = dict(options)
        self.num_samples: int = options.get("num_samples", 1000)
        self.val_samples: int = options.get("val_samples", 500)

    # -- what every task must define -------------------------------------------------
    @property
    def io(self) -> IOSpec:
        """Input and output sizes and lengths."""
        raise NotImplementedError

    def inputs(self, n: int, generator: torch.Generator, device: torch.device) -> Tensor:
        """`n` random inputs `(n, T_in, D)`, drawn from `generator` (on `device`)."""
        raise NotImplementedError

    def targets(self, x: Tensor) -> Tensor:
        """The answer rule: inputs `(B, T_in, D)` -> targets (see the shape convention)."""
        raise NotImplementedError

    # -- sensible defaults by kind ---------------------------------------------------
    def generate(
        self, n: int, generator: torch.Generator, device: torch.device
    ) -> tuple[Tensor, Tensor]:
        x = self.inputs(n, generator, device)
        return x, self.targets(x)

    def probes(self) -> Tensor:
        """Fixed inputs `(P, T_in, D)` whose predictions the summary prints."""
        import torch

        g = torch.Generator().manual_seed(1234)
        return self.inputs(3, g, torch.device("cpu"))

    def loss(self, out: Tensor, y: Tensor) -> Tensor:
        """`out (B, T_out, K)`, targets -> the mean loss, a 0-dim tensor."""
        return objectives.loss(self.kind, out, y)

    @property
    def loss_name(self) -> str:
        """What `loss` computes, as `seqkit explain` prints it (`MSE`, `cross-entropy`,
        `BCE-with-logits`)."""
        return objectives.LOSS_NAMES[self.kind]

    @property
    def main_metric(self) -> str:
        """The metric comparisons report: `headline_metric`, else the kind's own."""
        return self.headline_metric or objectives.HEADLINE_METRICS[self.kind]

    def metrics(self, out: Tensor, y: Tensor) -> dict[str, Tensor]:
        """Metric tensors (0-dim) for a batch; averaged over batches by the trainer."""
        return objectives.metrics(self.kind, out, y)

    def value_range(self, name: str) -> tuple[float, float]:
        """Where `name` (`"loss"`, or a metric without `val_`) lies: `ranges`, else the
        defaults (see `ranges`)."""
        if name in self.ranges:
            low, high = self.ranges[name]
            return float(low), float(high)
        if name == "loss":
            built_in = type(self).loss is Task.loss
            return objectives.LOSS_RANGE if built_in else objectives.UNBOUNDED
        return objectives.METRIC_RANGES.get(name, objectives.UNBOUNDED)

    def chance_loss(self, y: Tensor) -> float:
        """Loss of the best input-blind predictor on targets `y`."""
        return objectives.chance_loss(self.kind, y)

    def predict(self, out: Tensor) -> Tensor:
        """Model outputs -> predictions in the targets' form."""
        return objectives.predict(self.kind, out)

    def format_example(self, x: Tensor, pred: Tensor, answer: Tensor) -> str:
        """One probe as a line: `Input: 2.0 -> Output: 3.98 (answer 4.0)`.

        Inputs longer than 12 steps are summarised by their shape."""
        shown = _fmt(x) if x.shape[0] <= 12 else f"sequence {tuple(x.shape)}"
        return f"Input: {shown} -> Output: {_fmt(pred)} (answer {_fmt(answer)})"

    def solved(self, metrics: dict[str, float]) -> bool | None:
        """Whether final metrics (`val_...`) meet the task's success criterion; None: no rule."""
        return None

    @property
    def reference_losses(self) -> dict[str, float]:
        """Named loss levels drawn on loss plots besides chance (adding: the 1/12 plateau)."""
        return {}

    def is_correct(self, pred: Tensor, answer: Tensor) -> bool | None:
        """Whether a probe's prediction counts as right; None when the task has no rule."""
        if self.kind == "regression":
            return None
        return bool(pred.to(answer.dtype).equal(answer))


def _fmt(t: Tensor) -> str:
    """A tensor as the notebook prints it: `2`, `[2, 4, 6]`, `[[1, 2], [3, 4]]`."""
    if t.dim() > 0 and t.shape[-1] == 1:
        t = t.squeeze(-1)
    if t.dim() == 0 or t.numel() == 1:
        v = t.flatten()[0].item()
        return f"{v:.2f}".rstrip("0").rstrip(".") if isinstance(v, float) else str(v)
    return "[" + ", ".join(_fmt(row) for row in t) + "]"


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
