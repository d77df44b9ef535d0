"""Liberal reading of draft fields: the spellings seen or plausible, numbers in any guise.

No public source documents a whole draft, so every view in ``draft.py`` goes through these readers:
a field is looked up under several names, on the object and then in its ``m`` metadata, and a value
that does not read (wrong type, NaN, junk string) counts as absent rather than as an error.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

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
SEGMENT_LISTS = ("sg", "segments", "clips", "items")
TYPE_WORDS = {
    **dict.fromkeys(("video", "image", "main", "visual"), 0),
    **dict.fromkeys(("audio", "bgm", "music", "sound", "voiceover", "voice"), 1),
    **dict.fromkeys(("text", "title", "subtitle", "subtitles", "caption", "captions"), 7),
}


def number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            parsed = float(value.strip())
        except ValueError:
            return None
        return parsed if math.isfinite(parsed) else None
    return None


def ms(value: object) -> float | None:
    """Milliseconds from ``1500``, ``"1500"``, ``"1500ms"``, ``"1.5s"`` or ``"00:00:01.5"``."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text.endswith("ms"):
            return number(text[:-2])
        if text.endswith("s"):
            return seconds(text[:-1])
        if ":" in text:
            parts = [number(part) for part in text.split(":")]
            if len(parts) > 3 or any(part is None for part in parts):
                return None
            return sum((part or 0.0) * 60.0**i for i, part in enumerate(reversed(parts))) * 1000
    return number(value)


def seconds(value: object) -> float | None:
    found = number(value)
    return None if found is None else found * 1000


def string(value: object) -> str | None:
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def nonempty_text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def volume(value: object) -> float | None:
    """0-1 stays, a percentage (``35``, ``"35%"``) becomes 0.35; negative or junk -> None."""
    if isinstance(value, str) and value.strip().endswith("%"):
        percent = number(value.strip()[:-1])
        return None if percent is None or percent < 0 else percent / 100
    found = number(value)
    if found is None or found < 0:
        return None
    return found / 100 if found > 1 else float(found)


def meta(raw: object) -> Mapping[str, Any]:
    meta = raw.get("m") if isinstance(raw, Mapping) else None
    return meta if isinstance(meta, Mapping) else {}


def scopes(raw: object) -> tuple[Mapping[str, Any], ...]:
    return (raw, meta(raw)) if isinstance(raw, Mapping) else ()


def pick(raw: object, keys: tuple[str, ...], read: Callable[[object], T | None]) -> T | None:
    """The first readable value under any of ``keys``, on the object itself, then in its ``m``."""
    for scope in scopes(raw):
        for key in keys:
            value = read(scope.get(key))
            if value is not None:
                return value
    return None


def items(raw: object, keys: tuple[str, ...]) -> list[Any]:
    for scope in scopes(raw)[:1]:
        for key in keys:
            value = scope.get(key)
            if isinstance(value, list):
                return value
            if isinstance(value, Mapping):
                return list(value.values())
    return []


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
