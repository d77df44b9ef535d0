"""Decoding one chat frame's JSON: orjson when it is installed, else the stdlib's C scanner.

Parsing JSON is most of what reading a chat stream costs: on the benchmark's ADK frames (500 B on
average) ``json.loads`` takes 8.7 us a frame, the stdlib scanner called directly 5.2 us, and
``orjson.loads`` 2.3 us. orjson is therefore used when importable (``pip install
'nemovideo[speedups]'``), and never changes a result: any text it refuses (``NaN``, lone
surrogates, nesting past 1,024 levels, bad JSON) is decoded again by :func:`json.loads`, which
then accepts it or raises exactly as it always would. orjson also reads an integer past 64 bits
as a float, silently; a text holding a run of 19 digits (the shortest such integer has 19)
therefore goes to the stdlib without being offered to orjson. That check costs about a fifth
of what orjson saves.

    >>> loads('{"a": [1, 2.5, "x"]}')
    {'a': [1, 2.5, 'x']}
    >>> loads("NaN")
    nan
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

__all__ = [
    "BACKEND",
    "LONG_RUN",
    "digit_screen",
    "loads",
    "loads_utf8",
    "screened_loads",
    "use_orjson",
]

_scan: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]

try:
    import orjson as _orjson
except (
    ImportError
):  # pragma: no cover - exercised by tests/http/test_json_backend.py in a subprocess
    _orjson = None  # type: ignore[assignment]


def _stdlib(data: str) -> Any:
    """``json.loads`` without its wrappers: the C scanner on the text; anything but one clean
    value (leading or trailing text, bad JSON) goes through ``json.loads`` itself."""
    try:
        obj, end = _scan(data, 0)
    except StopIteration:
        return json.loads(data)
    return obj if end == len(data) else json.loads(data)


_DIGITS = bytes(0x30 if 0x30 <= b <= 0x39 else 0x2E for b in range(256))
LONG_RUN = b"0" * 19
"""What a run of 19 digits (the shortest integer past 64 bits has 19) is in a
:func:`digit_screen`: a text whose screen holds it is never offered to orjson."""


def digit_screen(data: bytes) -> bytes:
    """``data`` with every digit as ``0`` and every other byte as ``.``: ``find(LONG_RUN)`` on it
    tells where orjson could read a number otherwise than ``json.loads``. The chat screens a
    chunk's frames joined, once (``chat._events.screened``), rather than each frame.

        >>> digit_screen(b'{"n": 12}')
        b'......00.'
    """
    return data.translate(_DIGITS)


_REFUSED = object()


def _by_orjson(raw: bytes) -> Any:
    """orjson's value for ``raw``, or ``_REFUSED`` where it refuses the text or could read it
    otherwise than ``json.loads`` (a run of 19 digits: an integer past 64 bits).

    ``find``, not ``in``: ``bytes.__contains__`` first tries its operand as an integer and
    builds (then clears) a ``TypeError`` each time, which cost as much as the search itself.
    """
    if digit_screen(raw).find(LONG_RUN) >= 0:
        return _REFUSED
    try:
        return _orjson.loads(raw)
    except ValueError:  # orjson.JSONDecodeError; also bytes that are not UTF-8
        return _REFUSED


def _fast(data: str) -> Any:
    value = _by_orjson(data.encode("utf-8", "surrogatepass"))
    return _stdlib(data) if value is _REFUSED else value


def _stdlib_utf8(data: bytes) -> Any:
    return _stdlib(data.decode("utf-8", "replace"))


def _fast_utf8(data: bytes) -> Any:
    """``_by_orjson`` written out: this runs once per chat event, and a call is a tenth of it."""
    if data.translate(_DIGITS).find(LONG_RUN) < 0:
        try:
            return _orjson.loads(data)
        except ValueError:
            pass
    return _stdlib(data.decode("utf-8", "replace"))


loads: Callable[[str], Any] = _stdlib if _orjson is None else _fast
"""``json.loads(data)``, the same values and errors, faster."""

loads_utf8: Callable[[bytes], Any] = _stdlib_utf8 if _orjson is None else _fast_utf8
"""``json.loads(data.decode("utf-8", "replace"))``, the same values and errors, faster."""

screened_loads: Callable[[bytes], Any] = _stdlib_utf8 if _orjson is None else _orjson.loads
"""For bytes whose :func:`digit_screen` holds no ``LONG_RUN`` (the chat screens a chunk once):
``orjson.loads`` itself, no second screen; it raises ``ValueError`` where orjson refuses the
text, and the caller then reads it with :func:`loads_utf8`. The stdlib without orjson."""

BACKEND = "stdlib" if _orjson is None else "orjson"
"""Which parser :func:`loads` uses now: ``"orjson"`` or ``"stdlib"``."""


def use_orjson(enabled: bool) -> str:
    """Switch :func:`loads` between orjson and the stdlib (benchmarks compare both in one run).

    Returns the backend now in use; asking for orjson without it installed keeps the stdlib.
    Callers look the functions up on this module (``_json.loads``) so the switch reaches them.
    """
    global loads, loads_utf8, BACKEND
    on = enabled and _orjson is not None
    if on:
        loads, loads_utf8, BACKEND = _fast, _fast_utf8, "orjson"
    else:
        loads, loads_utf8, BACKEND = _stdlib, _stdlib_utf8, "stdlib"
    return BACKEND
