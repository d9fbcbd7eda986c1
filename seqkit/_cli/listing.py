"""`seqkit list`, `seqkit describe` and `seqkit plugins`."""

from __future__ import annotations

import json
from typing import Any

import click

from seqkit._cli.params import kind_of
from seqkit._plugins.registry import KINDS, PLURALS, Entry, get_registry

KIND_OF = {plural: kind for kind, plural in PLURALS.items()}


def entry_info(entry: Entry) -> dict[str, Any]:
    """An entry as `list --json` and `describe --json` show it, every option described."""
    return {
        "name": entry.name,
        "kind": entry.kind,
        "description": entry.description,
        "plugin": entry.plugin,
        "version": entry.version,
        "options": {name: option.describe() for name, option in entry.options.items()},
        **({"default": True} if entry.extra.get("default") else {}),
    }


def option_lines(info: dict[str, Any], indent: str = "      ") -> list[str]:
    """One line per option: `name  type = default  [choices | bounds]  help`."""
    options = info["options"]
    width = max((len(n) for n in options), default=0)
    lines = []
    for name, o in options.items():
        limits = ""
        if o["choices"] is not None:
            limits = "  {" + ", ".join(map(str, o["choices"])) + "}"
        elif o["min"] is not None or o["max"] is not None:
            low = "" if o["min"] is None else f"{o['min']:g}"
            high = "" if o["max"] is None else f"{o['max']:g}"
            limits = f"  [{low}, {high}]"
        kind = f"{o['type']} = {o['default']!r}"
        flag = f"  (also --{name.replace('_', '-')})" if o.get("flag") else ""
        if o.get("tune"):
            flag += f"  (fastest: a long run times {', '.join(map(str, o['tune']))})"
        lines.append(f"{indent}{name:<{width}}  {kind}{limits}  {o['help']}{flag}".rstrip())
    return lines


@click.command("list")
@click.argument("what", required=False, type=click.Choice(sorted(KIND_OF)))
@click.option("--verbose", "-v", is_flag=True, help="Also every option: help, type, default.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def list_cmd(what: str | None, verbose: bool, as_json: bool) -> None:
    """List cells, topologies, tasks and trainers (or just WHAT) with their plugins."""
    registry = get_registry()
    kinds = [KIND_OF[what]] if what else list(KINDS)
    table = {PLURALS[k]: [entry_info(e) for e in registry.entries(k)] for k in kinds}
    if as_json:
        click.echo(json.dumps(table, indent=2))
        return
    for plural, rows in table.items():
        click.secho(plural, bold=True)
        width = max((len(r["name"]) for r in rows), default=4)
        for r in rows:
            mark = " (default)" if r.get("default") else ""
            click.echo(f"  {r['name']:<{width}}  {r['description']}{mark}  [{r['plugin']}]")
            if verbose:
                for line in option_lines(r) or ["      (no options)"]:
                    click.echo(line)
        click.echo()


@click.command("describe")
@click.argument("name")
@click.option(
    "--kind",
    type=click.Choice(sorted(KINDS)),
    help="Which kind NAME is, when several kinds use the name.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def describe_cmd(name: str, kind: str | None, as_json: bool) -> None:
    """What NAME is (a cell, topology, task or trainer), who provides it, and every
    option it takes: help, type, default, choices and bounds."""
    kind = kind_of(name, kind)
    entry = get_registry().get(kind, name)
    info = entry_info(entry)
    if kind == "suite":
        info["entries"] = suite_entries(name)
    if kind == "task":
        info["defaults"] = task_defaults(entry)
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    click.secho(f"{info['kind']} {info['name']}: {info['description']}", bold=True)
    click.echo(f"  from plugin {info['plugin']} {info['version'] or ''}".rstrip())
    if kind == "suite":
        click.echo("  entries (seqkit suite NAME --entries E,...):")
        for e in info["entries"]:
            settings = ", ".join(
                f"{k}={v}" for k, v in {**e["task_options"], **e["settings"]}.items()
            )
            click.echo(f"    {e['slug']:<14} {e['task']}: {settings}")
            click.echo(f"    {'':<14} {e['source']}")
        return
    if info.get("defaults"):
        chosen = ", ".join(f"{k}={v}" for k, v in info["defaults"].items())
        click.echo(f"  defaults (a flag overrides each): {chosen}")
    flag = f"--{info['kind']}-opt"
    if info["options"]:
        click.echo(f"  options ({flag} NAME=VALUE):")
        for line in option_lines(info, "    "):
            click.echo(line)
    else:
        click.echo("  no options")


def task_defaults(entry: Entry) -> dict[str, Any]:
    """The run settings a task chooses (`Task.defaults`), with the rest seqkit's own."""
    from seqkit._core.config import FALLBACK

    return {**FALLBACK, **dict(getattr(entry.factory, "defaults", None) or {})}


def suite_entries(name: str) -> list[dict[str, Any]]:
    """A suite's entries as `describe` shows them."""
    from seqkit._plugins.suite_entries import get_suite, slug

    return [
        {
            "name": e.name,
            "slug": slug(e.name),
            "task": e.task,
            "task_options": dict(e.task_options),
            "settings": dict(e.settings),
            "source": e.source,
        }
        for e in get_suite(name).entries
    ]


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
        api = f"  api {p.api}" if p.api is not None else ""
        click.echo(f"{p.name}  {p.version or '-'}  ({origin})  {p.status}{api}")
        for plural, names in p.registers.items():
            click.echo(f"    {plural}: {', '.join(names)}")
        if p.error:
            click.echo(f"    error: {p.error}")
        if p.warning:
            click.echo(f"    warning: {p.warning}")
