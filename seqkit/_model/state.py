"""The one walker over a cell's recurrent state: a tensor, or tuples and lists of them
nested as the cell keeps them (an LSTM's `(h, c)`). Everything else in a state is left as
it is."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from torch import Tensor


def map_tensors(state: Any, fn: Callable[[Tensor], Any]) -> Any:
    """`state`'s structure with `fn(t)` in place of each tensor `t`, in order."""
    if isinstance(state, Tensor):
        return fn(state)
    if isinstance(state, tuple | list):
        return type(state)(map_tensors(s, fn) for s in state)
    return state


def tensors(state: Any) -> list[Tensor]:
    """The tensors of a state, in the fixed order `map_tensors` visits them."""
    found: list[Tensor] = []
    map_tensors(state, found.append)
    return found


def rebuild(state: Any, values: Iterator[Tensor]) -> Any:
    """`state`'s structure with its tensors replaced, in order, by `values`."""
    return map_tensors(state, lambda _: next(values))


def detach(state: Any) -> Any:
    """The state cut from its graph."""
    return map_tensors(state, Tensor.detach)
