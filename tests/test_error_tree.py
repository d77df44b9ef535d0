"""The exception tree drawn in ``nemovideo.errors``' docstring (and docs/errors.md) is the real one:
every class drawn under a parent derives from it, every public error class is drawn, and each
class's drawn parent is its nearest ``NemoError`` base."""

from __future__ import annotations

import re
from pathlib import Path

import nemovideo
from nemovideo import errors


def _drawn(block: str) -> dict[str, str | None]:
    """``{class name: drawn parent}`` from a box-drawing tree; depth = name column // 4."""
    parents: dict[str, str | None] = {}
    stack: list[str] = []
    for line in block.splitlines():
        match = re.search(r"[A-Z]\w+", line)
        assert match, line
        depth = match.start() // 4
        del stack[depth:]
        parents[match.group()] = stack[-1] if stack else None
        stack.append(match.group())
    return parents


def _tree_block(text: str) -> str:
    """The tree: from the ``NemoError`` line to the next blank line, dedented."""
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if line.strip() == "NemoError")
    indent = len(lines[first]) - len(lines[first].lstrip())
    block = []
    for line in lines[first:]:
        if not line.strip() or line.strip().startswith("```"):
            break
        block.append(line[indent:])
    return "\n".join(block)


def _nearest_drawn_base(cls: type, drawn: dict[str, str | None]) -> str | None:
    for base in cls.__mro__[1:]:
        if base.__name__ in drawn:
            return base.__name__
    return None


def test_docstring_tree_matches_the_classes() -> None:
    drawn = _drawn(_tree_block(errors.__doc__ or ""))
    public = {
        name
        for name in dir(errors)
        if isinstance(getattr(errors, name), type)
        and issubclass(getattr(errors, name), errors.NemoError)
    }
    assert set(drawn) == public, f"drawn but missing / missing from drawing: {set(drawn) ^ public}"
    for name, parent in drawn.items():
        cls = getattr(errors, name)
        assert _nearest_drawn_base(cls, drawn) == parent, f"{name} is drawn under {parent}"
        assert getattr(nemovideo, name) is cls, f"{name} is not exported from nemovideo"


def test_docs_page_draws_the_same_tree() -> None:
    page = (Path(__file__).resolve().parents[1] / "docs" / "errors.md").read_text("utf-8")
    assert _tree_block(page) == _tree_block(errors.__doc__ or "")
