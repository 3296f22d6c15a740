"""The dependency rule of DESIGN.md section 8, checked on the source of panther/.

Every module is parsed with `ast`; every import counts, at module level or inside a function,
under `if TYPE_CHECKING:` or not, relative ones resolved to absolute names. No module is
imported, so the test needs no database and sees imports that only run on some paths.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

PANTHER = Path(__file__).resolve().parents[2] / "panther"

# ---------------------------------------------------------------- the dependency rule

# Plain Python over frozen dataclasses: readable and testable without a server or a database.
DOMAIN = ("panther.ledger", "panther.matching", "panther.settlement", "panther.inventory")

# Web and database frameworks. DuckDB, Arrow and NumPy are compute libraries the matching
# engine runs on: allowed in the domain, so not listed.
WEB_AND_DATABASE = (
    "connexion",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "sqlmodel",
    "alembic",
    "psycopg",
    "httpx",
)
SQL = ("sqlalchemy", "sqlmodel", "psycopg")


@dataclass(frozen=True)
class Rule:
    """Modules under `importers` (less `exempt`) import nothing under `forbidden` (less
    `allowed`). Names match a module and everything under it."""

    name: str
    importers: tuple[str, ...]
    forbidden: tuple[str, ...]
    exempt: tuple[str, ...] = ()
    allowed: tuple[str, ...] = ()


RULES = (
    Rule(
        "the domain imports neither server, adapters nor web or database frameworks",
        importers=DOMAIN,
        forbidden=("panther.server", "panther.adapters", *WEB_AND_DATABASE),
    ),
    Rule(
        "use cases depend on ports (Protocols), not on adapters or SQL",
        importers=("panther.server.services",),
        forbidden=("panther.adapters", *SQL),
    ),
    Rule(
        "representations are pure functions: no adapters, use cases, SQL or connexion",
        importers=("panther.server.representations",),
        forbidden=("panther.adapters", "panther.server.services", "sqlalchemy", "connexion"),
        # the ports' types, and the error vocabulary a body that cannot be parsed raises
        allowed=("panther.server.services.ports", "panther.server.services.errors"),
    ),
    Rule(
        "only the composition root picks concrete adapters",
        importers=("panther.server",),
        forbidden=("panther.adapters",),
        # The CLI's maintenance commands (migrate, replay) work on the database directly.
        exempt=("panther.server.bootstrap", "panther.server.cli"),
    ),
)

# ---------------------------------------------------------------- the checker


@dataclass(frozen=True)
class Module:
    name: str
    is_package: bool
    source: str
    path: str = ""


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str  # absolute; a panther module where it names one, else as written
    line: int


def under(name: str, prefixes: Iterable[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def modules_in(root: Path) -> list[Module]:
    """Every module of the package at `root`, named as Python imports it."""
    out: list[Module] = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_package else parts)
        rel = str(path.relative_to(root.parent))
        out.append(Module(name, is_package, path.read_text(encoding="utf-8"), rel))
    return out


def _resolve(module: Module, level: int, target: str | None) -> str:
    package = module.name if module.is_package else module.name.rpartition(".")[0]
    parts = package.split(".")
    if level - 1 >= len(parts):
        raise ValueError(f"{module.name}: relative import beyond the top-level package")
    base = ".".join(parts[: len(parts) - (level - 1)])
    return f"{base}.{target}" if target else base


def imports_of(module: Module, known: set[str]) -> list[Import]:
    """What `module` imports, anywhere in its body. `from X import n` is X.n where that is a
    module in `known`, else X."""
    out: list[Import] = []
    for node in ast.walk(ast.parse(module.source, module.path or module.name)):
        if isinstance(node, ast.Import):
            out.extend(Import(module.name, alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = _resolve(module, node.level, node.module)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                target = submodule if submodule in known else base
                out.append(Import(module.name, target, node.lineno))
    return out


def all_imports(modules: Iterable[Module]) -> list[Import]:
    modules = list(modules)
    known = {m.name for m in modules}
    return [imp for m in modules for imp in imports_of(m, known)]


def import_graph(modules: Iterable[Module]) -> dict[str, set[str]]:
    """Module -> the modules of the same tree it imports (itself left out)."""
    modules = list(modules)
    graph: dict[str, set[str]] = {m.name: set() for m in modules}
    for imp in all_imports(modules):
        if imp.imported in graph and imp.imported != imp.importer:
            graph[imp.importer].add(imp.imported)
    return graph


def _strongly_connected(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Tarjan's components, iteratively (no recursion limit on a deep import chain)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = len(index)
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(sorted(graph[succ]))))
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(sorted(component))
    return components


def _shortest_cycle(graph: Mapping[str, set[str]], start: str, within: set[str]) -> list[str]:
    """A shortest path start -> ... -> start inside one component."""
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for succ in sorted(graph[node] & within):
            if succ == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [start, *reversed(path[:-1]), start]
            if succ not in came_from:
                came_from[succ] = node
                queue.append(succ)
    raise AssertionError(f"{start} is in a component but on no cycle")


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """One shortest cycle per group of modules that import each other, as a path."""
    found = []
    for component in _strongly_connected(graph):
        if len(component) > 1:
            found.append(_shortest_cycle(graph, component[0], set(component)))
    return sorted(found)


def violations(imports: Iterable[Import], rule: Rule) -> list[Import]:
    return [
        imp
        for imp in imports
        if under(imp.importer, rule.importers)
        and not under(imp.importer, rule.exempt)
        and under(imp.imported, rule.forbidden)
        and not under(imp.imported, rule.allowed)
    ]


# ---------------------------------------------------------------- panther/ itself

MODULES = modules_in(PANTHER)
PATHS = {m.name: m.path for m in MODULES}


def test_the_checker_sees_the_tree() -> None:
    # A checker that parsed nothing would pass every rule.
    graph = import_graph(MODULES)
    assert len(graph) > 80
    assert "panther.server.app" in graph["panther.server.cli"]
    assert "panther.adapters.sql.db" in graph["panther.server.bootstrap"]


def test_no_import_cycles() -> None:
    found = cycles(import_graph(MODULES))
    assert not found, "import cycles among panther modules:\n" + "\n".join(
        "  " + " -> ".join(cycle) for cycle in found
    )


@pytest.mark.parametrize("rule", RULES, ids=[r.name for r in RULES])
def test_dependency_rule(rule: Rule) -> None:
    broken = violations(all_imports(MODULES), rule)
    assert not broken, f"{rule.name}; broken by:\n" + "\n".join(
        f"  {PATHS[imp.importer]}:{imp.line}: {imp.importer} imports {imp.imported}"
        for imp in broken
    )


# ---------------------------------------------------------------- the checker itself


def _tree(sources: Mapping[str, str]) -> list[Module]:
    """Synthetic modules: a name ending in `/` is a package (`a.b/` is a/b/__init__.py)."""
    return [
        Module(name.rstrip("/"), name.endswith("/"), source) for name, source in sources.items()
    ]


def test_a_cycle_is_found_with_its_path() -> None:
    tree = _tree(
        {
            "app/": "",
            "app.a": "import app.b\n",
            "app.b": "def f():\n    from app import c\n",  # inside a function
            "app.c": "from .a import thing\n",  # relative
            "app.d": "import app.a\n",  # imports into the cycle, is not on it
        }
    )
    assert cycles(import_graph(tree)) == [["app.a", "app.b", "app.c", "app.a"]]


def test_two_modules_importing_each_other_are_a_cycle() -> None:
    tree = _tree(
        {
            "app/": "",
            # An import for type checking only is still a dependency.
            "app.x": "import typing\nif typing.TYPE_CHECKING:\n    from app.y import Y\n",
            "app.y": "from app import x\n",
        }
    )
    assert cycles(import_graph(tree)) == [["app.x", "app.y", "app.x"]]


def test_a_clean_graph_passes() -> None:
    tree = _tree(
        {
            "app/": "from app.core import thing\n",  # a package re-exporting: no cycle
            "app.core": "import json\n",
            "app.web/": "",
            "app.web.views": "from ..core import thing\nfrom . import routes\n",
            "app.web.routes": "from app import core\n",
        }
    )
    graph = import_graph(tree)
    assert cycles(graph) == []
    assert graph["app.web.views"] == {"app.core", "app.web.routes"}
    assert graph["app.web.routes"] == {"app.core"}


def test_relative_imports_resolve_from_the_package() -> None:
    tree = _tree(
        {"app/": "", "app.s/": "from . import m\n", "app.s.m": "from .. import t\n", "app.t": ""}
    )
    graph = import_graph(tree)
    assert graph["app.s"] == {"app.s.m"}
    assert graph["app.s.m"] == {"app.t"}


def test_a_rule_reports_each_forbidden_import_and_honours_its_exceptions() -> None:
    rule = Rule(
        "test",
        importers=("app.core",),
        forbidden=("app.web", "sqlalchemy"),
        exempt=("app.core.boot",),
        allowed=("app.web.types",),
    )
    tree = _tree(
        {
            "app/": "",
            "app.core/": "",
            "app.core.a": "import sqlalchemy.orm\ndef f():\n    from app.web import views\n",
            "app.core.b": "from app.web.types import T\nimport sqlalchemy_utils\n",
            "app.core.boot": "import app.web.views\n",
            "app.web/": "",
            "app.web.views": "import sqlalchemy\n",
            "app.web.types": "",
        }
    )
    broken = {(imp.importer, imp.imported, imp.line) for imp in violations(all_imports(tree), rule)}
    assert broken == {
        ("app.core.a", "sqlalchemy.orm", 1),
        ("app.core.a", "app.web.views", 3),
    }
