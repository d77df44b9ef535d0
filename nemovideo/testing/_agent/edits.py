"""The emulator agent's edits: each a function that changes a session state in place.

:mod:`._agent` plans which of them a sentence asks for (:mod:`._edit_phrases` reads the natural
phrasings); :mod:`._chat` applies them while the stream runs (or after it, when the client has
gone). Drafts stay in the emulator's form (docs/protocol.md, "The draft") through :mod:`._drafts`::

    edit = add_bgm("Lo-fi", 0.35)
    edit(session.state)         # the draft now has a BGM track at 35%
    set_volume(0.6)(session.state)   # the same track and clip, now at 60%

An edit changes what is there rather than replacing it: the music, the title and the clips keep
their tracks and segment ids, as the real editor does, so ``reply.changes`` reads "BGM volume
35% -> 60%" and not a removal and an addition.

``add_generated`` places clips made by ``generate_video_with_seedance`` (they have no file on the
CDN: renders show a coloured placeholder) and lists them in ``generated_media``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from typing import Any

from nemovideo.state import MediaInfo
from nemovideo.testing.drafts import bgm_track, normalize_draft, title_track, video_track

__all__ = [
    "DEFAULT_SECONDS",
    "TITLE_MS",
    "Edit",
    "add_bgm",
    "add_generated",
    "add_title",
    "bgm_of",
    "has_track",
    "make_video",
    "remove_tracks",
    "set_canvas",
    "set_duration",
    "set_volume",
    "title_of",
    "visual_media",
]

DEFAULT_SECONDS = 10
TITLE_MS = 3000
Edit = Callable[[dict[str, Any]], None]


def _draft(state: dict[str, Any]) -> dict[str, Any]:
    draft = state.get("draft")
    if not isinstance(draft, dict):
        draft = {"t": [], "d": 0, "m": {"title": "project", "width": 1920, "height": 1080}}
        state["draft"] = draft
    draft.setdefault("t", [])
    return draft


def _total_ms(state: Mapping[str, Any]) -> int:
    draft = state.get("draft")
    given = draft.get("d") if isinstance(draft, Mapping) else None
    return int(given) if isinstance(given, int | float) and given > 0 else DEFAULT_SECONDS * 1000


def _is_track(track: Any, kind: int) -> bool:
    return isinstance(track, dict) and track.get("tt") == kind


# -- edits (each mutates a session state in place) --------------------------------------------------


def _fit(draft: dict[str, Any], total_ms: int) -> None:
    """Stretch BGM to ``total_ms``, clip text to it, and renormalise."""
    for track in draft["t"]:
        for seg in track.get("sg") or []:
            if _is_track(track, 1):
                seg["st"], seg["d"] = 0, total_ms
            elif _is_track(track, 7):
                seg["st"] = min(seg.get("st", 0), max(total_ms - 1000, 0))
                seg["d"] = min(seg.get("d", TITLE_MS), total_ms - seg["st"])


def _edit(change: Callable[[dict[str, Any], dict[str, Any]], None]) -> Edit:
    """The edit that runs ``change(state, draft)`` on the state's draft (made when missing), then
    puts the draft back renormalised: what every edit below does around its own change."""

    def edit(state: dict[str, Any]) -> None:
        draft = _draft(state)
        change(state, draft)
        state["draft"] = normalize_draft(draft)

    return edit


def make_video(media: list[dict[str, Any]], total_ms: int, transition: str) -> Edit:
    def change(state: dict[str, Any], draft: dict[str, Any]) -> None:
        track = video_track(media, total_ms, transition)
        at = next((i for i, t in enumerate(draft["t"]) if _is_track(t, 0)), 0)
        draft["t"] = [t for t in draft["t"] if not _is_track(t, 0)]
        draft["t"].insert(min(at, len(draft["t"])), track)
        _fit(draft, total_ms)

    return _edit(change)


def set_duration(total_ms: int) -> Edit:
    def change(state: dict[str, Any], draft: dict[str, Any]) -> None:
        for track in draft["t"]:
            if _is_track(track, 0) and track.get("sg"):
                count = len(track["sg"])
                share, extra = divmod(total_ms, count)
                start = 0
                for i, seg in enumerate(track["sg"]):
                    seg["st"], seg["d"] = start, share + (1 if i < extra else 0)
                    start += seg["d"]
        _fit(draft, total_ms)

    return _edit(change)


def _role(track: Mapping[str, Any]) -> str:
    segments = track.get("sg") or [{}]
    first = segments[0] if isinstance(segments[0], Mapping) else {}
    meta = first.get("m")
    return str(meta.get("role") or "").lower() if isinstance(meta, Mapping) else ""


def bgm_of(state: Mapping[str, Any]) -> dict[str, Any] | None:
    """The background-music track of the state's draft (audio, role bgm or none), if any."""
    draft = state.get("draft")
    tracks = draft.get("t") if isinstance(draft, Mapping) else None
    return next(
        (t for t in tracks or [] if _is_track(t, 1) and _role(t) in ("", "bgm", "music")), None
    )


def title_of(state: Mapping[str, Any]) -> dict[str, Any] | None:
    """The title track of the state's draft (text, role title or none), if any."""
    draft = state.get("draft")
    tracks = draft.get("t") if isinstance(draft, Mapping) else None
    return next((t for t in tracks or [] if _is_track(t, 7) and _role(t) in ("", "title")), None)


def _clip_meta(track: dict[str, Any]) -> list[dict[str, Any]]:
    return [seg.setdefault("m", {}) for seg in track.get("sg") or [] if isinstance(seg, dict)]


def add_bgm(name: str, volume: float) -> Edit:
    """Music ``name`` at ``volume``: the BGM track there is changed (same clip), else one is added."""

    def change(state: dict[str, Any], draft: dict[str, Any]) -> None:
        track = bgm_of(state)
        if track is None or not _clip_meta(track):
            draft["t"].append(bgm_track(name, volume, _total_ms(state)))
        else:
            track.setdefault("m", {})["name"] = name
            for meta in _clip_meta(track):
                meta.update(name=name, volume=volume)

    return _edit(change)


def set_volume(volume: float) -> Edit:
    """The background music's volume (0-1), on every clip of the BGM track; nothing else moves."""

    def change(state: dict[str, Any], draft: dict[str, Any]) -> None:
        track = bgm_of(state)
        for meta in _clip_meta(track) if track is not None else []:
            meta["volume"] = volume

    return _edit(change)


def add_title(text: str) -> Edit:
    """The title ``text``: the title there is reworded (same clip, same timing), else one is added."""

    def change(state: dict[str, Any], draft: dict[str, Any]) -> None:
        track = title_of(state)
        metas = _clip_meta(track) if track is not None else []
        if metas:
            metas[0]["text"] = text
        else:
            draft["t"].append(title_track(text, min(TITLE_MS, _total_ms(state))))
        draft.setdefault("m", {})["title"] = text

    return _edit(change)


def remove_tracks(kind: int) -> Edit:
    def change(state: dict[str, Any], draft: dict[str, Any]) -> None:
        draft["t"] = [t for t in draft["t"] if not _is_track(t, kind)]

    return _edit(change)


def set_canvas(width: int, height: int, ratio: str) -> Edit:
    def change(state: dict[str, Any], draft: dict[str, Any]) -> None:
        draft.setdefault("m", {}).update(width=width, height=height)
        state["canvas_config"] = {"width": width, "height": height, "aspect_ratio": ratio}

    return _edit(change)


def add_generated(prompt: str, seconds: float) -> Edit:
    """A generated clip of ``seconds``: listed in ``generated_media``, appended to the video track."""

    def change(state: dict[str, Any], draft: dict[str, Any]) -> None:
        clip = {
            "media_id": "gen_" + secrets.token_hex(6),
            "filename": f"{prompt[:40] or 'generated clip'}.mp4",
            "file_type": "video",
            "cdn_url": None,
            "duration": seconds,
            "prompt": prompt,
            "tool": "generate_video_with_seedance",
        }
        state.setdefault("generated_media", []).append(dict(clip))
        existing = next((t for t in draft["t"] if _is_track(t, 0)), None)
        end = round(
            max(
                (s.get("st", 0) + s.get("d", 0) for s in (existing or {}).get("sg") or []),
                default=0,
            )
        )
        segment = video_track([clip], round(seconds * 1000))["sg"][0]
        segment["st"] = end
        if existing is None:
            draft["t"].insert(0, {"tt": 0, "sg": [segment], "m": {"name": "generated clips"}})
        else:
            existing.setdefault("sg", []).append(segment)
        _fit(draft, end + segment["d"])

    return _edit(change)


def visual_media(state: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The state's uploaded images and clips (copies), in upload order: what a video is made of."""
    infos = state.get("video_infos") or []
    return [
        dict(m)
        for m in infos
        if isinstance(m, Mapping) and MediaInfo.from_json(m).kind in ("image", "video")
    ]


def has_track(state: Mapping[str, Any], kind: int) -> bool:
    """True when the state's draft has a track of type ``kind`` (0 video, 1 audio, 7 text)."""
    draft = state.get("draft")
    tracks = draft.get("t") if isinstance(draft, Mapping) else None
    return any(_is_track(t, kind) for t in tracks or [])
