"""Multi-query associative recall (MQAR), after Zoology (Arora et al. 2023, "Zoology:
Measuring and Improving Recall in Efficient Language Models"; the data follow
`zoology/data/associative_recall.py:multiquery_ar`).

A sequence opens with `pairs` key-value pairs (keys from the first half of the
vocabulary, values from the second, no key or value twice); then each key is asked once,
at a distance drawn from a power law (`power_a`), and the model must answer the key's
value at the step the key is asked. Every other step holds a random token and is not
scored (`seqkit.IGNORE`). Inputs are token ids, which the model one-hot encodes.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch
from seqkit_plugins.tasks import OPTIONS
from torch import Tensor

from seqkit import IGNORE, ConfigError, IOSpec, Option, Task

EXAMPLE_SEED = 1234
"""The generator seed of the example sequences a run prints."""
SHOWN_PAIRS = 4


class MQAR(Task):
    """Answer each queried key with the value it was paired with earlier."""

    name = "mqar"
    kind = "classification"
    default_topology = "many-to-many"
    partial_targets = True  # only the queries are scored
    categorical_inputs = "all"
    solved_rule = "accuracy > 99% on the queries"
    chance_rule = "a uniform guess among the values: ln(vocab / 2)"
    defaults: ClassVar[dict[str, Any]] = {
        "normalize": False,
        "hidden_size": 128,
        "epochs": 20,
        "lr": 3e-3,
        "batch_size": 64,
    }
    options: ClassVar[dict[str, Option]] = OPTIONS["mqar"]

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        vocab, length, pairs = options["vocab"], options["seq_len"], options["pairs"]
        if length % 2 or 4 * pairs > length or vocab <= length or vocab // 2 - 1 < pairs:
            raise ConfigError(
                f"task 'mqar' needs an even seq_len >= 4 * pairs and vocab > seq_len with "
                f"at least pairs + 1 keys (got vocab={vocab}, seq_len={length}, pairs={pairs})"
                " (Zoology's constraints)"
            )

    @property
    def io(self) -> IOSpec:
        vocab = self.opts["vocab"]
        return IOSpec(vocab, vocab, self.opts["seq_len"], self.opts["seq_len"], input_tokens=True)

    def generate(
        self, n: int, generator: torch.Generator, device: torch.device
    ) -> tuple[Tensor, Tensor]:
        """Inputs `(n, T, 1)` token ids, targets `(n, T)`: a value at each query, IGNORE
        elsewhere."""
        vocab, length, pairs = self.opts["vocab"], self.opts["seq_len"], self.opts["pairs"]
        half, context = vocab // 2, 2 * pairs

        def draw(low: int, high: int) -> Tensor:  # `pairs` distinct ids in [low, high) each
            order = torch.rand(n, high - low, generator=generator, device=device).argsort(1)
            return order[:, :pairs] + low

        keys, values = draw(1, half), draw(half, vocab)
        space = (length - context) // 2
        weights = self.opts["power_a"] * torch.arange(1, space + 1, device=device) ** (
            self.opts["power_a"] - 1
        )
        gaps = torch.multinomial(weights.expand(n, space), pairs, generator=generator)
        x = torch.zeros(n, length + 1, dtype=torch.long, device=device)
        x[:, 0:context:2], x[:, 1:context:2] = keys, values
        x.scatter_(1, context + 2 * gaps, keys)
        y = torch.full((n, length + 1), IGNORE, dtype=torch.long, device=device)
        y.scatter_(1, context + 2 * gaps, values)
        x, y = x[:, :length], y[:, :length]
        noise = torch.randint(vocab, x.shape, generator=generator, device=device)
        x = torch.where(x == 0, noise, x)  # Zoology's random_non_queries
        return x.unsqueeze(-1), y

    def inputs(self, n: int, generator: torch.Generator, device: torch.device) -> Tensor:
        return self.generate(n, generator, device)[0]

    def targets(self, x: Tensor) -> Tensor:
        raise ConfigError(
            "task 'mqar' has no rule that answers any input: which steps are queries is "
            "decided with the data"
        )

    def answers(self, x: Tensor) -> Tensor | None:
        return None

    def examples(self) -> tuple[Tensor, Tensor]:
        generator = torch.Generator().manual_seed(EXAMPLE_SEED)
        return self.generate(3, generator, torch.device("cpu"))

    def probes(self) -> Tensor:
        return self.examples()[0]

    def chance_loss(self, y: Tensor) -> float:
        vocab = self.opts["vocab"]
        return math.log(vocab - vocab // 2)  # each query's value: uniform over the values

    def solved(self, metrics: dict[str, float]) -> bool | None:
        return metrics["val_accuracy"] > 0.99

    def format_example(self, x: Tensor, pred: Tensor, answer: Tensor | None) -> str:
        ids = x.reshape(-1).tolist()
        pairs = self.opts["pairs"]
        shown = " ".join(f"{ids[2 * i]}:{ids[2 * i + 1]}" for i in range(min(pairs, SHOWN_PAIRS)))
        more = " ..." if pairs > SHOWN_PAIRS else ""
        if answer is None:
            return f"Pairs {shown}{more} -> Output: {pred.reshape(-1).tolist()}"
        asked = (answer != IGNORE).nonzero().reshape(-1).tolist()
        keys = ", ".join(str(ids[t]) for t in asked[:SHOWN_PAIRS])
        got = ", ".join(str(int(pred[t])) for t in asked[:SHOWN_PAIRS])
        want = ", ".join(str(int(answer[t])) for t in asked[:SHOWN_PAIRS])
        right = sum(int(pred[t]) == int(answer[t]) for t in asked)
        return (
            f"Pairs {shown}{more}; asked {keys}{more} -> {got} (answer {want}; "
            f"{right}/{len(asked)} right)"
        )
