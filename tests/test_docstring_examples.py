"""Every ``>>>`` example in the package's docstrings runs, and shows what it says it shows.

``doctest.testmod`` alone would skip the public classes: their ``__module__`` is ``nemovideo``
(the public path), not the module that defines them, so each module's own classes and
functions are searched explicitly too.
"""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import inspect
import pkgutil
from pathlib import Path
from types import ModuleType

import pytest

import nemovideo


def _has_examples(name: str) -> bool:
    spec = importlib.util.find_spec(name)
    origin = spec.origin if spec is not None else None
    return origin is not None and ">>>" in Path(origin).read_text(encoding="utf-8")


MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(nemovideo.__path__, "nemovideo.")
    if _has_examples(info.name)
)


def examples(module: ModuleType) -> list[doctest.DocTest]:
    finder = doctest.DocTestFinder()
    found = {t.name: t for t in finder.find(module)}
    source = inspect.getsource(module)
    for name, obj in vars(module).items():
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        if getattr(obj, "__module__", None) == module.__name__:
            continue  # testmod found it
        keyword = "class" if inspect.isclass(obj) else "def"
        if f"\n{keyword} {name}(" in source or f"\n{keyword} {name}:" in source:
            for test in finder.find(obj, f"{module.__name__}.{name}", module=False,
                                    globs=dict(vars(module))):  # fmt: skip
                found.setdefault(test.name, test)
    return [t for t in found.values() if t.examples]


def test_the_examples_are_found() -> None:
    assert {
        "nemovideo._util.jsonparse",
        "nemovideo.draft._diff",
        "nemovideo.draft._read",
        "nemovideo.chat._sse",
    } <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    tests = examples(importlib.import_module(name))
    assert tests, f"{name} has '>>>' in its source but no example was found"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for test in tests:
        runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
