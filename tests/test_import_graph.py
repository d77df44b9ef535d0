"""The package's modules import each other without a cycle, the emulator included.

A cycle makes the import order matter (one module sees the other half-initialised), and it is the
sign that code sits in the wrong module: what two modules both need belongs to a third that
imports neither. The graph is read from the source with ``ast``:

- the nodes are every module of the package, ``nemovideo/**/*.py`` (a folder's ``__init__`` is
  the folder's module: ``nemovideo.chat``);
- an edge is any ``import`` statement naming another of them, at module level *or inside a
  function*: a lazy import still runs, it only runs later, so a cycle through one is still two
  modules that need each other. Importing ``nemovideo.chat._events`` runs ``nemovideo.chat``
  first, so it is an edge to the folder's ``__init__`` too (the root package excepted: it is
  always first). Imports under ``if TYPE_CHECKING:`` never run and do not count;
- ``nemovideo/__init__.py`` loads its lazy names with ``importlib`` (``_LAZY``, for a cheap
  ``import nemovideo``); the modules named there are edges of the package too.

A lazy import that closes a cycle on purpose (for import speed, say) must be listed in
``LAZY_CYCLE_EDGES`` with its reason.
"""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest

import nemovideo

PACKAGE = Path(nemovideo.__file__).parent
ROOT = "nemovideo"

#: (importer, imported) lazy imports allowed to close a cycle, each with why it must stay lazy.
LAZY_CYCLE_EDGES: dict[tuple[str, str], str] = {
    ("nemovideo.errors", "nemovideo._util.plain"): (
        "NemoError.to_dict converts its attributes (a partial ChatReply, a Draft) with the values' "
        "own converter, which raises the SDK's errors; errors is the first module everything "
        "imports, so it may load the converter only when an error is converted"
    ),
    ("nemovideo.batch.shard", "nemovideo.sync"): (
        "run_shard is a Dask/Ray task that must build its own client in the worker, while "
        "NemoClient.batch() delegates to the batch package: the task's import runs only inside "
        "the task, in a process where the client is already importable"
    ),
}


def _module_names() -> dict[str, Path]:
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = (ROOT, *path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def _is_type_checking(node: ast.If) -> bool:
    return "TYPE_CHECKING" in ast.unparse(node.test)


def _with_parents(module: str, modules: set[str], here: str) -> list[str]:
    """``module`` and the folders (below the root) whose ``__init__`` importing it from ``here``
    runs: a module inside a folder finds that folder already initialising, so not its own."""
    parts = module.split(".")
    found = [".".join(parts[:n]) for n in range(2, len(parts) + 1)]
    return [m for m in found if m in modules and not here.startswith(m + ".")]


def _targets(
    node: ast.Import | ast.ImportFrom, here: str, is_package: bool, modules: set[str]
) -> list[str]:
    """The package modules one import statement loads (relative imports resolved)."""
    if isinstance(node, ast.Import):
        return [t for a in node.names for t in _with_parents(a.name, modules, here)]
    if node.level:
        base_parts = here.split(".")[: None if is_package else -1]
        base_parts = base_parts[: len(base_parts) - (node.level - 1)]
        base = ".".join([*base_parts, *([node.module] if node.module else [])])
    else:
        base = node.module or ""
    if not (base == ROOT or base.startswith(f"{ROOT}.")):
        return []
    targets = _with_parents(base, modules, here) if base != ROOT else []
    for alias in node.names:  # from x import y: the module x.y, else a name of x itself
        sub = f"{base}.{alias.name}"
        targets += [sub] if sub in modules else ([base] if base in modules else [])
    return list(dict.fromkeys(targets))


def _lazy_modules(tree: ast.Module, modules: set[str]) -> set[str]:
    """The modules ``__init__``'s ``_LAZY`` table names (string constants that are modules)."""
    for node in tree.body:
        if isinstance(node, ast.AnnAssign | ast.Assign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "_LAZY" for t in targets):
                assert node.value is not None
                strings = (c.value for c in ast.walk(node.value) if isinstance(c, ast.Constant))
                found = (_with_parents(f"{ROOT}.{s}", modules, ROOT) for s in strings)
                return {m for ms in found for m in ms}
    return set()


def import_graph() -> dict[str, dict[str, tuple[int, bool]]]:
    """``{importer: {imported: (line, lazy)}}``: ``lazy`` when the import is inside a function."""
    files = _module_names()
    modules = set(files)
    graph: dict[str, dict[str, tuple[int, bool]]] = {}
    for name, path in files.items():
        graph[name] = _edges(name, path, modules)
    return graph


def _edges(name: str, path: Path, modules: set[str]) -> dict[str, tuple[int, bool]]:
    """One module's imports of other package modules: ``{imported: (line, lazy)}``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.stem == "__init__"
    edges: dict[str, tuple[int, bool]] = {}

    def visit(node: ast.AST, lazy: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child, lazy)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            for target in _targets(node, name, is_package, modules):
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
    return edges


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


def test_no_import_cycle_in_the_package() -> None:
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
    assert graph["nemovideo.client"]["nemovideo._http.endpoints"][1] is False  # from x import m
    assert graph["nemovideo.client"]["nemovideo._http"][1] is False  # ... runs x's __init__
    assert graph["nemovideo.chat"]["nemovideo.chat._stream"][1] is False  # from .x import y
    assert graph["nemovideo.cli"]["nemovideo.cli._commands"][1] is True  # inside main()
    assert graph["nemovideo.cli"]["nemovideo"] == (graph["nemovideo.cli"]["nemovideo"][0], False)
    assert "nemovideo.client" not in graph["nemovideo.render._renderer"]  # under TYPE_CHECKING
    assert {"nemovideo.chat", "nemovideo.sync"} <= set(graph["nemovideo"])  # from _LAZY
    assert "nemovideo.testing._server.app" in graph["nemovideo.testing"]  # the emulator too
    assert find_cycle({"a": {"b": (1, False)}, "b": {"a": (2, True)}}) == ["a", "b", "a"]


def _banned_for_tests() -> set[str]:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    pyproject = PACKAGE.parent / "pyproject.toml"
    lint = tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]["ruff"]["lint"]
    return set(lint["flake8-tidy-imports"]["banned-api"])


def test_tests_are_kept_off_every_private_module() -> None:
    """ruff's TID251 list (pyproject.toml) names each private module, new ones included, so a
    test that reaches past the public names fails lint unless it is a listed test of internals."""
    private = set()
    for module in _module_names():
        parts = module.split(".")
        for n, part in enumerate(parts):
            if part.startswith("_") and not part.startswith("__"):
                private.add(".".join(parts[: n + 1]))
                break
    banned = _banned_for_tests()
    assert private - banned == set(), "add these to [tool.ruff.lint.flake8-tidy-imports]"
    assert banned - private == set(), "these are no longer modules of the package"
