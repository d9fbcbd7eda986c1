"""`seqkit new plugin NAME`: a ready plugin package to start from.

It writes a distribution `seqkit-NAME` whose plugin module registers, lazily (no torch
at import), a cell `NAME` (an Elman RNN written out, to replace with your recurrence) in
`cell.py` and a task `NAME-mean` (the mean of a sequence) in `task.py`; tests that run
seqkit's contract checks on both and train them; and a README. `pip install -e
seqkit-NAME` makes seqkit find it through its entry point.
"""

from __future__ import annotations

import re
from pathlib import Path

from seqkit._core.errors import ConfigError
from seqkit._plugins.hookspecs import API_VERSION

NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")

PYPROJECT = """[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "seqkit-{name}"
version = "0.1.0"
description = "A seqkit plugin: the {name} cell and the {name}-mean task."
readme = "README.md"
requires-python = ">=3.11"
dependencies = ["seqkit", "torch"]

[project.optional-dependencies]
test = ["pytest"]

# How seqkit finds the plugin: one module in the `seqkit` entry-point group.
[project.entry-points.seqkit]
{name} = "{package}"

[tool.setuptools]
packages = ["{package}"]

[tool.pytest.ini_options]
testpaths = ["tests"]
"""

MODULE = '''"""seqkit-{name}: a seqkit plugin with the cell `{name}` and the task `{name}-mean`.

seqkit imports this module through the entry point `{name} = "{package}"` in the
`seqkit` group and calls the hooks below. It imports no torch, so `seqkit list` and
`--help` stay instant: the cell and the task live in `cell.py` and `task.py`, which
`seqkit.lazy` imports when they are first built. Everything comes from seqkit's public
API (`import seqkit`); see seqkit's docs/plugins.md for every contract.
"""

from __future__ import annotations

from typing import Any

import seqkit

__version__ = "0.1.0"
SEQKIT_API = {api}
"""The seqkit plugin API this plugin was written for (`seqkit plugins` shows it)."""

CELL_OPTIONS = {{"scale": seqkit.Option(1.0, "scale of the initial recurrent matrix U", min=0.0)}}
TASK_OPTIONS = {{
    **seqkit.sample_options(2000, 500),
    "seq_len": seqkit.Option(8, "numbers per sequence", min=1, max=100_000),
}}


@seqkit.hookimpl
def register_cells(register: Any) -> None:
    register(
        "{name}",
        seqkit.lazy("{package}.cell:{cls}"),
        description="an Elman RNN written out (replace with your recurrence)",
        options=CELL_OPTIONS,
    )


@seqkit.hookimpl
def register_tasks(register: Any) -> None:
    register(
        "{name}-mean",
        seqkit.lazy("{package}.task:Mean"),
        description="many-to-one regression: a sequence of numbers -> their mean",
        options=TASK_OPTIONS,
    )
'''

CELL = '''"""The `{name}` cell. Imported, with torch, when seqkit first builds one."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class {cls}(nn.Module):
    """An Elman RNN written out, to replace with your recurrence::

        h_t = tanh(W x_t + U h_(t-1) + b)        (B, H)

    The state is `h (B, H)`; `None` means zeros.
    """

    num_directions = 1

    def __init__(self, input_size: int, hidden_size: int, scale: float = 1.0) -> None:
        super().__init__()
        self.input_size, self.hidden_size, self.output_size = input_size, hidden_size, hidden_size
        self.w = nn.Linear(input_size, hidden_size)
        self.u = nn.Linear(hidden_size, hidden_size, bias=False)
        with torch.no_grad():
            self.u.weight.mul_(scale)

    def step(self, x_t: Tensor, h: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """One step: `x_t (B, D)`, `h_(t-1) (B, H)` -> `h_t (B, H)`, new state `h_t`."""
        h = x_t.new_zeros(x_t.shape[0], self.hidden_size) if h is None else h
        h = torch.tanh(self.w(x_t) + self.u(h))
        return h, h

    def forward(self, x: Tensor, h: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """`x (B, T, D)` -> `outputs h_1..h_T (B, T, H)`, final state `h_T (B, H)`."""
        outputs = []
        for x_t in x.unbind(1):
            out, h = self.step(x_t, h)
            outputs.append(out)
        return torch.stack(outputs, dim=1), h
'''

TASK = '''"""The `{name}-mean` task. Imported, with torch, when seqkit first builds it."""

from __future__ import annotations

from typing import Any, ClassVar

import seqkit
import torch
from torch import Tensor


class Mean(seqkit.Task):
    """Many-to-one regression: 8 numbers in [-1, 1] -> their mean."""

    name = "{name}-mean"
    kind = "regression"
    default_topology = "many-to-one"
    solved_rule = "val MSE < 1% of chance"
    defaults: ClassVar[dict[str, Any]] = {{"hidden_size": 32, "epochs": 20, "lr": 1e-2}}

    @property
    def io(self) -> seqkit.IOSpec:
        steps = self.opts["seq_len"]
        return seqkit.IOSpec(input_size=1, output_size=1, input_len=steps, output_len=1)

    def inputs(self, n: int, generator: torch.Generator, device: torch.device) -> Tensor:
        shape = (n, self.opts["seq_len"], 1)
        return torch.rand(shape, generator=generator, device=device) * 2 - 1

    def targets(self, x: Tensor) -> Tensor:
        return x.mean(dim=1, keepdim=True)

    def solved(self, metrics: dict[str, float]) -> bool | None:
        # A run whose first epoch diverged has no val_loss: not known, rather than an error.
        if "val_loss" not in metrics:
            return None
        return metrics["val_loss"] < 0.01 * (1 / 3) / self.opts["seq_len"]
'''

TESTS = '''"""seqkit's contract checks on this plugin, one pytest case per check, and training."""

import pytest
import seqkit


@pytest.mark.parametrize("check", seqkit.testing.cell_checks("{name}"), ids=str)
def test_the_cell_keeps_its_contract(check):
    check()


@pytest.mark.parametrize("check", seqkit.testing.task_checks("{name}-mean"), ids=str)
def test_the_task_keeps_its_contract(check):
    check()


def test_the_cell_learns_the_task():
    result = seqkit.run(cell="{name}", task="{name}-mean", seed=0, device="cpu")
    assert result.metrics["val_loss"] < 0.05 * result.chance_loss
'''

README = """# seqkit-{name}

A seqkit plugin: the recurrent cell `{name}` and the task
`{name}-mean`, made by `seqkit new plugin {name}`.

```sh
pip install -e ".[test]"                   # seqkit finds the plugin through its entry point
seqkit plugins                             # {name}: status ok
seqkit run --cell {name} --task {name}-mean
seqkit check {name} {name}-mean            # the contract checks, one line each
python -m pytest                           # the same checks, plus training
```

Edit `{package}/cell.py`: replace the Elman recurrence in `{cls}.step` and `forward`
with yours (keep `step` equal to `forward` unrolled: a check tests it), and declare
your cell's options in `{package}/__init__.py`. That module registers the cell and the
task with `seqkit.lazy(...)` and imports no torch, so `seqkit list` stays instant.
"""


def new_plugin(name: str, where: Path) -> Path:
    """Write the package `seqkit-NAME` into `where`; return its directory."""
    if not NAME.match(name):
        raise ConfigError(
            f"plugin name {name!r}: use lowercase letters and digits, words joined by "
            "'-' (e.g. indrnn, my-cell), starting with a letter"
        )
    root = where / f"seqkit-{name}"
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise ConfigError(f"{root} exists and is not empty; choose another --dir or name")
    package = "seqkit_" + name.replace("-", "_")
    cls = "".join(part.capitalize() for part in name.split("-")) + "Cell"
    values = {"name": name, "package": package, "cls": cls, "api": API_VERSION}
    files = {
        "pyproject.toml": PYPROJECT,
        "README.md": README,
        f"{package}/__init__.py": MODULE,
        f"{package}/cell.py": CELL,
        f"{package}/task.py": TASK,
        "tests/test_plugin.py": TESTS,
    }
    for path, template in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(template.format(**values))
    return root
