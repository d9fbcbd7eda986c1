"""`seqkit check`: run the contract checks on installed cells, tasks, topologies, trainers."""

from __future__ import annotations

import json

import click

from seqkit._cli.params import kind_of
from seqkit._core.errors import ConfigError, UnknownNameError
from seqkit._plugins.registry import KINDS, get_registry


@click.command("check")
@click.argument("names", nargs=-1)
@click.option("--kind", type=click.Choice(sorted(KINDS)), help="Which kind the NAMES are.")
@click.option("--plugin", "plugin", help="Check everything this plugin registers.")
@click.option("--all", "everything", is_flag=True, help="Check everything installed.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per check.")
def check_cmd(
    names: tuple[str, ...], kind: str | None, plugin: str | None, everything: bool, as_json: bool
) -> None:
    """Check NAMES (or a --plugin's names, or --all) against their contracts: one line
    per check, passed, failed with the reason, or skipped. Exit 1 if any failed."""
    from seqkit.testing import CHECKS_BY_KIND

    registry = get_registry()
    targets = select(names, kind, plugin, everything)
    failed = 0
    for target_kind, name in targets:
        for check in CHECKS_BY_KIND[target_kind](name, registry=registry):
            finding = check.run()
            failed += finding.passed is False
            click.echo(json.dumps(finding.as_dict()) if as_json else finding.line())
    if not as_json:
        click.echo(f"{len(targets)} checked, {failed} check(s) failed")
    if failed:
        raise SystemExit(1)


def select(
    names: tuple[str, ...], kind: str | None, plugin: str | None, everything: bool
) -> list[tuple[str, str]]:
    """(kind, name) pairs to check, in the registry's order."""
    registry = get_registry()
    every = [(k, e.name) for k in KINDS for e in registry.entries(k)]
    if sum([bool(names), plugin is not None, everything]) != 1:
        raise ConfigError("give NAMES, --plugin NAME or --all (one of them)")
    if everything:
        return every
    if plugin is not None:
        known = [p.name for p in registry.plugins]
        if plugin not in known:
            raise UnknownNameError("plugin", plugin, known)
        return [(k, e.name) for k in KINDS for e in registry.entries(k) if e.plugin == plugin]
    return [(kind_of(name, kind), name) for name in names]
