"""The plugin manager, entry-point discovery, and the name -> factory registry.

Each plugin's hook implementations are called one at a time, so every name is tagged
with the plugin (and distribution version) that provided it, and an exception in one
plugin is contained: it gets one warning and a status of error, the rest keep working.
A name another plugin already registered is kept too (using it is an error that names
both), and the later plugin gets a warning and the status of error at load time.
"""

from __future__ import annotations

import functools
import os
import sys
import types
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pluggy

from seqkit._core.errors import ConfigError, NameClashError, PluginError, UnknownNameError
from seqkit._core.lazy import LazyFactory
from seqkit._core.options import Option, resolve_options
from seqkit._plugins import hookspecs
from seqkit._plugins.entrypoints import PluginEntryPoint, seqkit_entry_points
from seqkit._version import __version__

KINDS: dict[str, str] = {
    "cell": "register_cells",
    "topology": "register_topologies",
    "task": "register_tasks",
    "trainer": "register_trainers",
    "executor": "register_executors",
    "suite": "register_suites",
}
PLURALS = {
    "cell": "cells",
    "topology": "topologies",
    "task": "tasks",
    "trainer": "trainers",
    "executor": "executors",
    "suite": "suites",
}

ENV_LOAD = "SEQKIT_LOAD_PLUGINS"
"""Unset: load every installed plugin. Empty: no third-party plugin. `a,b`: only those."""
ENV_DISABLE = "SEQKIT_DISABLE_PLUGINS"
"""Plugins never to load, built-in families included (`tasks`, `trainers`, ...)."""
ENV_STRICT = "SEQKIT_STRICT_PLUGINS"
"""`1`: a plugin that fails to load or breaks the contract is an error, not a warning."""


PLUGIN_FAILURES = (Exception, SystemExit, KeyboardInterrupt)
"""What a plugin may raise while it is imported or registers: a plugin that calls
`sys.exit()` or raises KeyboardInterrupt there is a broken plugin like any other, not
the end of every command."""


class PluginWarning(UserWarning):
    """A plugin was skipped or partly loaded; the rest of seqkit still works."""


@dataclass(frozen=True)
class Entry:
    """One registered name: what it builds and who provided it."""

    kind: str
    name: str
    factory: Callable[..., Any]
    description: str
    plugin: str
    version: str | None
    options: Mapping[str, Option] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)
    """The other keywords the plugin passed to `register` (`default=True`, `hints=`)."""

    @property
    def hints(self) -> Mapping[str, str]:
        """Advice the plugin adds to seqkit's message when a check fails for this entry,
        by check: `{"precision": "..."}`."""
        hints: Mapping[str, str] = self.extra.get("hints") or {}
        return hints


@dataclass(frozen=True)
class Resolved:
    """A registered name with its options checked and every default filled in."""

    entry: Entry
    options: dict[str, Any]

    @property
    def name(self) -> str:
        return self.entry.name

    def build(self, *args: Any) -> Any:
        """`factory(*args, **options)`."""
        return self.entry.factory(*args, **self.options)


@dataclass
class PluginInfo:
    """A plugin as `seqkit plugins` shows it."""

    name: str
    distribution: str | None
    version: str | None
    builtin: bool
    status: str = "ok"
    error: str | None = None
    registers: dict[str, list[str]] = field(default_factory=dict)
    api: Any = None
    """The plugin API it declares it was written for (`SEQKIT_API`), if it declares one."""
    warning: str | None = None
    """Why it may not work although it loaded (an API version this seqkit does not offer)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "builtin": self.builtin,
            "status": self.status,
            "error": self.error,
            "registers": self.registers,
            "api": self.api,
            "warning": self.warning,
        }


def make_plugin_manager() -> pluggy.PluginManager:
    """A plugin manager that knows seqkit's hookspecs and has no plugin registered."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    return pm


class Registry:
    """Names of cells, topologies, tasks and trainers, each with its providing plugin."""

    def __init__(self, strict: bool | None = None) -> None:
        self.pm = make_plugin_manager()
        self.strict = _env_flag(ENV_STRICT) if strict is None else strict
        self._entries: dict[str, dict[str, list[Entry]]] = {k: {} for k in KINDS}
        self._plugins: dict[str, PluginInfo] = {}

    # -- loading -------------------------------------------------------------------
    def add_plugin(
        self,
        plugin: object,
        name: str | None = None,
        *,
        distribution: str | None = None,
        version: str | None = None,
        builtin: bool = False,
    ) -> PluginInfo | None:
        """Register a plugin object (a module or an instance with hook implementations)."""
        name = name or _plugin_name(plugin)
        version = version or getattr(plugin, "__version__", None) or plugin_version(plugin)
        info = PluginInfo(name, distribution, version, builtin)
        self._plugins[name] = info
        info.api = getattr(plugin, "SEQKIT_API", None)
        info.warning = api_mismatch(info.api)
        if info.warning is not None:
            warnings.warn(f"plugin '{name}' {info.warning}", PluginWarning, stacklevel=2)
        try:
            self.pm.register(plugin, name=name)
            unknown = [c.name for c in (self.pm.get_hookcallers(plugin) or []) if c.spec is None]
            if unknown:
                self.pm.unregister(plugin)
                known = ", ".join([*sorted(KINDS.values()), "register_commands"])
                raise PluginError(f"unknown hook {unknown[0]!r} (known hooks: {known})")
        except PLUGIN_FAILURES as exc:  # a broken plugin must not take the others down
            self._fail(info, exc)
            return info
        for kind, hook_name in KINDS.items():
            for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
                if impl.plugin is plugin:
                    self._call(info, kind, impl.function)
        return info

    def load_entry_points(self) -> None:
        """Load every plugin in the `seqkit` entry-point group, honouring the env vars."""
        selected = _env_list(ENV_LOAD)
        disabled = set(_env_list(ENV_DISABLE) or [])
        for ep in sorted(seqkit_entry_points(), key=_builtin_first):
            builtin = ep.dist == "seqkit"
            if ep.name in disabled or (
                not builtin and selected is not None and ep.name not in selected
            ):
                continue
            name = ep.name if ep.name not in self._plugins else f"{ep.dist}:{ep.name}"
            try:
                plugin = ep.load()
            except PLUGIN_FAILURES as exc:
                info = PluginInfo(name, ep.dist, ep.version, builtin)
                self._plugins[name] = info
                self._fail(info, exc, during="import")
                continue
            self.add_plugin(plugin, name, distribution=ep.dist, version=ep.version, builtin=builtin)

    def _call(self, info: PluginInfo, kind: str, hook: Callable[..., Any]) -> None:
        """Call one plugin's hook; its names are added only if the whole hook succeeds."""
        pending: list[Entry] = []

        def register(
            name: str, factory: Callable[..., Any], description: str = "", **keywords: Any
        ) -> None:
            entry = new_entry(info, kind, name, factory, description, keywords)
            if any(e.name == name for e in pending):
                raise PluginError(f"{kind} '{name}' is registered twice by the same hook")
            pending.append(entry)

        try:
            hook(register=register)
        except PLUGIN_FAILURES as exc:
            self._fail(info, exc, during=KINDS[kind])
            return
        for entry in pending:
            self._add(info, entry)

    def _add(self, info: PluginInfo, entry: Entry) -> None:
        """Keep `entry`; a name another plugin registered too is kept as well (see `get`)
        and said now, not only when it is used."""
        kind = entry.kind
        taken = list(self._entries[kind].get(entry.name, []))
        self._entries[kind].setdefault(entry.name, []).append(entry)
        info.registers.setdefault(PLURALS[kind], []).append(entry.name)
        if taken:
            owners = " and ".join(f"'{e.plugin}'" for e in taken)
            clash = NameClashError(
                f"{kind} '{entry.name}' is already registered by plugin {owners}"
            )
            self._fail(
                info,
                clash,
                during=KINDS[kind],
                then=f"--{kind} {entry.name} is an error until one of them is disabled "
                f"with {ENV_DISABLE}",
            )

    def _fail(
        self,
        info: PluginInfo,
        exc: BaseException,
        during: str = "register",
        then: str = "the other plugins still work",
    ) -> None:
        """Record the failure in the plugin's status; one warning line (strict: raise)."""
        info.status, info.error = "error", _one_line(_failure(exc))
        message = f"plugin '{info.name}' failed ({during}): {info.error}"
        if self.strict:
            raise PluginError(message) from exc
        warnings.warn(f"{message}; {then}", PluginWarning, stacklevel=3)

    # -- look-up -------------------------------------------------------------------
    def get(self, kind: str, name: str) -> Entry:
        """The entry for `name`; unknown names suggest the nearest, clashes name both."""
        found = self._entries[kind].get(name) if isinstance(name, str) else None
        if not found:
            raise UnknownNameError(kind, name, self._entries[kind])
        if len(found) > 1:
            who = " and ".join(f"'{e.plugin}'" for e in found)
            raise NameClashError(
                f"{kind} '{name}' is registered by more than one plugin ({who}); "
                f"disable one with {ENV_DISABLE}"
            )
        return found[0]

    def resolve(self, kind: str, name: str, options: Mapping[str, Any]) -> Resolved:
        """`name`'s entry with `options` validated against what it declares, defaults
        filled in; unknown names and options are a ConfigError saying what is allowed."""
        entry = self.get(kind, name)
        return Resolved(entry, resolve_options(f"{kind} '{name}'", entry.options, options))

    def names(self, kind: str) -> list[str]:
        return sorted(self._entries[kind])

    def entries(self, kind: str) -> list[Entry]:
        return [e for name in self.names(kind) for e in self._entries[kind][name]]

    def default(self, kind: str) -> str:
        """The name a plugin marked `default=True` for `kind`; an error unless exactly one."""
        marked = [e.name for e in self.entries(kind) if e.extra.get("default")]
        if len(marked) == 1:
            return marked[0]
        plural = PLURALS[kind]
        if not self._entries[kind]:
            raise ConfigError(
                f"no {plural} are registered (are the built-in plugins disabled by {ENV_DISABLE}?)"
            )
        if marked:
            raise ConfigError(
                f"several {plural} are marked as the default "
                f"({', '.join(marked)}): choose one with --{kind}"
            )
        raise ConfigError(
            f"no {kind} is marked as the default: choose one with --{kind} "
            f"({', '.join(self.names(kind))})"
        )

    @property
    def plugins(self) -> list[PluginInfo]:
        return list(self._plugins.values())

    def add_commands(self, cli: Any) -> None:
        """Let each plugin add its click commands to `cli` (one at a time, contained)."""
        for impl in self.pm.hook.register_commands.get_hookimpls():
            info = self._plugins.get(impl.plugin_name)
            try:
                impl.function(cli=cli)
            except PLUGIN_FAILURES as exc:
                if info is not None:
                    self._fail(info, exc, during="register_commands")


def load_registry(
    plugins: Iterable[object] = (), *, entry_points: bool = True, strict: bool | None = None
) -> Registry:
    """A registry from the installed entry points (unless `entry_points=False`) and `plugins`."""
    registry = Registry(strict=strict)
    if entry_points:
        registry.load_entry_points()
    for plugin in plugins:
        registry.add_plugin(plugin)
    return registry


_default: Registry | None = None


def get_registry() -> Registry:
    """The process-wide registry of installed plugins, loaded on first use."""
    global _default
    if _default is None:
        _default = load_registry()
    return _default


def api_mismatch(declared: Any) -> str | None:
    """Why a plugin's `SEQKIT_API` does not fit this seqkit (None: it fits, or it declares
    none). It may be one version (`1`) or a collection of versions it supports (`{1, 2}`)."""
    if declared is None:
        return None
    versions = (
        {declared}
        if isinstance(declared, int) and not isinstance(declared, bool)
        else set(declared)
        if isinstance(declared, list | tuple | set | frozenset | range)
        and all(isinstance(v, int) and not isinstance(v, bool) for v in declared)
        else None
    )
    if versions is None:
        return (
            f"declares SEQKIT_API = {declared!r}, which is not an API version "
            "(an int, or a collection of ints)"
        )
    if hookspecs.API_VERSION in versions:
        return None
    wanted = ", ".join(map(str, sorted(versions)))
    return (
        f"was written for seqkit plugin API {wanted}; this seqkit offers API "
        f"{hookspecs.API_VERSION} (it loaded, but may not work: update it or seqkit)"
    )


BUILTIN_PACKAGE = "seqkit_plugins"
"""The package of the built-in plugins: they ship with seqkit and carry its version."""


def plugin_version(plugin: object) -> str | None:
    """The version of the code a plugin comes from, for one without `__version__`: seqkit's
    for the built-ins, else that of the distribution that installed its top-level package
    (None when no installed distribution holds it, as for a module run from a checkout)."""
    if isinstance(plugin, types.ModuleType):
        module: object = plugin.__name__
    else:  # a class, or an instance (of a class or a namespace, which has no __module__)
        module = getattr(plugin, "__module__", None) or type(plugin).__module__
    top = module.partition(".")[0] if isinstance(module, str) else ""
    if top in ("seqkit", BUILTIN_PACKAGE):
        return __version__
    import importlib.metadata as md

    for dist in _packages_distributions().get(top, []):
        try:
            return md.version(dist)
        except md.PackageNotFoundError:
            continue
    return None


@functools.cache
def _packages_distributions() -> Mapping[str, list[str]]:
    """Top-level package -> the distributions providing it (scanned once: it reads every
    installed distribution's metadata)."""
    import importlib.metadata as md

    return md.packages_distributions()


def _is_module_class(cls: type) -> bool:
    """Whether `cls` subclasses torch.nn.Module, without importing torch: a class that
    does was defined after torch was imported."""
    torch_nn = sys.modules.get("torch.nn")
    return torch_nn is not None and issubclass(cls, torch_nn.Module)


def _plugin_name(plugin: object) -> str:
    if isinstance(plugin, types.ModuleType):
        return plugin.__name__
    return getattr(plugin, "name", None) or type(plugin).__name__


def _builtin_first(ep: PluginEntryPoint) -> tuple[int, str]:
    return (0 if ep.dist == "seqkit" else 1, ep.name)


def _one_line(text: str) -> str:
    """`text` on one line: an error from a plugin may span several (pluggy's do)."""
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def _env_flag(var: str) -> bool:
    return os.environ.get(var, "").strip().lower() in ("1", "true", "yes", "on")


def _env_list(var: str) -> list[str] | None:
    value = os.environ.get(var)
    if value is None:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


def new_entry(
    info: PluginInfo,
    kind: str,
    name: str,
    factory: Callable[..., Any],
    description: str,
    keywords: dict[str, Any],
) -> Entry:
    """The Entry one `register(...)` call describes, checked: a name, a callable factory
    (a cell class must be a torch module), hints as text; options and description read
    from the factory unless given (nothing is read from a lazy one: no import)."""
    if not isinstance(name, str) or not name.strip():
        raise PluginError(f"{kind} name must be a non-empty string (got {name!r})")
    if not callable(factory):
        raise PluginError(f"{kind} '{name}': factory {factory!r} is not callable")
    if kind == "cell" and isinstance(factory, type) and not _is_module_class(factory):
        raise PluginError(
            f"cell '{name}': class {factory.__name__} is not a torch.nn.Module "
            "(see the Cell contract in docs/plugins.md)"
        )
    hints = keywords.get("hints")
    if hints is not None and not (
        isinstance(hints, Mapping) and all(isinstance(v, str) for v in hints.values())
    ):
        raise PluginError(f"{kind} '{name}': hints must map a check's name to a string")
    deferred = isinstance(factory, LazyFactory)
    options = keywords.pop("options", None)
    if options is None:
        options = {} if deferred else getattr(factory, "options", {})
    if not description and not deferred:
        doc = (getattr(factory, "__doc__", None) or "").strip()
        description = doc.splitlines()[0] if doc else ""
    return Entry(kind, name, factory, description, info.name, info.version, dict(options), keywords)


def _failure(exc: BaseException) -> str:
    """What a plugin raised, as its status shows it."""
    if isinstance(exc, SystemExit):
        return f"SystemExit: it called sys.exit({exc.code!r})"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
