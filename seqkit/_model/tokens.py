"""Token inputs: a task whose inputs are symbol ids (`IOSpec.input_tokens`) keeps its
data as ids `(N, T, 1)` and the model one-hot encodes each batch before its cells.

A character model on a 5 MB text then holds 5 M ids, not a `(N, T, vocabulary)` float
array, and its cells still see one-hot vectors (their input weights are the embedding,
as in char-rnn), so `step`, the gradient probe and truncated BPTT work unchanged.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from seqkit._plugins.interfaces import ChunkedTopology, ChunkTargets


class OneHotInputs(nn.Module):
    """`inner` sees `one_hot(x)`: ids `(B, T, 1)` -> `(B, T, size)`, in the model's dtype."""

    like: Tensor

    def __init__(self, inner: nn.Module, size: int) -> None:
        super().__init__()
        self.inner, self.size = inner, size
        # An empty tensor that follows the model's dtype and device (`.to`, `.double()`)
        # for the one-hot vectors to take.
        self.register_buffer("like", torch.zeros(0), persistent=False)

    def encode(self, x: Tensor) -> Tensor:
        """Ids `(B, T, 1)` (any dtype holding whole numbers) -> one-hot `(B, T, size)`."""
        ids = x.squeeze(-1).long().to(self.like.device)
        return nn.functional.one_hot(ids, self.size).to(self.like.dtype)

    def forward(self, x: Tensor) -> Tensor:
        return self.inner(self.encode(x))

    @property
    def chunk_targets(self) -> ChunkTargets | None:
        """The inner topology's, when it is a ChunkedTopology (truncated BPTT, sampling)."""
        return self.inner.chunk_targets if isinstance(self.inner, ChunkedTopology) else None

    def forward_chunk(self, x: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        inner: Any = self.inner
        out, state = inner.forward_chunk(self.encode(x), state)
        return out, state
