"""``nemovideo/__init__.py`` is the map of the public API: every name in ``__all__`` imports, each
public class reports ``nemovideo`` as its module, and the API reference in docs/reference renders
every one of them (so a new public type cannot be left out of the docs)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import nemovideo

REFERENCE = Path(__file__).resolve().parents[1] / "docs" / "reference"
_DIRECTIVE = re.compile(r"^::: (?P<target>[\w.]+)\n(?P<options>(?:[ ]{4}.*\n|\n)*)", re.M)


def _resolve(path: str) -> Any:
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            value: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            value = getattr(value, attr)
        return value
    raise ImportError(path)


def _rendered() -> list[Any]:
    """Every object a ``::: target`` directive of docs/reference renders."""
    objects: list[Any] = []
    for page in sorted(REFERENCE.glob("*.md")):
        for match in _DIRECTIVE.finditer(page.read_text("utf-8")):
            target = _resolve(match["target"])
            members = re.findall(r"^\s+- (\w+)\s*$", match["options"], re.M)
            if isinstance(target, type(nemovideo)):
                names = members or list(getattr(target, "__all__", ()))
                objects += [getattr(target, name) for name in names]
            else:
                objects.append(target)
    return objects


def test_every_public_name_imports_and_reports_the_public_module() -> None:
    assert len(set(nemovideo.__all__)) == len(nemovideo.__all__), "a name is listed twice"
    for name in nemovideo.__all__:
        value = getattr(nemovideo, name)
        if isinstance(value, type):
            assert value.__module__ == "nemovideo", f"{name}.__module__ is {value.__module__}"


def test_the_api_reference_renders_every_public_name() -> None:
    rendered = _rendered()
    missing = [
        name
        for name in nemovideo.__all__
        if name != "__version__" and not any(getattr(nemovideo, name) is o for o in rendered)
    ]
    assert not missing, f"docs/reference renders none of: {missing}"
