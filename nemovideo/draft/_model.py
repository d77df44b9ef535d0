"""The Draft, Track and Segment value classes (the package docstring says why they look this way)."""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from nemovideo._util.numbers import finite_float, whole
from nemovideo._util.plain import Plain
from nemovideo.draft import _read as rd
from nemovideo.draft._segment import Segment
from nemovideo.draft._track_type import TrackType

__all__ = ["Draft", "Segment", "Track", "TrackType"]


_TEXT_LABELS = {
    "": "Title",
    "title": "Title",
    "titles": "Title",
    "heading": "Title",
    **dict.fromkeys(("subtitle", "subtitles", "caption", "captions"), "Subtitle"),
}


@attrs.frozen(repr=False)
class Track:
    """One lane of the timeline; ``segments`` are the clips that decode as objects."""

    raw: Any
    index: int = 0

    @functools.cached_property
    def segments(self) -> tuple[Segment, ...]:
        """The clips, decoded (start and length resolved) the first time they are asked for."""
        return tuple(itertools.starmap(Segment, rd.timed(rd.items(self.raw, rd.SEGMENT_LISTS))))

    @functools.cached_property
    def _head(self) -> Segment | None:
        """``segments[0]`` decoded alone: a track's role and name need no other clip."""
        for i, item in enumerate(rd.items(self.raw, rd.SEGMENT_LISTS)):
            if type(item) is dict or isinstance(item, Mapping):
                return Segment(item, i, *rd.timing(item, 0.0))
        return None

    @property
    def meta(self) -> Mapping[str, Any]:
        """The track's ``m`` metadata mapping; empty when absent or not a mapping."""
        return rd.meta(self.raw)

    @functools.cached_property
    def id(self) -> str | None:
        """The server's track id, or None (the emulator's drafts give tracks no id)."""
        return rd.pick(self.raw, ("id", "track_id", "trackId"), rd.string)

    @functools.cached_property
    def type(self) -> TrackType | int:
        """``tt`` as a ``TrackType`` (unknown numbers kept); guessed from the clips when absent."""
        found = rd.pick(
            self.raw, ("tt", "type", "track_type", "trackType", "kind"), TrackType.coerce
        )
        if found is not None:
            return found
        if any(s.text for s in self.segments):
            return TrackType.TEXT
        if any(s.volume is not None or s.role in ("bgm", "music") for s in self.segments):
            return TrackType.AUDIO
        return TrackType.VIDEO

    @functools.cached_property
    def role(self) -> str | None:
        """The track's ``role``, else its first clip's (``"bgm"``, ``"title"``); None if unset."""
        own = rd.pick(self.raw, rd.ROLE, rd.string)
        return own or (self._head.role if self._head else None)

    @functools.cached_property
    def own_name(self) -> str | None:
        """The name the track itself carries, None when it has none (unlike ``name``)."""
        return rd.pick(self.raw, ("name", "label", "title"), rd.string)

    @functools.cached_property
    def name(self) -> str:
        """The track's own name, else its first clip's, else ``N clips``."""
        own = self.own_name
        first = self._head.name if self._head else None
        if own or first:
            return rd.one_line(own or first or "")
        return f"{len(self.segments)} clip{'' if len(self.segments) == 1 else 's'}"

    @functools.cached_property
    def volume(self) -> float | None:
        """0-1 (1 = 100%): the first clip's volume, else the track's; None when unset."""
        found = next((s.volume for s in self.segments if s.volume is not None), None)
        return found if found is not None else rd.pick(self.raw, rd.VOLUME, rd.volume)

    @functools.cached_property
    def label(self) -> str:
        """``Video``, ``BGM``, ``Audio``, ``Title``, ``Subtitle``, ``Text`` or ``Type N``.

        A text track reads ``Title`` unless a role says otherwise (``subtitle`` -> ``Subtitle``,
        any other role -> ``Text``), as in the documented summary's ``3. Title: "Urban Dreams"``.
        """
        kind = self.type
        if kind == TrackType.VIDEO:
            return "Video"
        role = (self.role or "").lower()
        if kind == TrackType.AUDIO:
            return "BGM" if role in ("", "bgm", "music", "background") else "Audio"
        if kind == TrackType.TEXT:
            return _TEXT_LABELS.get(role, "Text")
        return f"Type {int(kind)}"

    @functools.cached_property
    def start_ms(self) -> float:
        """Where the earliest clip starts, in milliseconds; 0 on an empty track."""
        return min((s.start_ms for s in self.segments), default=0.0)

    @functools.cached_property
    def end_ms(self) -> float:
        """Where the last clip ends, in milliseconds; 0 on an empty track."""
        return max((s.end_ms for s in self.segments), default=0.0)

    @property
    def duration_ms(self) -> float:
        """From the first clip's start to the last clip's end, in milliseconds (gaps included)."""
        return self.end_ms - self.start_ms

    def describe(self) -> str:
        """``BGM: Lo-fi (0-10s, 35%)``, the track's part of ``Draft.summary()``."""
        title = self.name
        if self.label == "Title" or (len(self.segments) == 1 and not self.own_name):
            text = next((s.text for s in self.segments if s.text), None)
            title = title if text is None else rd.quote(text)
        details = [f"{rd.fmt_seconds(self.start_ms)}-{rd.fmt_seconds(self.end_ms)}s"]
        if not self.segments:
            details = ["empty"]
        if self.type == TrackType.AUDIO and self.volume is not None:
            details.append(rd.fmt_percent(self.volume))
        return f"{self.label}: {title} ({', '.join(details)})"

    def __repr__(self) -> str:
        return f"<Track {self.index} {self.describe()}>"


@attrs.frozen(repr=False)
class Draft(Plain):
    """The whole timeline. ``raw`` is the server's mapping (a private copy); views derive from it.

    Treat ``raw`` as read-only; ``to_json()`` hands out a fresh copy. Change a draft by editing
    that copy and reading it back (``Draft.from_json``, or ``attrs.evolve(draft, raw=copy)``);
    ``session.export(draft=edited)`` renders the edited one, and keys the SDK does not know
    survive the round trip::

        >>> from nemovideo import Draft
        >>> draft = Draft.from_json({"d": 4000, "t": [
        ...     {"tt": 0, "sg": [{"d": 4000, "m": {"name": "city"}}]},
        ...     {"tt": 1, "sg": [{"d": 4000, "m": {"name": "Lo-fi", "volume": 0.35, "role": "bgm"}}]},
        ... ]})
        >>> print(draft.summary())
        Timeline (2 tracks): 1. Video: city (0-4s) 2. BGM: Lo-fi (0-4s, 35%)
        >>> draft.duration, draft.ready_for_export, [track.type.name for track in draft]
        (4.0, True, ['VIDEO', 'AUDIO'])
        >>> copy = draft.to_json()
        >>> copy["t"][1]["sg"][0]["m"]["volume"] = 0.6
        >>> edited = Draft.from_json(copy)
        >>> draft.diff(edited)
        ['BGM volume 35% -> 60%']
    """

    raw: dict[str, Any] = attrs.field(converter=rd.own_draft, default=None)
    tracks: tuple[Track, ...] = attrs.field(init=False, eq=False)

    def __attrs_post_init__(self) -> None:
        tracks = (
            Track(item, i)
            for i, item in enumerate(rd.items(self.raw, ("t", "tracks")))
            if isinstance(item, Mapping)
        )
        object.__setattr__(self, "tracks", tuple(tracks))

    @classmethod
    def from_json(cls, obj: Mapping[str, Any] | str | bytes | None) -> Draft:
        """Decode a draft (``None`` is the empty draft; JSON text is parsed).

        A mapping is copied (later changes to it do not reach the draft); parsed text is used as
        is. Raises ``ValidationError`` for text that is not JSON or JSON that is not an object.
        """
        return cls(obj)

    @classmethod
    def empty(cls) -> Draft:
        """A draft with no tracks, what a new session starts from (``{"t": []}``)."""
        return cls(None)

    def to_json(self) -> dict[str, Any]:
        """The draft exactly as decoded, as a fresh copy: ``Draft.from_json(d).to_json() == d``."""
        return rd.copy_draft(self.raw)

    def to_dict(self) -> dict[str, Any]:
        """The plain-data form (:mod:`nemovideo._util.plain`): the wire form, ``to_json()``."""
        return self.to_json()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Draft:
        """Rebuild from ``to_dict()`` (the wire form): ``Draft.from_json``."""
        return cls.from_json(data)

    @property
    def meta(self) -> Mapping[str, Any]:
        """The draft's ``m`` metadata (title, canvas size, fps); empty when absent."""
        return rd.meta(self.raw)

    @property
    def title(self) -> str | None:
        """The project title from the metadata; None when the draft has none."""
        return rd.string(self.meta.get("title"))

    @property
    def width(self) -> int | None:
        """Canvas width in pixels; None when the metadata does not say."""
        return whole(self.meta.get("width"))

    @property
    def height(self) -> int | None:
        """Canvas height in pixels; None when the metadata does not say."""
        return whole(self.meta.get("height"))

    @property
    def fps(self) -> float | None:
        """Frames per second from the metadata; None when the metadata does not say."""
        return finite_float(self.meta.get("fps"))

    @property
    def aspect_ratio(self) -> str | None:
        """``"16:9"``: as the metadata says, else reduced from width and height."""
        given = rd.pick(self.meta, ("aspect_ratio", "aspectRatio", "ratio", "aspect"), rd.string)
        if given or not self.width or not self.height or self.width <= 0 or self.height <= 0:
            return given
        divisor = math.gcd(self.width, self.height)
        return f"{self.width // divisor}:{self.height // divisor}"

    @property
    def duration_ms(self) -> float:
        """The draft's ``d`` when given, else where the last clip ends."""
        given = rd.pick(self.raw, ("d", "duration", "duration_ms"), rd.ms)
        return given if given is not None else max((t.end_ms for t in self.tracks), default=0.0)

    @property
    def duration(self) -> float:
        """The draft's length in seconds (``duration_ms / 1000``)."""
        return self.duration_ms / 1000

    @property
    def ready_for_export(self) -> bool:
        """True when a track has at least one segment (what the server needs to render)."""
        return any(t.segments for t in self.tracks)

    def __len__(self) -> int:
        return len(self.tracks)

    def __iter__(self) -> Iterator[Track]:
        return iter(self.tracks)

    def summary(self) -> str:
        """``Timeline (3 tracks): 1. Video: city timelapse (0-10s) 2. BGM: Lo-fi (0-10s, 35%) ...``"""
        count = f"{len(self)} track{'' if len(self) == 1 else 's'}"
        parts = [f"{n}. {track.describe()}" for n, track in enumerate(self.tracks, 1)]
        return f"Timeline ({count}): {' '.join(parts) or 'empty'}"

    def diff(self, other: Draft) -> list[str]:
        """What changed from this draft to ``other``, one readable line per change."""
        from nemovideo.draft._diff import diff_drafts

        return diff_drafts(self, other)

    def to_svg(self, *, width: int = 760) -> str:
        """The timeline as a standalone SVG document (lanes, clips to scale, seconds ruler)."""
        from nemovideo.draft._svg import render_svg

        return render_svg(self, width=width)

    def _repr_html_(self) -> str:
        return self.to_svg()

    def __repr__(self) -> str:
        count = f"{len(self)} track{'' if len(self) == 1 else 's'}"
        return f"<Draft {count}, {self.duration_ms / 1000:.1f}s>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))
