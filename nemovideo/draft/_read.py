"""Liberal reading of draft fields: the spellings seen or plausible, numbers in any guise.

No public source documents a whole draft, so every view in ``draft.py`` goes through these readers:
a field is looked up under several names, on the object and then in its ``m`` metadata, and a value
that does not read (wrong type, NaN, ``1e999``, junk string) counts as absent rather than as an
error. ``own_draft`` and ``copy_draft`` keep a ``Draft``'s mapping its own (JSON text parsed, by
orjson when installed, with ``json.loads``'s values and errors; a mapping copied) without
``copy.deepcopy``. A segment is read in one pass over its own keys
(``read_segment``), not once per field::

    >>> read_segment({"st": "1.5s", "d": 2000, "m": {"name": "a.jpg", "volume": "35%"}}).volume
    0.35
    >>> ms("00:01:02.5"), seconds_to_ms("1.5"), ms(float("nan"))
    (62500.0, 1500.0, None)
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, TypeVar

from nemovideo._util import jsonparse as _json
from nemovideo._util.numbers import finite_float
from nemovideo.errors import ValidationError

T = TypeVar("T")
START_MS = ("st", "start", "start_ms", "startMs", "startTime", "start_time", "s", "offset")
START_S = ("start_s", "start_sec", "startSec", "start_seconds")
DUR_MS = ("d", "duration", "duration_ms", "durationMs", "dur", "length")
DUR_S = ("duration_s", "duration_sec", "durationSec", "duration_seconds")
END_MS = ("end", "end_ms", "endMs", "endTime", "end_time", "et")
END_S = ("end_s", "end_sec", "endSec")
NAME = ("name", "title", "label", "filename", "file_name", "fileName")
SRC = ("src", "url", "source", "cdn_url", "cdnUrl", "media_url", "mediaUrl", "path", "uri")
MEDIA_ID = ("media_id", "mediaId", "mid", "asset_id", "assetId", "resource_id")
VOLUME = ("volume", "vol", "gain")
TEXT = ("text", "content", "caption")
KIND = ("kind", "media_type", "mediaType", "file_type", "type")
ROLE = ("role",)
SEGMENT_ID = ("id", "segment_id", "segmentId")
SEGMENT_LISTS = ("sg", "segments", "clips", "items")
_NUMBERS = frozenset({int, float})
TYPE_WORDS = {
    **dict.fromkeys(("video", "image", "main", "visual"), 0),
    **dict.fromkeys(("audio", "bgm", "music", "sound", "voiceover", "voice"), 1),
    **dict.fromkeys(("text", "title", "subtitle", "subtitles", "caption", "captions"), 7),
}


def ms(value: object) -> float | None:
    """Milliseconds from ``1500``, ``"1500"``, ``"1500ms"``, ``"1.5s"`` or ``"00:00:01.5"``."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text.endswith("ms"):
            return finite_float(text[:-2])
        if text.endswith("s"):
            return seconds_to_ms(text[:-1])
        if ":" in text:
            parts = [finite_float(part) for part in text.split(":")]
            if len(parts) > 3 or any(part is None for part in parts):
                return None
            return sum((part or 0.0) * 60.0**i for i, part in enumerate(reversed(parts))) * 1000
    return finite_float(value)


def seconds_to_ms(value: object) -> float | None:
    """A number of seconds (``1.5``, ``"1.5"``) as milliseconds (``1500.0``); junk -> None."""
    found = finite_float(value)
    return None if found is None else found * 1000


def string(value: object) -> str | None:
    """A non-blank string as is, a finite number as its text (ids such as ``7``), else None."""
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return None if finite_float(value) is None else str(value)
    return None


def nonempty_text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def volume(value: object) -> float | None:
    """0-1 stays, a percentage (``35``, ``"35%"``) becomes 0.35; negative or junk -> None."""
    found = finite_float(value)
    if found is None or found < 0:
        return None
    if isinstance(value, str) and value.strip().endswith("%"):
        return found / 100
    return found / 100 if found > 1 else found


def meta(raw: object) -> Mapping[str, Any]:
    meta = raw.get("m") if isinstance(raw, Mapping) else None
    return meta if isinstance(meta, Mapping) else {}


def _is_mapping(value: object) -> bool:
    return type(value) is dict or isinstance(value, Mapping)


def pick(raw: object, keys: tuple[str, ...], read: Callable[[object], T | None]) -> T | None:
    """The first readable value under any of ``keys``, on the object itself, then in its ``m``."""
    scope: Any = raw
    for _ in range(2):
        if not _is_mapping(scope):
            return None
        for key in keys:
            if key in scope:
                value = read(scope[key])
                if value is not None:
                    return value
        scope = scope.get("m")
    return None


def timing(raw: object, after_ms: float) -> tuple[float, float]:
    """``(start_ms, duration_ms)`` of a segment: its start (else ``after_ms``) and its length.

    The length is read, else derived from the end; never negative. The emulator's and the
    server's compact form (``st`` and ``d`` in milliseconds) is read without a search.
    """
    if type(raw) is dict and type(raw.get("st")) in _NUMBERS and type(raw.get("d")) in _NUMBERS:
        start, duration = finite_float(raw["st"]), finite_float(raw["d"])
        if start is not None and duration is not None:
            return start, duration if duration > 0.0 else 0.0
    start = pick(raw, START_MS, ms)
    if start is None:
        start = pick(raw, START_S, seconds_to_ms)
    start = after_ms if start is None else start
    duration = pick(raw, DUR_MS, ms)
    if duration is None:
        duration = pick(raw, DUR_S, seconds_to_ms)
    if duration is None:
        end = pick(raw, END_MS, ms)
        end = pick(raw, END_S, seconds_to_ms) if end is None else end
        duration = 0.0 if end is None else end - start
    return start, duration if duration > 0.0 else 0.0


#: Integers of milliseconds this small convert to float exactly, so the compact form needs no check.
_EXACT = 2**53


def timed(raw_items: list[Any]) -> list[tuple[Any, int, float, float]]:
    """``(segment, index, start_ms, duration_ms)`` for each mapping in a track's list, in order.

    What ``Track.segments`` is made from, and what ``Draft.diff`` pairs without an object per clip.
    ``index`` is the place in the list; a segment without a start follows the one before. The
    compact form (``st`` and ``d`` whole milliseconds) is read here at once, the rest by ``timing``.
    """
    out: list[tuple[Any, int, float, float]] = []
    append = out.append
    cursor = 0.0
    for i, item in enumerate(raw_items):
        if type(item) is dict:
            st, d = item.get("st"), item.get("d")
            if (
                type(st) is int
                and type(d) is int
                and -_EXACT < st < _EXACT
                and -_EXACT < d < _EXACT
            ):
                start, duration = float(st), float(d) if d > 0 else 0.0
            else:
                start, duration = timing(item, cursor)
        elif isinstance(item, Mapping):
            start, duration = timing(item, cursor)
        else:
            continue
        append((item, i, start, duration))
        cursor = start + duration
    return out


def items(raw: object, keys: tuple[str, ...]) -> list[Any]:
    """The list under the first of ``keys`` that holds one (a mapping gives its values)."""
    if not isinstance(raw, Mapping):
        return []
    for key in keys:
        value = raw.get(key)
        if isinstance(value, list):
            return value
        if isinstance(value, Mapping):
            return list(value.values())
    return []


class SegmentFields(NamedTuple):
    """Everything a segment view reads, found in one pass (``None``: absent or unreadable)."""

    id: str | None = None
    start_ms: float | None = None
    start_s: float | None = None
    duration_ms: float | None = None
    duration_s: float | None = None
    end_ms: float | None = None
    end_s: float | None = None
    name: str | None = None
    src: str | None = None
    media_id: str | None = None
    volume: float | None = None
    text: str | None = None
    role: str | None = None
    kind: str | None = None


_GROUPS: tuple[tuple[tuple[str, ...], Callable[[object], Any]], ...] = (
    (SEGMENT_ID, string),
    (START_MS, ms),
    (START_S, seconds_to_ms),
    (DUR_MS, ms),
    (DUR_S, seconds_to_ms),
    (END_MS, ms),
    (END_S, seconds_to_ms),
    (NAME, string),
    (SRC, string),
    (MEDIA_ID, string),
    (VOLUME, volume),
    (TEXT, nonempty_text),
    (ROLE, string),
    (KIND, string),
)
Entry = tuple[int, int, Callable[[object], Any]]
_KEYS: dict[object, tuple[Entry, ...]] = {}
for _slot, (_keys, _read) in enumerate(_GROUPS):
    for _rank, _key in enumerate(_keys):
        _KEYS[_key] = (*_KEYS.get(_key, ()), (_slot, _rank, _read))
_EMPTY = SegmentFields()
_WIDTH = len(_GROUPS)


def _scan(scope: Mapping[Any, Any]) -> tuple[list[Any], Any]:
    """One pass over ``scope``: per field, the readable value of its best-ranked key; and ``m``."""
    found: list[Any] = [None] * _WIDTH
    ranks = [_WIDTH * 10] * _WIDTH
    keys = _KEYS
    for key, value in scope.items():
        entries = keys.get(key)
        if entries is None:
            continue
        for slot, rank, read in entries:
            if rank < ranks[slot]:
                got = read(value)
                if got is not None:
                    found[slot], ranks[slot] = got, rank
    return found, scope.get("m")


def read_segment(raw: object) -> SegmentFields:
    """The fields of one segment, on the segment first and then in its ``m`` (as ``pick`` would)."""
    if not isinstance(raw, Mapping):
        return _EMPTY
    own, inner = _scan(raw)
    if isinstance(inner, Mapping) and None in own:
        deep, _ = _scan(inner)
        own = [mine if mine is not None else theirs for mine, theirs in zip(own, deep, strict=True)]
    return SegmentFields._make(own)


_ATOMS = frozenset({str, int, float, bool, type(None)})


def _fresh(node: Any) -> Any:
    """A private copy of a JSON tree: new dicts and lists, shared immutable leaves.

    Several times faster than ``copy.deepcopy`` (no memo, no dispatch per leaf); anything that is
    not JSON-shaped falls back to ``copy.deepcopy``. A container is copied whole by ``.copy()``
    (C speed) and only its nested containers replaced, which beats building it item by item.
    """
    kind = type(node)
    if kind is dict:
        out = node.copy()
        for key, value in node.items():
            if type(value) not in _ATOMS:
                out[key] = _fresh(value)
        return out
    if kind is list:
        items = node.copy()
        for i, value in enumerate(node):
            if type(value) not in _ATOMS:
                items[i] = _fresh(value)
        return items
    return node if kind in _ATOMS else copy.deepcopy(node)


def own_draft(obj: object) -> dict[str, Any]:
    """The draft's private mapping: parsed from text (already private) or copied from a mapping."""
    if obj is None:
        return {"t": []}
    try:
        if isinstance(obj, str | bytes | bytearray):
            obj = _json.loads(obj) if isinstance(obj, str) else json.loads(obj)
            if isinstance(obj, dict):
                return obj
        if isinstance(obj, Mapping):
            return {k: _fresh(v) for k, v in obj.items()}
    except (ValueError, RecursionError) as exc:
        raise ValidationError(f"a draft must be a JSON object: {str(exc)[:200]}") from None
    raise ValidationError(f"a draft is a JSON object, not {type(obj).__name__}")


def copy_draft(raw: dict[str, Any]) -> dict[str, Any]:
    """A fresh copy of a draft mapping, for ``Draft.to_json`` (the caller may change it)."""
    copied: dict[str, Any] = _fresh(raw)
    return copied


def fmt_seconds(ms: float) -> str:
    """``10000`` -> ``"10"``, ``2500`` -> ``"2.5"``, ``7333.3`` -> ``"7.33"``."""
    return f"{ms / 1000 + 0.0:.2f}".rstrip("0").rstrip(".")


def fmt_percent(volume: float) -> str:
    return f"{volume * 100 + 0.0:.1f}".rstrip("0").rstrip(".") + "%"


def one_line(text: str) -> str:
    return " ".join(text.split())


def quote(text: str) -> str:
    """Text in double quotes on one line, for summaries and diffs (not an escape: a display)."""
    return f'"{one_line(text)}"'
