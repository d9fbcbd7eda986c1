"""Lazy factories: register a name now, import its implementation when it is first built.

A plugin module that imports torch at its top makes `seqkit --help` and `seqkit list`
pay for torch (seconds). Registering `seqkit.lazy("pkg.impl:Factory")` instead keeps the
plugin module light: the implementation module is imported on the first call, or when
something asks for the factory's signature or attributes (a Task class's `defaults`).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any

from seqkit._core.errors import PluginError


class LazyFactory:
    """A factory named `"module:attribute"`, imported when first used."""

    def __init__(self, target: str) -> None:
        module, sep, attribute = target.partition(":")
        if not sep or not module or not attribute:
            raise PluginError(f"lazy factory {target!r}: expected 'package.module:attribute'")
        self.target = target
        self._loaded: Callable[..., Any] | None = None

    def load(self) -> Callable[..., Any]:
        """The factory itself (importing its module the first time)."""
        if self._loaded is None:
            module, _, attribute = self.target.partition(":")
            try:
                loaded = getattr(importlib.import_module(module), attribute)
            except (ImportError, AttributeError) as exc:
                raise PluginError(f"lazy factory {self.target!r} cannot be loaded: {exc}") from exc
            if not callable(loaded):
                raise PluginError(f"lazy factory {self.target!r} is not callable")
            self._loaded = loaded
        return self._loaded

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.load()(*args, **kwargs)

    @property
    def __signature__(self) -> inspect.Signature:
        return inspect.signature(self.load())

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("target", "_loaded"):
            raise AttributeError(name)
        return getattr(self.load(), name)

    def __repr__(self) -> str:
        return f"lazy({self.target!r})"


def lazy(target: str) -> LazyFactory:
    """A factory for `register(...)` that imports `"package.module:attribute"` only when it
    is first called: `register("gru", seqkit.lazy("my_plugin.cells:gru"), options=...)`.
    Give `description=` and `options=` to `register` (the module is not read for them)."""
    return LazyFactory(target)
