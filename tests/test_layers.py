"""The floor plan: seqkit's private code lives in layered packages, each importing only from
the layers below it, and the import graph has no cycle. Every import counts: at the top of a
module, inside a function (a deferred import hides a cycle, it does not remove it) and
under `TYPE_CHECKING` (a type named upward is a dependency upward)."""

from __future__ import annotations

import ast
import shutil
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

LAYERS = (
    "_core",
    "_present",
    "_plugins",
    "_model",
    "_train",
    "_contracts",
    "_run",
    "_study",
    "public",
    "_cli",
)
"""Bottom to top. `seqkit._version` sits with `_core`. "public" is the API a library user
imports (`seqkit`, `seqkit.testing`); the command line is a face over it, and
`python -m seqkit` (`seqkit.__main__`) over that."""

TOP = len(LAYERS)


def module_name(package: Path, path: Path) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> int:
    parts = module.split(".")
    if module == "seqkit._version":
        return 0
    if module == "seqkit.__main__":
        return TOP
    if len(parts) > 1 and parts[1] in LAYERS:
        return LAYERS.index(parts[1])
    return LAYERS.index("public")


def imports(package: Path) -> dict[str, list[tuple[int, str, bool]]]:
    """Each module of `package` -> (line, module it imports, deferred?) for every import of
    a seqkit module, wherever it stands in the file."""
    modules = {module_name(package, p): p for p in package.rglob("*.py")}
    found = {}
    for name, path in modules.items():
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges = list(imported(ast.parse(path.read_text()), here, set(modules), False))
        found[name] = [e for e in edges if e[1] != name]
    return found


def imported(
    node: ast.AST, here: str, modules: set[str], deferred: bool
) -> Iterator[tuple[int, str, bool]]:
    """(line, module, deferred?) for each import of one of `modules` under `node`; `here`
    is the package that relative imports start from."""
    for child in ast.iter_child_nodes(node):
        inner = deferred or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
        if isinstance(child, ast.ImportFrom):
            base = child.module or ""
            if child.level:
                up = here.split(".")[: len(here.split(".")) - (child.level - 1)]
                base = ".".join([*up, base] if base else up)
            # `from seqkit._run import rundir` imports the module seqkit._run.rundir
            for alias in child.names:
                target = f"{base}.{alias.name}"
                target = target if target in modules else base
                if target in modules:
                    yield child.lineno, target, inner
        elif isinstance(child, ast.Import):
            yield from ((child.lineno, a.name, inner) for a in child.names if a.name in modules)
        yield from imported(child, here, modules, inner)


def upward(package: Path) -> list[str]:
    """Every import that points up the layers."""
    wrong = []
    for module, edges in sorted(imports(package).items()):
        for line, target, _ in edges:
            if layer(target) > layer(module):
                wrong.append(f"{module}:{line} imports {target}")
    return wrong


def cycles(package: Path) -> list[list[str]]:
    """The import graph's cycles, one per strongly connected group of modules."""
    graph = {m: sorted({t for _, t, _ in e}) for m, e in imports(package).items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def connect(v: str) -> None:  # Tarjan's algorithm
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return groups


def test_every_private_module_lives_in_a_layer():
    package = ROOT / "seqkit"
    loose = sorted(
        p.name
        for p in package.glob("*.py")
        if p.name not in {"__init__.py", "__main__.py", "testing.py", "_version.py"}
    )
    assert loose == []
    folders = sorted(p.name for p in package.iterdir() if p.is_dir() and p.name != "__pycache__")
    assert folders == sorted(set(LAYERS) - {"public"})


def test_every_import_points_down_the_layers():
    assert upward(ROOT / "seqkit") == []


def test_the_import_graph_has_no_cycle():
    assert cycles(ROOT / "seqkit") == []


def test_the_check_catches_a_planted_upward_import_and_cycle(tmp_path):
    package = tmp_path / "seqkit"
    shutil.copytree(ROOT / "seqkit", package, ignore=shutil.ignore_patterns("__pycache__"))
    errors = package / "_core" / "errors.py"
    errors.write_text(errors.read_text() + "\n\ndef _late():\n    from seqkit._run import runner\n")
    assert [w for w in upward(package) if w.startswith("seqkit._core.errors:")] == [
        f"seqkit._core.errors:{len(errors.read_text().splitlines())} imports seqkit._run.runner"
    ]
    assert any("seqkit._core.errors" in group for group in cycles(package))


def test_deferred_imports_among_layers_are_for_import_time_only():
    """Inside the layers, a seqkit module is imported inside a function only to keep a
    cheap command from paying for it (torch, matplotlib): the CLI loads a command's module
    when the command runs, and modules that torch-free code reaches defer their heavy
    neighbours. Each such module is listed here with its reason."""
    allowed = {
        "seqkit": "each public name loads its module on first use (`_LAZY`)",
        "seqkit._cli": "each command's module loads when the command runs",
        "seqkit._present.drawing": "the drawing process loads matplotlib's plots",
    }
    deferred = [
        f"{module}:{line} imports {target}"
        for module, edges in sorted(imports(ROOT / "seqkit").items())
        for line, target, inner in edges
        if inner and not any(module == m or module.startswith(m + ".") for m in allowed)
    ]
    assert deferred == []
