"""The package's layout keeps its rules (docs/architecture.md): no import cycle, counting
the imports inside functions; no library module imports the command line; importing the
package or the planner loads no database driver, no pandas, no matplotlib."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "runbook"


def modules(root: Path = PKG) -> dict[str, Path]:
    out = {}
    for p in root.rglob("*.py"):
        parts = p.relative_to(root.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = p
    return out


def import_graph(mods: dict[str, Path]) -> dict[str, set[str]]:
    """module -> the package modules it imports, anywhere in its body (functions too)."""

    def known(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([base] if base else []))
                # `from . import x` imports the submodule x when there is one
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]
            for t in targets:
                k = known(t)
                if k and k != mod:
                    graph[mod].add(k)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_graph_finds_a_cycle_through_an_import_inside_a_function(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .b import x\n")
    (pkg / "b.py").write_text("x = 1\ndef f():\n    from . import a\n")
    (pkg / "c.py").write_text("from . import a\n")
    assert cycles(import_graph(modules(pkg))) == [["pkg.a", "pkg.b"]]


def test_no_import_cycle():
    found = cycles(import_graph(modules()))
    assert found == [], f"import cycles: {found}"


def test_no_library_module_imports_the_command_line():
    graph = import_graph(modules())
    bad = {m: sorted(t for t in ts if t == "runbook.cli" or t.startswith("runbook.cli."))
           for m, ts in graph.items() if not (m == "runbook.cli" or m.startswith("runbook.cli."))}
    assert {m: t for m, t in bad.items() if t} == {}


def test_importing_the_package_and_the_planner_loads_nothing_heavy():
    code = ("import sys, runbook, runbook.plan, runbook.prisma, runbook.mapping; "
            "print(' '.join(m for m in ('psycopg2', 'sqlalchemy', 'pandas', 'matplotlib', 'papermill', 'nbconvert') "
            "if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == ""


def test_the_api_names_stay_callable_whatever_is_imported_first():
    code = ("import runbook.plan, runbook.api, runbook\n"
            "assert callable(runbook.plan) and runbook.plan.__name__ == 'plan'\n"
            "assert all(callable(getattr(runbook, n)) for n in runbook.__all__ if n != '__version__')\n")
    subprocess.run([sys.executable, "-c", code], check=True)
