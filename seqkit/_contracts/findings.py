"""What a contract check finds: a Finding per check, `Broken` and `Skipped` as a check
raises them, and one ContractError naming every failure of a plugin."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from seqkit._core.errors import PluginError, SeqkitError
from seqkit._plugins.registry import Entry

CONTRACTS = {"cell": "Cell", "task": "Task", "topology": "Topology", "trainer": "Trainer"}


class Broken(Exception):
    """A check failed: the message says what was expected and what was seen."""


class Skipped(Exception):
    """A check does not apply to this subject; the message says why."""


@dataclass(frozen=True)
class Finding:
    """The outcome of one check: `passed` True, False, or None when it was skipped."""

    kind: str
    name: str
    plugin: str
    check: str
    passed: bool | None
    detail: str = ""

    def line(self) -> str:
        mark = {True: "ok  ", False: "FAIL", None: "skip"}[self.passed]
        return f"{mark}  {self.kind} {self.name}: {self.check}" + (
            f": {self.detail}" if self.detail else ""
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "plugin": self.plugin,
            "check": self.check,
            "passed": self.passed,
            "detail": self.detail,
        }


class ContractError(PluginError):
    """A plugin broke its contract. Names the plugin, the entry, the check, what was
    expected and what was seen; `findings` holds every failed check."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        first = findings[0]
        more = f" (and {len(findings) - 1} more)" if len(findings) > 1 else ""
        super().__init__(
            f"{first.kind} '{first.name}' from plugin '{first.plugin}' breaks the "
            f"{CONTRACTS[first.kind]} contract: {first.check}: {first.detail}{more}"
        )


# -- running checks -----------------------------------------------------------------------
def run_check(
    kind: str, entry: Entry, check: str, fn: Callable[[Any], None], subject: Any
) -> Finding:
    """One check's Finding; an exception other than Broken/Skipped is a failure too."""
    try:
        fn(subject)
    except Broken as exc:
        return Finding(kind, entry.name, entry.plugin, check, False, str(exc))
    except Skipped as exc:
        return Finding(kind, entry.name, entry.plugin, check, None, str(exc))
    except SeqkitError as exc:
        return Finding(kind, entry.name, entry.plugin, check, False, str(exc))
    except Exception as exc:
        text = " ".join(str(exc).split()) or type(exc).__name__
        return Finding(
            kind, entry.name, entry.plugin, check, False, f"raised {type(exc).__name__}: {text}"
        )
    return Finding(kind, entry.name, entry.plugin, check, True)


def require(findings: list[Finding]) -> None:
    """Raise ContractError if any finding failed."""
    failed = [f for f in findings if f.passed is False]
    if failed:
        raise ContractError(failed)
