"""Plain data for the public values: ``to_dict()`` (JSON-ready) and ``from_dict()`` (rebuilt).

A result that leaves the process through JSON (Celery's default serializer, a web answer, a
queue) needs a form made of dicts, lists, strings, numbers, booleans and ``None``; the value
classes inherit :class:`Plain` for it, as openai-python's models do::

    >>> from nemovideo import Credits
    >>> Credits(available=90, frozen=10, total=100).to_dict()
    {'available': 90, 'frozen': 10, 'total': 100}
    >>> Credits.from_dict({'available': 90, 'frozen': 10, 'total': 100})
    Credits(available=90, frozen=10, total=100)

``to_dict`` writes every attrs field under its own name (nested values as their own
``to_dict``; tuples as lists; a float that JSON cannot hold, ``NaN`` or infinity, as ``None``).
A chat event also carries ``"type"`` (its class name), so a list of mixed events rebuilds.
``from_dict`` reads that form back by the fields' declared types; keys it does not know are
ignored, so a newer writer's dict still reads.
"""

from __future__ import annotations

import enum
import math
import os
import sys
import types
import typing
from collections.abc import Mapping
from typing import Any, NoReturn, TypeVar, Union

import attrs

from nemovideo.errors import NemoError, ValidationError

__all__ = ["Plain", "plain", "refuse_pickle", "tagged"]

P = TypeVar("P", bound="Plain")
C = TypeVar("C", bound=type)

_TAGGED: dict[str, type[Plain]] = {}
_HINTS: dict[type, dict[str, Any]] = {}
_MAX_DEPTH = 200


def tagged(cls: C) -> C:
    """Mark ``cls`` as one of a union (chat events): its dict names it under ``"type"``."""
    _TAGGED[cls.__name__] = cls
    return cls


def plain(value: Any, depth: int = 0) -> Any:
    """``value`` as JSON-ready data (see the module docstring)."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if depth > _MAX_DEPTH:
        raise ValueError("too deeply nested to convert to plain data")
    if isinstance(value, Plain):
        return value.to_dict()
    if isinstance(value, enum.Enum):
        return plain(value.value, depth + 1)
    if attrs.has(type(value)):
        return {f.name: plain(getattr(value, f.name), depth + 1) for f in attrs.fields(type(value))}
    if isinstance(value, Mapping):
        return {_key(k): plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v, depth + 1) for v in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _key(key: Any) -> str:
    return key if isinstance(key, str) else str(plain(key))


class Plain:
    """The mixin behind ``to_dict`` / ``from_dict`` (see the module docstring)."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        """This value as JSON-ready data: ``json.dumps(value.to_dict())`` always works."""
        fields = attrs.fields(type(self))  # type: ignore[arg-type]  # an attrs subclass
        out = {f.name: plain(getattr(self, f.name)) for f in fields if f.init}
        if type(self).__name__ in _TAGGED:
            return {"type": type(self).__name__, **out}
        return out

    @classmethod
    def from_dict(cls: type[P], data: Mapping[str, Any]) -> P:
        """Rebuild a value from its ``to_dict()`` form.

        :raises ValidationError: ``data`` is not a mapping of this class's fields.
        """
        if not isinstance(data, Mapping):
            raise ValidationError(f"{cls.__name__}.from_dict needs a mapping, got {type(data)}")
        hints = _hints(cls)
        kwargs = {
            f.name: _decode(hints.get(f.name), data[f.name])
            for f in attrs.fields(cls)  # type: ignore[arg-type]
            if f.init and f.name in data
        }
        try:
            return cls(**kwargs)
        except TypeError as exc:
            raise ValidationError(f"{cls.__name__}.from_dict: {exc}") from None


def _hints(cls: type) -> dict[str, Any]:
    """The declared type of each field; one that cannot be resolved here reads as ``Any``."""
    found = _HINTS.get(cls)
    if found is None:
        names = {"Mapping": Mapping, "Any": Any, **_namespace_of(cls)}
        found = {}
        for field in attrs.fields(cls):
            kind = field.type
            if isinstance(kind, str):
                try:
                    kind = eval(kind, names)
                except NameError:
                    kind = Any
            found[field.name] = kind
        _HINTS[cls] = found
    return found


def _namespace_of(cls: type) -> dict[str, Any]:
    """The names ``cls``'s annotations were written with: its defining module's.

    A public class reports ``nemovideo`` as its ``__module__`` once it is reached through the
    package (``nemovideo.ChatReply``), so that module is found as the longest-named one that
    holds the class; names that module imports only for type checking come from the package's
    lazy names."""
    holders = sorted(
        (
            name
            for name, module in list(sys.modules.items())
            if name.startswith("nemovideo") and getattr(module, cls.__name__, None) is cls
        ),
        key=len,
    )
    names: dict[str, Any] = {}
    for name in holders or [cls.__module__]:
        names.update(vars(sys.modules[name]))
    package = sys.modules.get("nemovideo")
    for lazy in getattr(package, "__all__", ()):
        if lazy not in names:
            try:
                names[lazy] = getattr(package, lazy)
            except AttributeError:
                continue
    return names


def _decode(kind: Any, value: Any) -> Any:
    """``value`` (plain data) as the declared type ``kind`` wants it."""
    if value is None:
        return None
    origin = typing.get_origin(kind)
    if origin in (Union, types.UnionType):
        options = [a for a in typing.get_args(kind) if a is not type(None)]
        if isinstance(value, Mapping) and isinstance(value.get("type"), str):
            tagged_cls = _TAGGED.get(value["type"])
            if tagged_cls is not None and tagged_cls in options:
                return tagged_cls.from_dict(value)
        return _decode(options[0], value) if len(options) == 1 else value
    if origin is tuple and isinstance(value, (list, tuple)):
        args = typing.get_args(kind)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], v) for v in value)
        return tuple(value)
    if isinstance(kind, type) and issubclass(kind, Plain) and isinstance(value, Mapping):
        return kind.from_dict(value)
    return value


def refuse_pickle(kind: str) -> NoReturn:
    """Raise the error that says what to send to another process instead of a ``kind``.

    A client holds connections, an event loop and the token; a session or a job holds its
    client. What crosses a process boundary is their ids, reopened on a client of that process.
    """
    raise NemoError(
        f"A {kind} cannot be pickled or sent to another process: it holds open connections, "
        "an event loop and the token. Send ids instead (session.id, job.id), create one client "
        "in each process, and reopen them there with client.session(session_id) and "
        "client.renderer.resume(job_id)."
    )
