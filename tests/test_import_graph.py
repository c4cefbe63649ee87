"""No import cycles in victor_server, and no imports upward from the parts to the core or faces.

Every module is parsed with ``ast`` and every import counts: module level, inside
``if TYPE_CHECKING:`` and inside functions. A ``TYPE_CHECKING`` import is a dependency of the
module's types; a function-level import is one the module takes the moment that function runs,
so being lazy (for a heavy third-party package) is no licence to point back up: two modules that
need each other share a type or a function, and that belongs in a leaf module both import (as
``selection/types.py`` holds what the selection coordinator and its strategies share).

``import a.b.c`` also runs the ``__init__`` of each package on the way (``a.b``), so it counts as
importing those too, unless the importer is itself inside that package (Python has it partly
initialised already; a package importing its own submodules is not a cycle).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import victor_server

PACKAGE_DIR = Path(victor_server.__file__).parent


def modules(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` under the package directory ``root``."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = [root.name, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imported(tree: ast.Module, package: str) -> Iterator[tuple[str, list[str]]]:
    """(base module, names) for every import statement anywhere in ``tree``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")
                parent = parent[:len(parent) - (node.level - 1)]
                base = ".".join([*parent, base] if base else parent)
            yield base, [alias.name for alias in node.names]


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the package modules it imports (see the module docstring for what counts)."""
    mods = modules(root)

    def known(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {name: set() for name in mods}
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for base, names in _imported(ast.parse(path.read_text(), str(path)), package):
            if names:  # ``from base import x``: x is a submodule, or a name in base
                targets |= {f"{base}.{n}" if f"{base}.{n}" in mods else known(base) or ""
                            for n in names}
            else:
                targets.add(known(base) or "")
        for target in targets - {"", name}:
            graph[name].add(target)
            parts = target.split(".")
            for i in range(2, len(parts)):  # the packages whose __init__ runs on the way
                ancestor = ".".join(parts[:i])
                if ancestor in mods and not (name == ancestor or
                                             name.startswith(ancestor + ".")):
                    graph[name].add(ancestor)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def describe(component: list[str], graph: dict[str, set[str]]) -> str:
    members = set(component)
    edges = [f"{a} -> {b}" for a in component for b in sorted(graph[a] & members)]
    return "; ".join(edges)


def test_victor_server_has_no_import_cycles() -> None:
    graph = import_graph(PACKAGE_DIR)
    assert len(graph) > 100  # the whole package was read
    found = cycles(graph)
    assert not found, "import cycles (TYPE_CHECKING and function-level imports count):\n" + \
        "\n".join(describe(c, graph) for c in found)


# What serves a protocol, a command line or the Python API (``victor_server.api``, the
# coordinator-style names for programs that embed the server): the only modules that may import
# the orchestrator. The analytics dashboard is a command of its own (an HTTP server over the store).
FACES = ("victor_server.adapters", "victor_server.app", "victor_server.service",
         "victor_server.api", "victor_server.methods",
         "victor_server.commands", "victor_server.cli", "victor_server.__main__",
         "victor_server.analytics.dashboard")
ABOVE_THE_PARTS = ("victor_server.orchestrator", "victor_server.chat", *FACES)


def _within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def test_the_parts_never_import_the_orchestrator_the_turn_or_a_face() -> None:
    graph = import_graph(PACKAGE_DIR)
    upward = {name: sorted(t for t in targets if _within(t, ABOVE_THE_PARTS))
              for name, targets in graph.items()
              if not _within(name, ("victor_server.orchestrator", *FACES))
              and name != "victor_server.chat"}
    assert {name: t for name, t in upward.items() if t} == {}
    # the turn runner is handed its parts; it does not reach back for them
    assert not _within_any(graph["victor_server.chat"], ABOVE_THE_PARTS)


def _within_any(modules: set[str], prefixes: tuple[str, ...]) -> bool:
    return any(_within(m, prefixes) for m in modules)


def test_the_checker_finds_each_kind_of_cycle(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from typing import TYPE_CHECKING\n"
                              "if TYPE_CHECKING:\n    from pkg.b import B\n")
    (pkg / "b.py").write_text("from pkg import a\n")
    (pkg / "c.py").write_text("def f():\n    from .d import g\n")
    (pkg / "d.py").write_text("import pkg.c\n")
    # importing pkg.sub.leaf runs pkg/sub/__init__.py, which imports e
    (pkg / "sub" / "__init__.py").write_text("from pkg.e import x\n")
    (pkg / "sub" / "leaf.py").write_text("from . import sibling\n")
    (pkg / "sub" / "sibling.py").write_text("y = 1\n")
    (pkg / "e.py").write_text("from pkg.sub.leaf import y\n")
    (pkg / "f.py").write_text("import os\nfrom pkg.b import a\n")  # no cycle through f

    graph = import_graph(pkg)

    assert graph["pkg.e"] == {"pkg.sub.leaf", "pkg.sub"}
    assert graph["pkg.sub.leaf"] == {"pkg.sub.sibling"}  # its own package's init is no edge
    assert cycles(graph) == [["pkg.a", "pkg.b"], ["pkg.c", "pkg.d"], ["pkg.e", "pkg.sub"]]
    assert describe(["pkg.a", "pkg.b"], graph) == "pkg.a -> pkg.b; pkg.b -> pkg.a"
