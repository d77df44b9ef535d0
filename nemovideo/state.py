"""``SessionState``: the state endpoint's answer, typed, with everything raw kept beside it.

    state = await session.state()
    print(state.draft.summary())
    for media in state.video_infos:
        print(media.filename, media.kind, media.duration)

Decoding is liberal (missing keys, nulls, camelCase, the state object at the top level): a state
that reads oddly yields ``None`` fields and an empty draft rather than an exception.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import attrs

from nemovideo._util.numbers import finite_float, whole
from nemovideo._util.plain import Plain
from nemovideo.draft import _read as rd
from nemovideo.draft._model import Draft

__all__ = ["CanvasConfig", "GeneratedMedia", "MediaInfo", "SessionState"]

_KINDS = {
    "video": ("mp4", "mov", "avi", "webm", "mkv", "m4v"),
    "image": ("jpg", "jpeg", "png", "gif", "webp", "bmp"),
    "audio": ("mp3", "wav", "m4a", "aac", "ogg", "flac"),
}
_STATE_KEYS = ("draft", "video_infos", "videoInfos", "canvas_config", "canvasConfig")


def _mapping(value: object) -> Mapping[str, Any]:
    if type(value) is dict:  # what JSON gives; skips the ABC checks below
        return value
    if isinstance(value, str | bytes):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            return {}
    return value if isinstance(value, Mapping) else {}


def _entries(value: object) -> list[Mapping[str, Any]]:
    if value is None:
        return []
    if isinstance(value, Mapping):
        value = list(value.values())
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _get(raw: Mapping[str, Any], *keys: str) -> Any:
    """The value of the first of ``keys`` that ``raw`` holds and that is not null."""
    for key in keys:
        value = raw.get(key)
        if value is not None:
            return value
    return None


def _state_part(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    """The ``state`` object of a state answer's ``data`` (or ``data`` itself when it is one)."""
    state = _mapping(raw.get("state"))
    if not state and any(key in raw for key in _STATE_KEYS):
        return raw
    return state


def _draft_in(state: Mapping[str, Any]) -> Draft:
    draft = state.get("draft")
    return Draft.from_json(_mapping(draft)) if draft is not None else Draft.empty()


def draft_of(data: object) -> Draft:
    """The draft of a state answer's ``data``, as ``SessionState.from_json(data).draft`` reads
    it, without decoding (or copying) the rest: what a chat reads before each message."""
    return _draft_in(_state_part(data)) if isinstance(data, Mapping) else Draft.empty()


def task_id_of(data: object) -> str | None:
    """The task id of a state answer's ``data`` (``task_id`` or ``taskId``), else ``None``."""
    return rd.string(_get(data, "task_id", "taskId")) if isinstance(data, Mapping) else None


def _kind(*hints: str | None) -> str | None:
    """``video`` / ``image`` / ``audio`` from a file type, MIME type or file name."""
    for hint in hints:
        if not hint:
            continue
        word = hint.strip().lower()
        for kind, extensions in _KINDS.items():
            if word.startswith(kind) or word.rsplit("?", 1)[0].rsplit(".", 1)[-1] in extensions:
                return kind
    return None


@attrs.frozen
class MediaInfo(Plain):
    """One uploaded file as the server describes it (``video_infos`` entries, upload answers).

    ``duration`` is in seconds as the server reports it; ``kind`` is video, image or audio.
    """

    filename: str | None = None
    file_type: str | None = None
    url: str | None = None
    duration: float | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    hash: str | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> MediaInfo:
        """Read one media entry liberally (``filename``/``file_name``/``name``...); unreadable
        numbers are ``None``."""
        return cls(
            filename=rd.string(_get(raw, "filename", "file_name", "fileName", "name")),
            file_type=rd.string(_get(raw, "file_type", "fileType", "type", "mime_type", "kind")),
            url=rd.string(_get(raw, "cdn_url", "cdnUrl", "url", "src", "path")),
            duration=finite_float(_get(raw, "duration", "duration_s")),
            width=whole(raw.get("width")),
            height=whole(raw.get("height")),
            fps=finite_float(raw.get("fps")),
            hash=rd.string(_get(raw, "hash", "md5", "sha256")),
            raw=raw,
        )

    @property
    def kind(self) -> str | None:
        """``"image"``, ``"video"`` or ``"audio"``, from the file type, else the name or URL."""
        return _kind(self.file_type, self.filename, self.url)


@attrs.frozen
class CanvasConfig(Plain):
    """The output canvas. ``aspect_ratio`` is as given, else reduced from width and height."""

    width: int | None = None
    height: int | None = None
    aspect_ratio: str | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> CanvasConfig:
        """Read the canvas (width, height, aspect ratio); unreadable numbers are ``None``."""
        width, height = whole(raw.get("width")), whole(raw.get("height"))
        ratio = rd.string(_get(raw, "aspect_ratio", "aspectRatio", "ratio"))
        if ratio is None and width and height and width > 0 and height > 0:
            divisor = math.gcd(width, height)
            ratio = f"{width // divisor}:{height // divisor}"
        return cls(width=width, height=height, aspect_ratio=ratio, raw=raw)


@attrs.frozen
class GeneratedMedia(Plain):
    """A clip, track or image the agent generated (``generated_media`` entries)."""

    url: str | None = None
    kind: str | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> GeneratedMedia:
        """Read one generated clip or track (its URL and kind, in any of their spellings)."""
        url = rd.string(_get(raw, "url", "cdn_url", "cdnUrl", "video_url", "output_url", "src"))
        given = rd.string(_get(raw, "kind", "type", "media_type", "mediaType", "file_type"))
        return cls(url=url, kind=_kind(given, url) or given, raw=raw)


@attrs.frozen(repr=False)
class SessionState(Plain):
    """What ``GET /api/state/nemo_agent/me/<sid>/latest`` returned; ``raw`` is its whole ``data``."""

    session_id: str | None = None
    task_id: str | None = None
    task_name: str | None = None
    draft: Draft = attrs.field(factory=Draft.empty)
    video_infos: tuple[MediaInfo, ...] = ()
    canvas_config: CanvasConfig = attrs.field(factory=CanvasConfig)
    generated_media: tuple[GeneratedMedia, ...] = ()
    video_analyses: dict[str, Any] = attrs.field(factory=dict)
    raw: dict[str, Any] = attrs.field(factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> SessionState:
        """Decode the state endpoint's ``data`` (``{"session_id", ..., "state": {...}}``)."""
        raw = dict(data) if isinstance(data, Mapping) else {}
        state = _state_part(raw)
        analyses = _mapping(_get(state, "video_analyses", "videoAnalyses"))
        return cls(
            session_id=rd.string(_get(raw, "session_id", "sessionId")),
            task_id=task_id_of(raw),
            task_name=rd.string(_get(raw, "task_name", "taskName")),
            draft=_draft_in(state),
            video_infos=tuple(
                MediaInfo.from_json(e) for e in _entries(_get(state, "video_infos", "videoInfos"))
            ),
            canvas_config=CanvasConfig.from_json(
                _mapping(_get(state, "canvas_config", "canvasConfig"))
            ),
            generated_media=tuple(
                GeneratedMedia.from_json(e)
                for e in _entries(_get(state, "generated_media", "generatedMedia"))
            ),
            video_analyses=dict(analyses),
            raw=raw,
        )

    def __repr__(self) -> str:
        return (
            f"<SessionState session_id={self.session_id!r} {self.draft!r} "
            f"{len(self.video_infos)} media, {len(self.generated_media)} generated>"
        )
