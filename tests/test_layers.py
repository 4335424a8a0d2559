"""The floors run one way: a module imports only from its own package or from a floor
below it, and no two modules import each other (directly or in a ring), except the one
deliberate pair of GraphQL types that refer to each other lazily.

Imports inside functions count: hiding an upward import in a function body is how the
knots this test keeps out were made. Imports under ``if TYPE_CHECKING:`` do not run and
are not counted. The floors are described in docs/architecture.md.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: package prefix -> floor (higher floors may import lower ones, never the reverse)
FLOORS: dict[str, int] = {
    "ogcrm": 1,  # the package root: the public surface plugins import (hookimpl, bases)
    "ogcrm.config": 0,
    "ogcrm.identifiers": 0,
    "ogcrm.errors": 0,
    "ogcrm.failpoints": 0,
    "ogcrm.progress": 0,
    "ogcrm.pipeline": 1,
    "ogcrm.rules": 1,
    "ogcrm.hookspecs": 1,
    "ogcrm.plugins": 1,
    "ogcrm_plugins": 1,
    "ogcrm.db": 2,
    "ogcrm.events": 3,  # pub/sub, published after commit (ogcrm.db.deferred)
    "ogcrm.auth": 3,
    "ogcrm.jobs": 4,
    "ogcrm.scoring": 5,
    "ogcrm.accounts": 6,
    "ogcrm.messaging": 6,
    "ogcrm.sales": 7,
    "ogcrm.datasets": 7,
    "ogcrm.reports": 8,
    "ogcrm.worker": 8,
    "ogcrm.api": 9,
    "ogcrm.demo": 9,  # runs the product's flows end to end: above every domain and the worker
    "ogcrm.cli": 9,
}
#: modules on one floor that may import each other's package (the pure bottom floor is
#: one room; the faces share the composition root and the CLI serves the API)
SAME_FLOOR_ALLOWED = {("ogcrm.cli", "ogcrm.api"), ("ogcrm.cli", "ogcrm.demo")}
#: the one deliberate ring: Organization.contacts and Contact.organization
ALLOWED_RING = {"ogcrm.api.types.contact", "ogcrm.api.types.organization"}


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[0] == "plugins":
        parts[0] = "ogcrm_plugins"
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for base in ("ogcrm", "plugins"):
        for path in (ROOT / base).rglob("*.py"):
            found[_module_name(path)] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    return "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(path: Path, module: str, *, top_level_only: bool) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]

    def visit(node: ast.AST, depth: int) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                continue
            inner = depth + isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.Import) and not (top_level_only and depth):
                out.update(a.name for a in child.names)
            elif isinstance(child, ast.ImportFrom) and not (top_level_only and depth):
                base = child.module or ""
                if child.level:
                    anchor = package.rsplit(".", child.level - 1)[0] if child.level > 1 else package
                    base = f"{anchor}.{base}" if base else anchor
                out.add(base)
                out.update(f"{base}.{a.name}" for a in child.names)
            visit(child, inner)

    visit(tree, 0)
    return {name for name in out if name.split(".")[0] in ("ogcrm", "ogcrm_plugins")}


def _floor(module: str) -> tuple[str, int]:
    best = max((p for p in FLOORS if module == p or module.startswith(p + ".")), key=len)
    return best, FLOORS[best]


def layer_violations() -> list[str]:
    modules = _modules()
    problems = []
    for module, path in sorted(modules.items()):
        here, floor = _floor(module)
        for target in sorted(_imports(path, module, top_level_only=False)):
            if target not in modules:
                continue  # a name imported from a module, checked as that module
            there, their_floor = _floor(target)
            if there == here or (floor == 1 and their_floor == 1):
                continue
            if their_floor > floor or (
                their_floor == floor and (here, there) not in SAME_FLOOR_ALLOWED
            ):
                problems.append(f"{module} (floor {floor}) imports {target} (floor {their_floor})")
    return problems


def import_rings() -> list[list[str]]:
    modules = _modules()
    graph = {
        m: {t for t in _imports(p, m, top_level_only=False) if t in modules and t != m}
        for m, p in modules.items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    rings: list[list[str]] = []
    counter = [0]

    def connect(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            ring = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                ring.append(w)
                if w == v:
                    break
            if len(ring) > 1:
                rings.append(sorted(ring))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return rings


def test_no_module_imports_from_a_higher_floor():
    assert layer_violations() == []


def test_no_import_rings_but_the_graphql_types_pair():
    assert [r for r in import_rings() if set(r) != ALLOWED_RING] == []


def test_the_check_sees_an_upward_import_inside_a_function(tmp_path, monkeypatch):
    """The contract is not vacuous: a lower floor reaching up, even lazily, is caught."""
    fake = tmp_path / "ogcrm" / "db"
    fake.mkdir(parents=True)
    (fake / "sneaky.py").write_text("def f():\n    from ogcrm.api.app import create_app\n")
    assert _imports(fake / "sneaky.py", "ogcrm.db.sneaky", top_level_only=False) >= {
        "ogcrm.api.app"
    }
    assert _floor("ogcrm.db.sneaky")[1] < _floor("ogcrm.api.app")[1]
