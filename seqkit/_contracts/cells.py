"""The Cell contract's checks, and the tools the other checks share to probe a module
(seeded builds, a cell unrolled by its `step`, tensors compared)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from seqkit._contracts.findings import Broken, Skipped
from seqkit._model.state import rebuild, tensors
from seqkit._plugins.interfaces import (
    missing_cell_members,
)
from seqkit._plugins.registry import Entry

# -- subjects: what the checks look at, built on demand -----------------------------------
B, T, D, H = 3, 5, 4, 6
"""The tiny sizes the checks use unless a run's own are given."""


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """torch's global RNG seeded for a build, and put back afterwards."""
    with torch.random.fork_rng(devices=[]):
        torch.random.default_generator.manual_seed(seed)  # the checks run on the CPU
        yield


@dataclass
class CellSubject:
    entry: Entry
    options: dict[str, Any]
    input_size: int = D
    hidden_size: int = H
    _cell: Any = field(default=None, repr=False)

    def build(self, seed: int = 0) -> Any:
        with seeded(seed):
            return self.entry.factory(self.input_size, self.hidden_size, **self.options)

    @property
    def cell(self) -> Any:
        if self._cell is None:
            self._cell = self.build().eval()
        return self._cell

    def x(self, batch: int = B, steps: int = T, dtype: torch.dtype = torch.float32) -> Tensor:
        g = torch.Generator().manual_seed(7)
        return torch.randn(batch, steps, self.input_size, generator=g, dtype=dtype)

    def unidirectional(self) -> Any:
        cell = self.cell
        if getattr(cell, "num_directions", 1) != 1:
            raise Skipped("a bidirectional cell has no step-by-step form")
        return cell


def pair(result: Any, method: str) -> tuple[Tensor, Any]:
    if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], Tensor)):
        seen = type(result).__name__ if not isinstance(result, tuple) else f"{len(result)}-tuple"
        raise Broken(f"{method} must return (tensor, state), got a {seen}")
    return result[0], result[1]


def shape_text(t: Tensor) -> str:
    return "(" + ", ".join(map(str, t.shape)) + ")"


def unroll(cell: Any, x: Tensor, state: Any = None) -> tuple[Tensor, Any]:
    hs = []
    for x_t in x.unbind(1):
        h, state = pair(cell.step(x_t, state), "step")
        hs.append(h)
    return torch.stack(hs, dim=1), state


def close_enough(a: Tensor, b: Tensor, what: str) -> None:
    """Equal to a dtype-aware tolerance: 1e-5 absolute + 1e-4 relative in float32 (and
    lower precisions), 1e-10 + 1e-9 in float64."""
    rtol, atol = (1e-9, 1e-10) if a.dtype == torch.float64 else (1e-4, 1e-5)
    if a.shape != b.shape:
        raise Broken(f"{what}: shapes differ, {shape_text(a)} and {shape_text(b)}")
    if not torch.allclose(a, b, rtol=rtol, atol=atol):
        diff = float((a - b).abs().max())
        raise Broken(f"{what}: they differ by up to {diff:.3g} (tolerance {atol:g})")


# -- cell checks --------------------------------------------------------------------------
def cell_accepts_declared_options(s: CellSubject) -> None:
    try:
        signature = inspect.signature(s.entry.factory)
    except (TypeError, ValueError):
        raise Skipped("its factory has no inspectable signature") from None
    try:
        signature.bind(s.input_size, s.hidden_size, **s.options)
    except TypeError as exc:
        raise Broken(f"factory(input_size, hidden_size, **declared options) fails: {exc}") from None


def cell_has_the_cell_members(s: CellSubject) -> None:
    cell = s.cell
    if not isinstance(cell, nn.Module):
        raise Broken(f"the factory must return a torch.nn.Module, got {type(cell).__name__}")
    missing = missing_cell_members(cell)
    if missing:
        raise Broken(f"missing {', '.join(missing)}")
    if not (isinstance(cell.output_size, int) and cell.output_size > 0):
        raise Broken(f"output_size must be a positive int, got {cell.output_size!r}")


def _require_shape(got: Tensor, want: tuple[int, ...], returned: str, named: str) -> None:
    if tuple(got.shape) != want:
        raise Broken(
            f"{returned} {shape_text(got)}, expected {named} = ({', '.join(map(str, want))})"
        )


def cell_forward_shapes(s: CellSubject) -> None:
    cell, x = s.cell, s.x()
    out, _ = pair(cell(x), "forward")
    want = (x.shape[0], x.shape[1], cell.output_size)
    _require_shape(out, want, f"forward(x {shape_text(x)}) returned outputs", "(B, T, output_size)")


def cell_step_shapes(s: CellSubject) -> None:
    cell, x = s.unidirectional(), s.x()
    h, _ = pair(cell.step(x[:, 0], None), "step")
    want = (x.shape[0], cell.output_size)
    _require_shape(h, want, f"step(x_t {shape_text(x[:, 0])}) returned h_t", "(B, output_size)")


def cell_step_matches_forward(s: CellSubject) -> None:
    cell, x = s.unidirectional(), s.x()
    with torch.no_grad():
        close_enough(unroll(cell, x)[0], cell(x)[0], "step unrolled over T vs forward, from zero")


def cell_step_matches_forward_from_a_state(s: CellSubject) -> None:
    cell, x = s.unidirectional(), s.x()
    with torch.no_grad():
        _, state = cell(x[:, :2])
        close_enough(unroll(cell, x, state)[0], cell(x, state)[0], "from a given state")


def cell_state_carries_over(s: CellSubject) -> None:
    cell, x = s.unidirectional(), s.x()
    with torch.no_grad():
        first, state = cell(x[:, :2])
        rest, _ = cell(x[:, 2:], state)
        close_enough(
            torch.cat([first, rest], dim=1), cell(x)[0], "two halves with the carried state"
        )


def cell_h_t_comes_from_the_state(s: CellSubject) -> None:
    cell, x = s.unidirectional(), s.x()
    with torch.no_grad():
        _, state = cell(x[:, :2])
    leaves = [t.detach().clone().requires_grad_(True) for t in tensors(state)]
    if not leaves:
        raise Broken("forward returned a state with no tensors")
    h, _ = pair(cell.step(x[:, 2], rebuild(state, iter(leaves))), "step")
    if not h.requires_grad:
        raise Broken("step returned an h_t detached from the previous state (no gradient)")
    grads = torch.autograd.grad(h.sum(), leaves, allow_unused=True)
    if all(g is None or not bool(g.any()) for g in grads):
        raise Broken("no gradient flows from h_t back to the previous state")


def cell_batch_elements_are_independent(s: CellSubject) -> None:
    cell, x = s.cell, s.x()
    other = x.clone()
    other[1:] = -3 * x[1:] + 1
    with torch.no_grad():
        close_enough(
            cell(other)[0][0], cell(x)[0][0], "sequence 0's outputs when the others change"
        )


def cell_converts_dtype(s: CellSubject) -> None:
    cell = s.build().eval().to(torch.float64)
    x = s.x(dtype=torch.float64)
    out, _ = pair(cell(x), "forward")
    if out.dtype != torch.float64:
        raise Broken(f"after .to(torch.float64) forward returned {out.dtype}")
    if torch.cuda.is_available():
        out, _ = cell.to("cuda")(x.cuda())
        if out.device.type != "cuda":
            raise Broken(f"after .to('cuda') forward returned a tensor on {out.device}")


def cell_same_seed_same_parameters(s: CellSubject) -> None:
    a, b = s.build(seed=3).state_dict(), s.build(seed=3).state_dict()
    differ = [k for k in a if not torch.equal(a[k], b[k])]
    if differ:
        raise Broken(f"two builds under the same torch seed differ in {', '.join(differ)}")


CELL_CHECKS: dict[str, Callable[[Any], None]] = {
    "accepts_declared_options": cell_accepts_declared_options,
    "has_the_cell_members": cell_has_the_cell_members,
    "forward_shapes": cell_forward_shapes,
    "step_shapes": cell_step_shapes,
    "step_matches_forward": cell_step_matches_forward,
    "step_matches_forward_from_a_state": cell_step_matches_forward_from_a_state,
    "state_carries_over": cell_state_carries_over,
    "h_t_comes_from_the_state": cell_h_t_comes_from_the_state,
    "batch_elements_are_independent": cell_batch_elements_are_independent,
    "converts_dtype": cell_converts_dtype,
    "same_seed_same_parameters": cell_same_seed_same_parameters,
}
