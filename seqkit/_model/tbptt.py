"""Truncated backpropagation through time: chunks of K steps, the state carried, detached.

A topology that supports it is a `ChunkedTopology`: `forward_chunk(x (B, K, D), state)
-> (out, state)` and `chunk_targets`, either "aligned" (one output per input step, as
many-to-many: every chunk has a loss) or "last" (one output after the whole sequence, as
many-to-one: only the last chunk has a loss, the earlier ones run forward without a
graph). Either way a graph spans at most K steps, so memory does not grow with the
sequence length.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import Tensor, nn

from seqkit._core.errors import ConfigError
from seqkit._model.state import detach
from seqkit._plugins.interfaces import Cell, ChunkedTopology

CHUNK_TARGETS = ("aligned", "last")


def check(model: nn.Module, topology: str) -> None:
    """Raise ConfigError unless `model` can be trained with truncated BPTT."""
    if not isinstance(model, ChunkedTopology) or model.chunk_targets not in CHUNK_TARGETS:
        raise ConfigError(
            f"--tbptt needs a topology that reads a long input in order (many-to-one, "
            f"many-to-many); '{topology}' does not"
        )
    if any(m.num_directions != 1 for m in model.modules() if isinstance(m, Cell)):
        raise ConfigError(
            "--tbptt needs a unidirectional cell: a backward direction must see the whole "
            "sequence first (use bidirectional=false)"
        )


def chunks(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    k: int,
    scored: Callable[[Tensor], Tensor] | None = None,
) -> Iterator[tuple[Tensor | None, Tensor | None, float]]:
    """Yield `(output, target, weight)` per chunk that has a loss; weights sum to 1.

    The state at the end of each chunk starts the next one, detached once the caller
    resumes the iterator (after its backward pass), so no gradient crosses a border.
    `x (B, T, D)`; `y (B, T, K)` for aligned targets, `(B, 1, K)` for the last step.
    With `scored` (`Task.scored`, for a task with `partial_targets`), a chunk whose
    targets score nothing runs forward only and yields `(None, None, 0.0)`, so that the
    caller keeps its schedule in step without an update; weights are shares of scored
    targets.
    """
    steps = x.shape[1]
    chunked: Any = model  # a ChunkedTopology (see `check`)
    aligned = chunked.chunk_targets == "aligned"
    counts = None
    if aligned and scored is not None:  # one sync: how many targets each chunk scores
        mask = scored(y).reshape(y.shape[0], steps, -1)
        per_chunk = torch.stack([mask[:, s : s + k].sum() for s in range(0, steps, k)])
        counts = [int(c) for c in per_chunk.tolist()]
    state = None
    for i, start in enumerate(range(0, steps, k)):
        xc = x[:, start : start + k]
        if (not aligned and start + k < steps) or (counts is not None and counts[i] == 0):
            with torch.no_grad():
                _, state = chunked.forward_chunk(xc, state)
            if counts is not None and counts[i] == 0:
                yield None, None, 0.0  # no update, but a step of the schedule
            continue
        out, state = chunked.forward_chunk(xc, state)
        target = y[:, start : start + k] if aligned else y
        if counts is not None:
            share = counts[i] / max(sum(counts), 1)
        else:
            share = xc.shape[1] / steps if aligned else 1.0
        yield out, target, share
        state = detach(state)


def updates_per_batch(model: nn.Module, steps: int, k: int) -> int:
    """Optimizer steps per batch of `steps`-long sequences with chunks of `k`."""
    if not k:
        return 1
    return -(-steps // k) if model.chunk_targets == "aligned" else 1
