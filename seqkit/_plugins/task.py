"""What a task is: its sizes (`IOSpec`), its kind, and the `Task` base class a task plugin
subclasses (how to make inputs, the answer rule, loss, metrics, the chance level, how an
example prints)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from seqkit._core.fmt import CHANCE_RULE
from seqkit._core.options import Option, sample_options
from seqkit._core.seeds import TEST_SEED_OFFSET, VAL_SEED_OFFSET
from seqkit._plugins import objectives

if TYPE_CHECKING:  # torch is imported when data are made, not when plugins register
    import torch
    from torch import Tensor

TaskKind = Literal["regression", "classification", "binary"]
SplitName = Literal["train", "val", "test"]
SPLIT_SEED_OFFSETS: dict[str, int] = {"train": 0, "val": VAL_SEED_OFFSET, "test": TEST_SEED_OFFSET}
"""Where a synthetic task's splits draw from: the run's seed plus this offset."""


@dataclass(frozen=True)
class IOSpec:
    """What a topology must map: `(B, input_len, input_size)` -> `(B, output_len, output_size)`.

    A length of None is "any": the topology checks only what is known.
    """

    input_size: int
    output_size: int
    input_len: int | None = None
    output_len: int | None = None
    input_tokens: bool = False
    """True: inputs are token ids `(B, T_in, 1)` int64 in `0..input_size - 1`, which the
    model one-hot encodes before its cells (they see `input_size` channels). A character
    model's data then stay ids, not a `(N, T, vocabulary)` float array."""
    padded_inputs: bool = False
    """True: sequences have different lengths, padded to `input_len` with NaN inputs after
    each one's end (and unscored targets there). The model reads each length and its
    topology and cells take `lengths` (see `seqkit._model.padding`); float inputs only."""


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
    partial_targets: ClassVar[bool] = False
    """True: some targets are not scored (`seqkit.IGNORE` for classification, NaN for
    regression and binary): positions the task does not ask about, or padded steps. The
    loss, the metrics and the chance level always skip such targets; with this set,
    truncated BPTT also skips a chunk that scores nothing (checking costs a device sync
    per chunk, which a task that scores every position need not pay)."""
    fresh_data: ClassVar[bool] = False
    """True: the trainer draws a new training set every epoch (the literature's recipe for
    the long-range tasks), so a network cannot memorise a fixed set."""
    chance_rule: ClassVar[str] = CHANCE_RULE
    """What `chance_loss` is, in words, as a run's summary prints it."""
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

    # -- the data a run trains, selects and is scored on --------------------------------
    def split(self, which: SplitName, seed: int, device: torch.device) -> tuple[Tensor, Tensor]:
        """The run's `which` set `(X, Y)` on `device`. A synthetic task draws it from a
        stream of its own (the seed plus `SPLIT_SEED_OFFSETS[which]`): `num_samples`
        training sequences, `val_samples` for validation and for the test. A data-backed
        task (`DataTask`) returns its fixed split whatever the seed."""
        import torch

        n = self.num_samples if which == "train" else self.val_samples
        generator = torch.Generator(device=device).manual_seed(seed + SPLIT_SEED_OFFSETS[which])
        return self.generate(n, generator, device)

    def examples(self) -> tuple[Tensor, Tensor]:
        """The probe inputs `(P, T_in, D)` whose predictions a run prints, with their answers."""
        x = self.probes()
        return x, self.targets(x)

    def answers(self, x: Tensor) -> Tensor | None:
        """The answers to inputs a user gives (`predict`); None for a task with no rule."""
        return self.targets(x)

    def data_bytes(self) -> int:
        """The memory the training and validation sets will take (checked before a run
        makes them): float32 inputs and targets at the declared sizes, int64 ids for
        token inputs and class targets."""
        io = self.io
        inputs = (io.input_len or 1) * (8 if io.input_tokens else io.input_size * 4)
        targets = (io.output_len or 1) * (
            8 if self.kind == "classification" else io.output_size * 4
        )
        return (self.num_samples + self.val_samples) * (inputs + targets)

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
        """`out (B, T_out, K)`, targets -> the mean loss over the scored targets, a 0-dim
        tensor."""
        return objectives.loss(self.kind, out, y, masked=self.partial_targets)

    def scored(self, y: Tensor) -> Tensor:
        """Which of the targets `y` are scored (bool, `y`'s shape); see `partial_targets`."""
        return objectives.scored(self.kind, y)

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
        return objectives.metrics(self.kind, out, y, masked=self.partial_targets)

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

    def format_example(self, x: Tensor, pred: Tensor, answer: Tensor | None) -> str:
        """One probe as a line: `Input: 2.0 -> Output: 3.98 (answer 4.0)`; `answer` is
        None for an input a user gave to a task with no answer rule (a data-backed task).

        Inputs longer than 12 steps are summarised by their shape."""
        shown = _fmt(x) if x.shape[0] <= 12 else f"sequence {tuple(x.shape)}"
        known = "" if answer is None else f" (answer {_fmt(answer)})"
        return f"Input: {shown} -> Output: {_fmt(pred)}{known}"

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
        mask = self.scored(answer)
        return bool(pred.to(answer.dtype)[mask].equal(answer[mask]))


def _fmt(t: Tensor) -> str:
    """A tensor as the notebook prints it: `2`, `[2, 4, 6]`, `[[1, 2], [3, 4]]`."""
    if t.dim() > 0 and t.shape[-1] == 1:
        t = t.squeeze(-1)
    if t.dim() == 0 or t.numel() == 1:
        v = t.flatten()[0].item()
        return f"{v:.2f}".rstrip("0").rstrip(".") if isinstance(v, float) else str(v)
    return "[" + ", ".join(_fmt(row) for row in t) + "]"
