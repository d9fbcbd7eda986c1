"""Resource limits: refuse a run whose data or training step cannot fit in memory.

The check runs while planning, before anything is allocated or written, so a request
for terabytes ends in one clear error instead of the kernel's OOM killer or a traceback
from deep inside torch.
"""

from __future__ import annotations

from dataclasses import dataclass

from seqkit._core.config import RunConfig
from seqkit._core.errors import ConfigError
from seqkit._core.memory import HEADROOM, available_memory, size
from seqkit._plugins.task import Task

FLOAT_BYTES = 4
"""float32: the data, the activations and the parameters."""
FLOATS_PER_HIDDEN_STEP = 12
"""Floats a gated cell keeps per hidden unit and step for the backward pass (the gates'
pre-activations and activations, the cell and hidden states, their nonlinearities)."""
FLOATS_PER_PARAMETER = 4
"""The weight, its gradient and Adam's two moments."""


@dataclass(frozen=True)
class Estimate:
    """Bytes a run needs, by what holds them."""

    data: int
    activations: int
    parameters: int = 0

    @property
    def total(self) -> int:
        return self.data + self.activations + self.parameters


def estimate(config: RunConfig, task: Task, parameters: int | None = None) -> Estimate:
    """What a run with the resolved `config` on `task` needs, roughly and from above.

    Assumptions: inputs `(N, T_in, D)` and targets `(N, T_out, K)` are float32, token
    inputs and class targets int64 ids `(N, T)`, for the training and validation sets
    together (`Task.data_bytes`); one training step keeps FLOATS_PER_HIDDEN_STEP floats
    per hidden unit and step for every sample of the batch, over the longer of the input
    and output sequence (or --tbptt K steps, the chunk backpropagated at once), per layer
    and direction (`num_layers`, `bidirectional` in cell_options), plus the batch's
    outputs and, for token inputs, the one-hot inputs the model makes of them;
    `parameters`, if given, count FLOATS_PER_PARAMETER floats each. Not counted: the
    allocator's slack, temporaries while the data are generated, a task with fresh data
    holding two training sets for a moment, and torch itself. The data and the step live
    on the run's device; this estimate is checked against the host's memory only. With a
    config whose hidden size is not yet resolved (None), only the data are counted.
    """
    return Estimate(
        data_bytes(task),
        step_bytes(config, task),
        (parameters or 0) * FLOATS_PER_PARAMETER * FLOAT_BYTES,
    )


def data_bytes(task: Task) -> int:
    """The training and validation sets' inputs and targets (`Task.data_bytes`)."""
    return task.data_bytes()


def step_bytes(config: RunConfig, task: Task) -> int:
    """What one training step keeps for its backward pass (see `estimate`); 0 before the
    hidden size is resolved."""
    if config.hidden_size is None:
        return 0
    io = task.io
    t_out = io.output_len or 1
    steps = max(io.input_len or 1, t_out)
    if config.tbptt:
        steps = min(steps, config.tbptt)
    stacks = _layers(config.cell_options) * (2 if config.cell_options.get("bidirectional") else 1)
    per_sample = (
        steps * config.hidden_size * FLOATS_PER_HIDDEN_STEP * stacks + t_out * io.output_size
    )
    if io.input_tokens:  # the one-hot inputs the model makes of the ids
        per_sample += steps * io.input_size
    return min(config.batch_size or 1, task.num_samples) * per_sample * FLOAT_BYTES


def _layers(cell_options: dict[str, object]) -> int:
    """The cell's `num_layers` option, 1 when it has none (or not an integer)."""
    layers = cell_options.get("num_layers", 1)
    return layers if isinstance(layers, int) and not isinstance(layers, bool) and layers > 0 else 1


def check_memory(config: RunConfig, task: Task, parameters: int | None = None) -> None:
    """Raise ConfigError when the run's estimate (see `estimate`) exceeds HEADROOM of the
    available memory, naming both; skip the check when the memory cannot be read."""
    available = available_memory()
    if available is None:
        return
    need = estimate(config, task, parameters)
    if need.total <= HEADROOM * available:
        return
    parts = f"data {size(need.data)}"
    if need.activations:
        parts += f", one step's activations {size(need.activations)}"
    if need.parameters:
        parts += f", parameters with gradients and optimizer state {size(need.parameters)}"
    raise ConfigError(
        f"the run does not fit in memory: it needs about {size(need.total)} ({parts}) but "
        f"this machine has {size(available)} available (free memory, or what the "
        f"process's cgroup or `ulimit -v` leaves of it); {advice(need)}"
    )


def advice(need: Estimate) -> str:
    """What to make smaller, for the largest part of the estimate."""
    if need.data >= max(need.activations, need.parameters):
        return (
            "use fewer --task-opt num_samples / val_samples or shorter sequences "
            "(--task-opt seq_len)"
        )
    if need.activations >= need.parameters:
        return "use a smaller --batch-size or --hidden-size, or --tbptt K"
    return "use a smaller --hidden-size"
