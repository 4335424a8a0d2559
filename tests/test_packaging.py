"""Every third-party module the package imports is a declared runtime dependency.

A missing declaration passes in a developer's venv and fails on a fresh install; this
test fails first.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [ROOT / "ogcrm", ROOT / "plugins", ROOT / "migrations"]
OWN = {"ogcrm", "ogcrm_plugins", "ogcrm_migrations"}


def _imported_top_levels() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for folder in SOURCES:
        for path in folder.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], path)
    return found


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {
        re.split(r"[\[<>=!~ ;]", req, maxsplit=1)[0].lower().replace("_", "-")
        for req in project["dependencies"]
    }


def test_runtime_imports_are_declared_dependencies():
    declared = _declared()
    dists = packages_distributions()
    missing = {}
    for name, path in _imported_top_levels().items():
        if name in OWN or name in sys.stdlib_module_names or name == "__future__":
            continue
        owners = {d.lower().replace("_", "-") for d in dists.get(name, [name])}
        # transitive providers that ship inside a declared extra are named by the extra
        if not owners & declared and not owners & _EXTRAS_PROVIDED:
            missing[name] = str(path.relative_to(ROOT))
    assert missing == {}, f"imported but not declared in [project] dependencies: {missing}"


# Modules that come with a declared dependency rather than as their own requirement.
_EXTRAS_PROVIDED = {
    "anyio",  # starlette
    "graphql-core",  # strawberry-graphql
    "cross-web",  # strawberry-graphql
    "argon2-cffi",  # pwdlib[argon2]
}


def test_every_python_package_ships_in_the_wheel():
    """`pip install .` builds from the explicit package list; an unlisted folder is absent."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    folder_of = {name: ROOT / folder for name, folder in config["package-dir"].items()}
    expected = set()
    for top, folder in [
        ("ogcrm", ROOT / "ogcrm"),
        ("ogcrm_plugins", folder_of["ogcrm_plugins"]),
        ("ogcrm_migrations", folder_of["ogcrm_migrations"]),
    ]:
        for init in folder.rglob("__init__.py"):
            parts = init.parent.relative_to(folder).parts
            expected.add(".".join((top, *parts)))
    assert expected - listed == set(), "packages missing from [tool.setuptools] packages"
