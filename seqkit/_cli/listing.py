"""`seqkit list` and `seqkit plugins`."""

from __future__ import annotations

import json
from typing import Any

import click

from seqkit._registry import KINDS, PLURALS, get_registry

KIND_OF = {plural: kind for kind, plural in PLURALS.items()}


@click.command("list")
@click.argument("what", required=False, type=click.Choice(sorted(KIND_OF)))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def list_cmd(what: str | None, as_json: bool) -> None:
    """List cells, topologies, tasks and trainers (or just WHAT) with their plugins."""
    registry = get_registry()
    kinds = [KIND_OF[what]] if what else list(KINDS)
    table: dict[str, list[dict[str, Any]]] = {
        PLURALS[k]: [
            {
                "name": e.name,
                "description": e.description,
                "plugin": e.plugin,
                "version": e.version,
                "options": {n: o.default for n, o in e.options.items()},
                **({"default": True} if e.extra.get("default") else {}),
            }
            for e in registry.entries(k)
        ]
        for k in kinds
    }
    if as_json:
        click.echo(json.dumps(table, indent=2))
        return
    for plural, rows in table.items():
        click.secho(plural, bold=True)
        width = max((len(r["name"]) for r in rows), default=4)
        for r in rows:
            mark = " (default)" if r.get("default") else ""
            click.echo(f"  {r['name']:<{width}}  {r['description']}{mark}  [{r['plugin']}]")
        click.echo()


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def plugins_cmd(as_json: bool) -> None:
    """Loaded plugins: distribution, version, status and what each registers."""
    plugins = get_registry().plugins
    if as_json:
        click.echo(json.dumps([p.as_dict() for p in plugins], indent=2))
        return
    for p in plugins:
        origin = "built-in" if p.builtin else (p.distribution or "registered in process")
        click.echo(f"{p.name}  {p.version or '-'}  ({origin})  {p.status}")
        for plural, names in p.registers.items():
            click.echo(f"    {plural}: {', '.join(names)}")
        if p.error:
            click.echo(f"    error: {p.error}")
