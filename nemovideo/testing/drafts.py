"""Builders for drafts in the emulator's own form (docs/protocol.md, "The draft").

The emulator's scripted editing agent writes exactly this shape; the client reads it like any
other draft::

    draft = make_draft(
        [video_track(state["video_infos"], 10_000, name="city timelapse"),
         bgm_track("Lo-fi", 0.35, 10_000),
         title_track("Urban Dreams")],
        title="Urban Dreams",
    )

Builders leave segment ids out; ``make_draft``/``normalize_draft`` number them ``sg_<n>`` across the
draft (keeping ids already there) and set ``d`` to where the last clip ends.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

from nemovideo.draft._model import Draft
from nemovideo.draft._read import volume as read_volume
from nemovideo.state import MediaInfo

__all__ = [
    "bgm_track",
    "example_draft",
    "make_draft",
    "normalize_draft",
    "title_track",
    "video_track",
]

TRANSITION_MS = 500
EXAMPLE_MEDIA: tuple[Mapping[str, Any], ...] = tuple(
    {
        "filename": f"city_{n}.jpg",
        "file_type": "image",
        "cdn_url": f"/mnt/userdata/uploads/city_{n}.jpg",
        "width": 1920,
        "height": 1080,
        "hash": hashlib.sha256(f"city_{n}".encode()).hexdigest()[:32],
    }
    for n in (1, 2, 3)
)
_SEGMENT_ID = re.compile(r"sg_(\d+)$")


def _media_id(media: Mapping[str, Any]) -> str:
    given = media.get("media_id")
    if isinstance(given, str) and given:
        return given
    seed = next((str(media[k]) for k in ("hash", "cdn_url", "url", "filename") if media.get(k)), "")
    return "m_" + hashlib.sha256(seed.encode()).hexdigest()[:12]


def video_track(
    media: Sequence[Mapping[str, Any]],
    total_ms: int,
    transition: str = "fade",
    name: str | None = None,
) -> dict[str, Any]:
    """A video track showing ``media`` (``video_infos`` entries) one after another over ``total_ms``.

    Time is shared evenly (the first clips take the leftover milliseconds). Without a ``name``, a
    single clip names the track by its file; several clips are called ``N clips``.
    """
    count = len(media)
    share, extra = divmod(max(total_ms, 0), count) if count else (0, 0)
    segments, start = [], 0
    for i, item in enumerate(media):
        info = MediaInfo.from_json(item)
        duration = share + (1 if i < extra else 0)
        segments.append(
            {
                "st": start,
                "d": duration,
                "m": {
                    "name": info.filename or f"clip {i + 1}",
                    "src": info.url,
                    "media_id": _media_id(item),
                    "kind": "video" if info.kind == "video" else "image",
                    "transition": transition,
                    "transition_ms": 0 if transition == "none" else TRANSITION_MS,
                },
            }
        )
        start += duration
    meta = {"name": name} if name else ({"name": f"{count} clips"} if count > 1 else {})
    return {"tt": 0, "sg": segments, "m": meta}


def bgm_track(name: str, volume: float, duration_ms: int, src: str | None = None) -> dict[str, Any]:
    """Background music from 0 for ``duration_ms``; ``volume`` 0-1 or a percentage (35 -> 0.35)."""
    level = read_volume(volume)
    segment_meta = {
        "name": name,
        "src": src,
        "volume": 1.0 if level is None else level,
        "role": "bgm",
    }
    return {"tt": 1, "sg": [{"st": 0, "d": duration_ms, "m": segment_meta}], "m": {"name": name}}


def title_track(text: str, duration_ms: int = 3000) -> dict[str, Any]:
    """A centred title card from 0 for ``duration_ms``."""
    meta = {"text": text, "role": "title", "font_size": 72, "position": "center"}
    return {"tt": 7, "sg": [{"st": 0, "d": duration_ms, "m": meta}], "m": {"name": "title"}}


def normalize_draft(draft: Mapping[str, Any]) -> dict[str, Any]:
    """A copy with every segment given a unique ``sg_<n>`` id and ``d`` set to the last clip's end.

    Ids already present are kept; new ones continue after the highest ``sg_<n>``. Use it after an
    edit so the draft stays in the emulator's form.
    """
    out = copy.deepcopy(dict(draft))
    tracks = [t for t in out.get("t") or [] if isinstance(t, dict)]
    segments = [s for t in tracks for s in t.get("sg") or [] if isinstance(s, dict)]
    taken = {str(s["id"]) for s in segments if s.get("id") is not None}
    numbers = [int(m.group(1)) for m in map(_SEGMENT_ID.match, taken) if m]
    counter = max(numbers, default=0)
    for track in tracks:
        fresh = []
        for segment in track.get("sg") or []:
            if isinstance(segment, dict) and segment.get("id") is None:
                counter += 1
                segment = {"id": f"sg_{counter}", **segment}
            fresh.append(segment)
        if "sg" in track:
            track["sg"] = fresh
    out["d"] = round(max((t.end_ms for t in Draft.from_json(out).tracks), default=0.0))
    return out


def make_draft(
    tracks: Sequence[Mapping[str, Any]],
    title: str = "Untitled",
    width: int = 1920,
    height: int = 1080,
    fps: int = 30,
) -> dict[str, Any]:
    """A whole draft in the emulator's form: ``{"t": tracks, "d": ms, "m": {title, size, fps}}``."""
    meta = {"title": title, "width": width, "height": height, "fps": fps}
    return normalize_draft({"t": [copy.deepcopy(dict(t)) for t in tracks], "d": 0, "m": meta})


def example_draft(media: Sequence[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """The documented example: city timelapse (0-10s), Lo-fi BGM at 35%, title "Urban Dreams".

    Its summary is exactly ``Timeline (3 tracks): 1. Video: city timelapse (0-10s) 2. BGM: Lo-fi
    (0-10s, 35%) 3. Title: "Urban Dreams" (0-3s)``.
    """
    clips = EXAMPLE_MEDIA if media is None else media
    return make_draft(
        [
            video_track(clips, 10_000, name="city timelapse"),
            bgm_track("Lo-fi", 0.35, 10_000),
            title_track("Urban Dreams", 3000),
        ],
        title="Urban Dreams",
    )
