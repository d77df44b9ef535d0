"""Every public name carries a docstring (issue 8), so the generated API reference has no blanks.

The walk covers ``nemovideo.__all__``, the uploader types, ``nemovideo.notebook`` and
``nemovideo.testing``; for each public class it checks the class itself and every public method,
property, classmethod and staticmethod defined by ``nemovideo`` code anywhere in its MRO (so an
undocumented method on a private base class is caught too, while ``object``/``Exception``/attrs
machinery is not). The failure lists every missing name at once.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import types
from collections.abc import Iterator
from typing import Any

import nemovideo
import nemovideo.notebook
import nemovideo.testing

_MEMBER_KINDS = (
    types.FunctionType,
    property,
    functools.cached_property,
    classmethod,
    staticmethod,
)


def _public_objects() -> Iterator[tuple[str, Any]]:
    for name in nemovideo.__all__:
        if not name.startswith("_"):
            yield f"nemovideo.{name}", getattr(nemovideo, name)
    for name in ("Uploader", "UploadedMedia"):
        owner: Any = (
            nemovideo if hasattr(nemovideo, name) else importlib.import_module("nemovideo.upload")
        )
        yield f"{owner.__name__}.{name}", getattr(owner, name)
    for module in (nemovideo.notebook, nemovideo.testing):
        for name in module.__all__:
            yield f"{module.__name__}.{name}", getattr(module, name)


def _own_doc(member: Any) -> str | None:
    if isinstance(member, (classmethod, staticmethod)):
        member = member.__func__
    if isinstance(member, functools.cached_property):
        member = member.func
    doc = getattr(member, "__doc__", None)
    return doc if doc and doc.strip() else None


def _class_members(cls: type) -> Iterator[tuple[type, str, Any]]:
    seen: set[str] = set()
    for klass in cls.__mro__:
        if not klass.__module__.startswith("nemovideo"):
            continue
        for name, member in vars(klass).items():
            if name.startswith("_") or name in seen or not isinstance(member, _MEMBER_KINDS):
                continue
            seen.add(name)
            yield klass, name, member


def _missing() -> list[str]:
    """Public labels of undocumented names; a member is reported once, on its public owner."""
    objects = list(_public_objects())
    public_classes = {obj for _, obj in objects if inspect.isclass(obj)}
    missing: dict[object, str] = {}
    for label, obj in objects:
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        if not _own_doc(obj):
            missing.setdefault(obj, label)
        if inspect.isclass(obj):
            for klass, name, member in _class_members(obj):
                if klass is not obj and klass in public_classes:
                    continue
                if not _own_doc(member):
                    via = "" if klass is obj else f" (defined on {klass.__qualname__})"
                    missing.setdefault((klass, name), f"{label}.{name}{via}")
    return sorted(missing.values())


def test_public_api_is_walked() -> None:
    labels = {label for label, _ in _public_objects()}
    assert "nemovideo.NemoClient" in labels
    assert "nemovideo.testing.Emulator" in labels
    assert "nemovideo.notebook.progress_bar" in labels
    assert any(label.endswith(".Uploader") for label in labels)
    members = {name for _, name, _ in _class_members(nemovideo.Draft)}
    assert {"summary", "title", "from_json", "empty"} <= members


def test_every_public_name_has_a_docstring() -> None:
    missing = _missing()
    assert not missing, f"{len(missing)} public names lack a docstring:\n" + "\n".join(missing)
