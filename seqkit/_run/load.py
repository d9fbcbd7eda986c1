"""Reuse a finished run: `seqkit.load_run(path).predict(...)` and `seqkit predict`.

The model is rebuilt from the run's saved configuration through the registry (so the
plugins that made it must be installed) and its weights are read from
`model.safetensors`, a format that holds no code (an earlier version's `model.pt` with
`torch.load(..., weights_only=True)`: a file that carries pickled code is refused,
never executed).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import torch
from torch import Tensor, nn

from seqkit._core import files
from seqkit._core.config import RunConfig
from seqkit._core.errors import ConfigError
from seqkit._core.files import read_input_text, regular_file
from seqkit._core.records import check_same_run, recorded_run_id
from seqkit._plugins.data_task import DataTask
from seqkit._plugins.interfaces import Cell, ChunkedTopology
from seqkit._plugins.registry import Registry
from seqkit._run import rundir
from seqkit._run.plan import Plan, plan
from seqkit._run.runner import _plain
from seqkit._train.checkpoint import fit_weights

if TYPE_CHECKING:
    from seqkit._run.export import Exported


@dataclass
class LoadedRun:
    """A run's configuration, task and trained model, ready to predict."""

    path: Path
    plan: Plan
    model: nn.Module

    @property
    def config(self) -> RunConfig:
        return self.plan.config

    def predict(self, inputs: Any) -> list[dict[str, Any]]:
        """Predictions for `inputs`: one sequence or a batch, as numbers, nested lists or
        a tensor `(B, T, D)`. Each row holds input, output, the task's answer, and a line
        in the task's own format."""
        task = self.plan.task
        if task.io.input_tokens:
            raise ConfigError(
                f"task '{self.config.task}' reads token ids, not numbers: draw text from it "
                "with `seqkit sample` (LoadedRun.sample)"
            )
        x = as_batch(inputs, task.io.input_size, task.io.input_len)
        with torch.no_grad():
            pred = task.predict(self.model.eval()(x.to(self.plan.device))).cpu()
        answer = task.answers(x)
        return [
            {
                "input": _plain(x[i]),
                "output": _plain(pred[i]),
                "answer": None if answer is None else _plain(answer[i]),
                "text": task.format_example(x[i], pred[i], None if answer is None else answer[i]),
            }
            for i in range(x.shape[0])
        ]

    def export(self, format: str, out: str | Path | None = None) -> Exported:
        """Write the whole inference path (standardisation, model, outputs in the task's
        units) as `format`, "onnx" (needs `seqkit[export]`) or "torchscript", at `out`
        (default: `model.onnx` / `model.torchscript.pt` in the run directory), with a
        model card `MODEL.md` beside it. The file is run on the run's probe inputs, a
        batch of another size and one of another length, and compared with torch's
        outputs first: a difference beyond `seqkit._run.export.TOLERANCE` times the
        outputs' scale is a ConfigError, and nothing is written. Batch size is dynamic,
        and the length where the model reads any (`Exported.fixed_length` says why not)."""
        from seqkit._run.export import Run, export

        return export(Run(self.path, self.plan, self.model), format, out)

    def inputs_from_file(self, path: str | Path, limit: int) -> Any:
        """Inputs read from a file: in the data's own format where the task reads one (a
        series run: the last `input_len` rows of a CSV's input columns), else JSON or
        rows of numbers of at most `limit` bytes."""
        path, task = Path(path), self.plan.task
        where = f"--input-file {path}"
        size = regular_file(path, where, "file of inputs").st_size
        if size > limit:
            raise ConfigError(
                f"{where}: {size:,} bytes is too large for a file of inputs (the limit is "
                f"{limit:,} bytes)"
            )
        if isinstance(task, DataTask):
            found = task.inputs_from_file(path, where)
            if found is not None:
                return found
        return read_inputs(read_input_text(path, limit, where, "file of input rows"), where)

    def sample(
        self,
        prime: str = "",
        length: int = 200,
        temperature: float = 1.0,
        top_k: int | None = None,
        seed: int = 0,
    ) -> str:
        """`length` tokens drawn from a text run's model after `prime`, returned as text
        (without the prime). Each token is drawn from the softmax of the outputs divided
        by `temperature` (0: always the likeliest), among the `top_k` likeliest if given,
        with a generator seeded by `seed`: the same call gives the same text. The state
        is carried from token to token, so each costs one step of the cell."""
        task, model = self.plan.task, self.model.eval()
        if not (self.plan.task.io.input_tokens and isinstance(task, Tokenizer)):
            raise ConfigError(
                f"sample needs a run on text (a task with token inputs that encodes and "
                f"decodes text); task '{self.config.task}' is not one"
            )
        if not isinstance(model, ChunkedTopology) or model.chunk_targets != "aligned":
            raise ConfigError(
                f"sample needs a model that reads text in order and predicts every next "
                f"token (many-to-many); topology '{self.config.topology}' does not"
            )
        if any(m.num_directions != 1 for m in model.modules() if isinstance(m, Cell)):
            raise ConfigError("sample needs a unidirectional cell (bidirectional=false)")
        check_sampling(length, temperature, top_k)
        generator = torch.Generator().manual_seed(seed)
        ids = task.encode(prime) if prime else None
        if ids is None or ids.shape[1] == 0:  # no prime: a first token at random
            ids = torch.randint(task.io.input_size, (1, 1, 1), generator=generator)
            drawn = [int(ids)]
        else:
            drawn = []
        device = self.plan.device
        with torch.no_grad():
            out, state = model.forward_chunk(ids.to(device), None)
            for _ in range(length - len(drawn)):
                token = pick(out[0, -1].float().cpu(), temperature, top_k, generator)
                drawn.append(token)
                out, state = model.forward_chunk(torch.tensor([[[token]]], device=device), state)
        return task.decode(drawn)


@runtime_checkable
class Tokenizer(Protocol):
    """A task whose inputs are token ids of text: it encodes text `(1, T, 1)` and decodes ids."""

    def encode(self, text: str) -> Tensor: ...
    def decode(self, ids: Tensor | list[int]) -> str: ...


def check_sampling(length: int, temperature: float, top_k: int | None) -> None:
    if not isinstance(length, int) or isinstance(length, bool) or not 1 <= length <= 10_000_000:
        raise ConfigError(f"--length must be an integer in 1..10000000 (got {length!r})")
    if not (isinstance(temperature, int | float) and 0 <= temperature < math.inf):
        raise ConfigError(f"--temperature must be a number >= 0 (got {temperature!r})")
    if top_k is not None and (not isinstance(top_k, int) or top_k < 1):
        raise ConfigError(f"--top-k must be a positive integer (got {top_k!r})")


def pick(logits: Tensor, temperature: float, top_k: int | None, generator: torch.Generator) -> int:
    """One token id from `logits (V,)`: the likeliest at temperature 0, else drawn from
    softmax(logits / temperature) over the `top_k` likeliest (all if None)."""
    if temperature == 0:
        return int(logits.argmax())
    if top_k is not None and top_k < logits.shape[0]:
        kept = logits.topk(top_k).indices
        logits = torch.full_like(logits, -math.inf).index_copy(0, kept, logits[kept])
    probs = torch.softmax(logits.double() / temperature, dim=0)
    return int(torch.multinomial(probs, 1, generator=generator))


def load_run(path: str | Path, registry: Registry | None = None) -> LoadedRun:
    """Load the run directory at `path` (written by `seqkit run`)."""
    path = Path(path)
    config = rundir.read_run_config(path)
    model_file = next(
        (path / name for name in (files.MODEL, files.LEGACY_MODEL) if (path / name).is_file()),
        None,
    )
    if model_file is None:
        raise ConfigError(f"{path} holds no trained model ({files.MODEL}): the run did not finish")
    config.device = (
        "cpu"
        if config.device.startswith("cuda") and not torch.cuda.is_available()
        else config.device
    )
    the_plan = plan(config, registry, trained=True)
    task = the_plan.task
    # Placeholder statistics: the real ones come with the saved weights.
    io = task.io
    x = (
        torch.zeros(2, io.input_len or 1, 1, dtype=torch.long)  # token ids
        if io.input_tokens
        else torch.zeros(2, io.input_len or 1, io.input_size)
    )
    y = torch.zeros(2, task.io.output_len or 1, task.io.output_size)
    model = the_plan.fresh_model(x, y)
    fit_weights(model, read_weights(model_file, the_plan.device), model_file)
    return LoadedRun(path, the_plan, model)


def read_weights(model_file: Path, device: torch.device) -> dict[str, Tensor]:
    """A run's weights: model.safetensors, of the run its config.json names, or an earlier
    version's model.pt (read with `weights_only=True`)."""
    if model_file.name == files.LEGACY_MODEL:
        state: dict[str, Tensor] = files.load_tensors(model_file, device)
        return state
    state, metadata = files.load_weights(model_file, device)
    check_same_run(metadata.get("run_id"), recorded_run_id(model_file.parent), model_file)
    return state


def as_batch(inputs: Any, d: int, t: int | None) -> Tensor:
    """`inputs` as a float batch `(B, T, D)`, checked against the task's D and T.

    A flat list of numbers is one sequence of T steps when D = 1 (`[2, 4, 6]`); a list
    of such lists is a batch. With D > 1 each step is a list of D numbers.
    """
    try:
        x = torch.as_tensor(inputs, dtype=torch.float32)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"input must be numbers (got {inputs!r}): {exc}") from None
    if not torch.isfinite(x).all():
        raise ConfigError("input must be finite numbers (got nan or inf)")
    if x.dim() == 0:
        x = x.view(1, 1, 1)
    elif x.dim() == 1:
        x = x.view(1, -1, 1) if d == 1 else x.view(1, 1, -1)
    elif x.dim() == 2:
        x = x.unsqueeze(-1) if d == 1 else x.unsqueeze(0)
    if x.dim() != 3 or x.shape[2] != d:
        raise ConfigError(f"input must have {d} number(s) per step (got shape {tuple(x.shape)})")
    if t is not None and x.shape[1] != t:
        raise ConfigError(
            f"input must have {t} step(s) per sequence, as the run was trained (got {x.shape[1]})"
        )
    return x


def read_inputs(text: str, source: str) -> Any:
    """Inputs from the command line or a file: JSON, or comma/whitespace-separated rows."""
    text = text.strip()
    if not text:
        raise ConfigError(f"{source} is empty")
    if text[0] in "[{":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{source} is not valid JSON: {exc}") from None
    rows = []
    for line in text.splitlines():
        if line.strip():
            try:
                rows.append([float(v) for v in line.replace(",", " ").split()])
            except ValueError:
                raise ConfigError(
                    f"{source}: {line.strip()!r} is not a row of numbers "
                    "(comma- or space-separated)"
                ) from None
    return rows
