"""With defaults only, every notebook task reaches the notebook's printed quality.

About 30 s for all twelve on a 2-core CPU. The time side of the claim is measured by
`benchmarks/notebook.py`, never asserted here.
"""

from __future__ import annotations

import pytest

import seqkit

# The notebook's probe answers and the tolerance the issue sets for each.
QUALITY = {
    "square": 0.1,  # 2.0 -> 4.0
    "multiples": 0.5,  # 2.0 -> 2, 4, ..., 20, per output
    "sum": 1.0,  # [2, 4, 6, 8, 10, 11] -> 41
    "cumsum": 1.0,  # [10..14] -> 10, 21, 33, 46, 60, per output
}


def _errors(example: dict) -> list[float]:
    out, ans = example["output"], example["answer"]
    if not isinstance(out, list):
        out, ans = [out], [ans]
    return [abs(o - a) for o, a in zip(out, ans, strict=True)]


@pytest.mark.parametrize("task", list(QUALITY))
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_defaults_reach_notebook_quality(cell, task):
    result = seqkit.run(cell=cell, task=task, device="cpu")
    (probe,) = result.examples
    assert max(_errors(probe)) < QUALITY[task], probe["text"]
    assert result.metrics["val_loss"] < 0.01 * result.chance_loss
