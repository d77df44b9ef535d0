"""``Segment``, one clip of a track: its own module so that ``Draft.diff`` (which makes a segment
only for a clip that changed) and the draft model both import it without importing each other.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import attrs

from nemovideo.draft import _read as rd

__all__ = ["Segment"]


@attrs.frozen(repr=False)
class Segment:
    """One clip on a track. ``raw`` is the segment exactly as the server sent it.

    ``start_ms`` and ``duration_ms`` are resolved by ``Track``: read from the common spellings, or,
    when the draft gives no start, right after the previous segment. The other views are read in
    one pass over the segment the first time one is asked for, then kept.
    """

    raw: Any
    index: int = 0
    start_ms: float = 0.0
    duration_ms: float = 0.0

    @classmethod
    def from_json(cls, raw: Any, *, index: int = 0, after_ms: float = 0.0) -> Segment:
        """Decode one segment mapping, resolving its start and duration to milliseconds.

        :param raw: the segment as the server sent it; kept untouched as ``raw``.
        :param index: its position on the track (names an unnamed clip ``clip N``).
        :param after_ms: where the previous clip ends, used when the segment gives no start.
        """
        return cls(raw, index, *rd.timing(raw, after_ms))

    @functools.cached_property
    def _fields(self) -> rd.SegmentFields:
        return rd.read_segment(self.raw)

    @property
    def meta(self) -> Mapping[str, Any]:
        """The segment's ``m`` metadata mapping; empty when absent or not a mapping."""
        return rd.meta(self.raw)

    @functools.cached_property
    def id(self) -> str | None:
        """The server's segment id (``sg_3``), or None when the draft gives none."""
        return rd.pick(self.raw, rd.SEGMENT_ID, rd.string)

    @property
    def end_ms(self) -> float:
        """Where the clip ends on the timeline, in milliseconds."""
        return self.start_ms + self.duration_ms

    @property
    def start(self) -> float:
        """Where the clip starts, in seconds (``start_ms / 1000``)."""
        return self.start_ms / 1000

    @property
    def end(self) -> float:
        """Where the clip ends, in seconds."""
        return self.end_ms / 1000

    @property
    def duration(self) -> float:
        """How long the clip plays, in seconds."""
        return self.duration_ms / 1000

    @property
    def name(self) -> str | None:
        """The clip's display or file name (``"a.jpg"``, ``"Lo-fi"``); None when unnamed."""
        return self._fields.name

    @property
    def src(self) -> str | None:
        """The media URL the clip plays; None for text clips and generated audio without one."""
        return self._fields.src

    @property
    def media_id(self) -> str | None:
        """The id of the uploaded media this clip uses, as the draft names it; None when absent."""
        return self._fields.media_id

    @property
    def volume(self) -> float | None:
        """0-1 (1 = 100%), whether the draft says ``0.35`` or ``35``."""
        return self._fields.volume

    @property
    def text(self) -> str | None:
        """The words a text clip shows (title, subtitle); None on video and audio clips."""
        return self._fields.text

    @property
    def role(self) -> str | None:
        """What the clip is for: ``"bgm"`` on music, ``"title"`` or ``"subtitle"`` on text."""
        return self._fields.role

    @property
    def kind(self) -> str | None:
        """The media kind of a visual clip, ``"image"`` or ``"video"``; None when not stated."""
        return self._fields.kind

    @property
    def label(self) -> str:
        """What a person would call this clip: its text, name, file name, or ``clip N``."""
        if self.text:
            return rd.quote(self.text)
        name = self.name or (self.src.rstrip("/").rsplit("/", 1)[-1] if self.src else None)
        return rd.one_line(name) if name and name.strip() else f"clip {self.index + 1}"

    @property
    def span(self) -> str:
        """Start and end in seconds for display, e.g. ``"0-2.5s"``."""
        return f"{rd.fmt_seconds(self.start_ms)}-{rd.fmt_seconds(self.end_ms)}s"

    def __repr__(self) -> str:
        ident = f" {self.id}" if self.id else ""
        return f"<Segment{ident} {self.span} {self.label}>"
