# SPDX-License-Identifier: BSD-3-Clause
"""The Python package's structure (the twin of tests/test_core_layers.py): the modules of
``pydevice`` import each other one way.  Every import counts -- at module level and inside
functions, which only defer a cycle to the first call -- except those under
``if TYPE_CHECKING:``, which never run."""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "python" / "pydevice"


def module_names(package: Path) -> dict:
    """``{dotted module name: path}`` of every module under ``package`` (a package is its
    ``__init__.py``)."""
    base = package.parent
    out = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(base).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(node: ast.AST):
    """The Import/ImportFrom nodes that run: everywhere in ``node`` but the body of an
    ``if TYPE_CHECKING:`` (its ``else`` runs)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for stmt in child.orelse:
                if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                    yield stmt
                yield from _imports(stmt)
            continue
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child
        yield from _imports(child)


def _target(name: str, modules: dict) -> Optional[str]:
    """The deepest module of ``modules`` that ``name`` (dotted) names, or None."""
    parts = name.split(".")
    while parts:
        if ".".join(parts) in modules:
            return ".".join(parts)
        parts.pop()
    return None


def import_graph(package: Path) -> dict:
    """``{module: {modules of the package it imports}}``; an import names the module it
    loads (``from .a import b`` is ``a.b`` when that is a module, else ``a``), not the
    parent packages Python runs first -- a package re-exporting its submodules is no cycle."""
    modules = module_names(package)
    graph: dict = {name: set() for name in modules}
    for name, path in modules.items():
        is_pkg = path.name == "__init__.py"
        tree = ast.parse(path.read_text(), str(path))
        for node in _imports(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                if node.level:
                    here = name.split(".") if is_pkg else name.split(".")[:-1]
                    stem = ".".join(here[:len(here) - node.level + 1] +
                                    ([node.module] if node.module else []))
                else:
                    stem = node.module or ""
                names = [f"{stem}.{alias.name}" if f"{stem}.{alias.name}" in modules else stem
                         for alias in node.names]
            for imported in names:
                target = _target(imported, modules)
                if target is not None and target != name:
                    graph[name].add(target)
    return graph


def find_cycles(graph: dict) -> list:
    """One cycle (``[a, b, ..., a]``) per group of modules that import each other."""
    index: dict = {}
    low: dict = {}
    stack: list = []
    on_stack: set = set()
    groups: list = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(set(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    cycles = []
    for group in groups:
        start = min(group)
        path, seen = [start], {start}
        while True:  # walk inside the group until a module repeats: that is a cycle
            nxt = min(w for w in graph[path[-1]] if w in group)
            if nxt in seen:
                cycles.append(path[path.index(nxt):] + [nxt])
                break
            path.append(nxt)
            seen.add(nxt)
    return cycles


def test_the_python_modules_import_each_other_one_way():
    graph = import_graph(PACKAGE)
    assert graph["pydevice.gpio.records"], "no imports seen: the parser is broken"
    cycles = find_cycles(graph)
    assert not cycles, "import cycles in pydevice: " + "; ".join(" -> ".join(c) for c in cycles)


def test_the_cycle_check_sees_function_imports_and_skips_type_checking(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from .a import A\n")
    (pkg / "a.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                              "    from .b import B\nclass A: pass\n")
    (pkg / "b.py").write_text("from . import a\n")
    assert find_cycles(import_graph(pkg)) == []  # a's import of b never runs
    (pkg / "a.py").write_text("def f():\n    from .b import B\n")
    assert find_cycles(import_graph(pkg)) == [["pkg.a", "pkg.b", "pkg.a"]]
