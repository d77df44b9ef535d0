"""The client's modules import each other without a cycle.

A cycle makes the import order matter (one module sees the other half-initialised), and it is the
sign that code sits in the wrong module: what two modules both need belongs to a third that
imports neither. The graph is read from the source with ``ast``:

- the nodes are the modules ``nemovideo/*.py`` (``nemovideo.testing`` is the emulator, kept out of
  the client by ``tests/testing/test_import_boundary.py``);
- an edge is any ``import`` statement naming another of them, at module level *or inside a
  function*: a lazy import still runs, it only runs later, so a cycle through one is still two
  modules that need each other. Imports under ``if TYPE_CHECKING:`` never run and do not count;
- ``nemovideo/__init__.py`` loads its lazy names with ``importlib`` (``_LAZY``, for a cheap
  ``import nemovideo``); the modules named there are edges of the package too.

A lazy import that closes a cycle on purpose (for import speed, say) must be listed in
``LAZY_CYCLE_EDGES`` with its reason; today there is none.
"""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import nemovideo

PACKAGE = Path(nemovideo.__file__).parent
ROOT = "nemovideo"

#: (importer, imported) lazy imports allowed to close a cycle, each with why it must stay lazy.
LAZY_CYCLE_EDGES: dict[tuple[str, str], str] = {}


def _module_names() -> dict[str, Path]:
    return {ROOT if p.stem == "__init__" else f"{ROOT}.{p.stem}": p for p in PACKAGE.glob("*.py")}


def _is_type_checking(node: ast.If) -> bool:
    return "TYPE_CHECKING" in ast.unparse(node.test)


def _targets(node: ast.Import | ast.ImportFrom, modules: set[str]) -> list[str]:
    """The client modules one import statement loads (relative imports resolved)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name in modules]
    if node.level > 1:
        return []
    base = (node.module or "") if node.level == 0 else ".".join(filter(None, (ROOT, node.module)))
    if not (base == ROOT or base.startswith(f"{ROOT}.")):
        return []
    if base == ROOT:  # from . import x: the module x, else a name of the package itself
        return [f"{ROOT}.{a.name}" if f"{ROOT}.{a.name}" in modules else ROOT for a in node.names]
    return [base] if base in modules else []


def _lazy_modules(tree: ast.Module, modules: set[str]) -> set[str]:
    """The modules ``__init__``'s ``_LAZY`` table names (string constants that are modules)."""
    for node in tree.body:
        if isinstance(node, ast.AnnAssign | ast.Assign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "_LAZY" for t in targets):
                assert node.value is not None
                strings = (c.value for c in ast.walk(node.value) if isinstance(c, ast.Constant))
                return {f"{ROOT}.{s}" for s in strings if f"{ROOT}.{s}" in modules}
    return set()


def import_graph() -> dict[str, dict[str, tuple[int, bool]]]:
    """``{importer: {imported: (line, lazy)}}``: ``lazy`` when the import is inside a function."""
    files = _module_names()
    modules = set(files)
    graph: dict[str, dict[str, tuple[int, bool]]] = {}
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        edges: dict[str, tuple[int, bool]] = {}

        def visit(node: ast.AST, lazy: bool, edges: dict[str, tuple[int, bool]] = edges) -> None:
            if isinstance(node, ast.If) and _is_type_checking(node):
                for child in node.orelse:
                    visit(child, lazy)
                return
            if isinstance(node, ast.Import | ast.ImportFrom):
                for target in _targets(node, modules):
                    if not lazy or target not in edges:
                        edges[target] = (node.lineno, lazy)
            inner = lazy or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            for child in ast.iter_child_nodes(node):
                visit(child, inner)

        visit(tree, False)
        if name == ROOT:
            for target in _lazy_modules(tree, modules):
                edges.setdefault(target, (0, True))
        edges.pop(name, None)
        graph[name] = edges
    return graph


def find_cycle(graph: dict[str, dict[str, tuple[int, bool]]]) -> list[str]:
    """One cycle as ``[a, b, ..., a]``, or ``[]`` when the graph has none."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def walk(node: str) -> list[str]:
        path.append(node)
        on_path.add(node)
        for nxt in sorted(graph.get(node, {})):
            if (node, nxt) in LAZY_CYCLE_EDGES:
                continue
            if nxt in on_path:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in done and (found := walk(nxt)):
                return found
        path.pop()
        on_path.discard(node)
        done.add(node)
        return []

    for start in sorted(graph):
        if start not in done and (found := walk(start)):
            return found
    return []


def _describe(cycle: list[str], graph: dict[str, dict[str, tuple[int, bool]]]) -> str:
    steps = []
    for a, b in itertools.pairwise(cycle):
        line, lazy = graph[a][b]
        where = "_LAZY" if line == 0 else f"line {line}"
        steps.append(f"  {a} -> {b} ({where}{', inside a function' if lazy else ''})")
    return "\n".join(steps)


def test_no_import_cycle_among_client_modules() -> None:
    graph = import_graph()
    cycle = find_cycle(graph)
    assert not cycle, "import cycle:\n" + _describe(cycle, graph)


def test_every_exempted_lazy_edge_is_still_a_lazy_import() -> None:
    graph = import_graph()
    for a, b in LAZY_CYCLE_EDGES:
        assert graph.get(a, {}).get(b, (0, False))[1], f"{a} -> {b} is no longer a lazy import"


def test_the_reader_sees_the_kinds_of_import_it_must() -> None:
    """The parser itself: relative, absolute, lazy and TYPE_CHECKING imports, and ``_LAZY``."""
    graph = import_graph()
    assert graph["nemovideo.client"]["nemovideo._http.endpoints"][1] is False  # from . import x
    assert graph["nemovideo.errors"]["nemovideo._error_text"][1] is False  # from .x import y
    assert graph["nemovideo.cli"]["nemovideo.cli._commands"][1] is True  # inside main()
    assert graph["nemovideo.cli"]["nemovideo"] == (graph["nemovideo.cli"]["nemovideo"][0], False)
    assert "nemovideo.client" not in graph["nemovideo.render"]  # only under TYPE_CHECKING
    assert {"nemovideo.chat", "nemovideo.sync"} <= set(graph["nemovideo"])  # from _LAZY
    assert find_cycle({"a": {"b": (1, False)}, "b": {"a": (2, True)}}) == ["a", "b", "a"]
