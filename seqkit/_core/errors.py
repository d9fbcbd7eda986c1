"""The errors seqkit raises on purpose. The CLI turns each into one line and exit 2."""

from __future__ import annotations

from collections.abc import Iterable


class SeqkitError(Exception):
    """Base class: a problem the user can fix, reported without a traceback."""


class ConfigError(SeqkitError, ValueError):
    """A value is invalid: the message names it and says what is allowed."""


class UnknownNameError(SeqkitError, KeyError):
    """A cell, topology, task or trainer name that no plugin registered."""

    def __init__(self, kind: str, name: str, available: Iterable[str]) -> None:
        self.kind, self.name = kind, name
        self.available = sorted(available)
        listed = ", ".join(self.available) or "none registered"
        plural = "topologies" if kind == "topology" else f"{kind}s"
        if not isinstance(name, str):  # from a config file: `cell = 3`
            super().__init__(
                f"a {kind} is given by name, a string (got {name!r}). Available {plural}: {listed}."
            )
            return
        import difflib  # here, not at import: most runs never suggest a name

        close = difflib.get_close_matches(name, self.available, n=1, cutoff=0.5)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        super().__init__(f"unknown {kind} '{name}'.{hint} Available {plural}: {listed}.")

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class NameClashError(SeqkitError):
    """Two plugins registered the same name for the same kind."""


class PluginError(SeqkitError):
    """A plugin failed to load or broke the contract (raised in strict mode)."""


class NonFiniteError(SeqkitError):
    """Training produced a NaN or infinite loss."""


class Interrupted(SeqkitError):
    """Training was stopped by a signal; the run can be resumed from its checkpoint."""


class WriteFailed(SeqkitError):
    """A file could not be written (no space left, a read-only file system, an I/O
    error); the file's previous version, if it had one, is left in place."""


class WorkerFailed(SeqkitError):
    """A worker process of a multi-process (torchrun) run failed; the job was stopped."""
