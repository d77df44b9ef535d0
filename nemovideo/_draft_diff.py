"""``Draft.diff``: what changed between two drafts, as lines a person reads.

Used to report silent edits (a chat turn that changed the timeline without saying so)::

    >>> before.diff(after)
    ['BGM volume 35% -> 50%', 'Added Title track "Urban Dreams" (0-3s)']

Tracks pair up by ``id`` when they have one, else by type and order (first video with first video);
segments pair up by ``id`` when present, else by position.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from itertools import chain
from typing import TYPE_CHECKING, Any

from ._draft_read import (
    DUR_MS,
    DUR_S,
    END_MS,
    END_S,
    MEDIA_ID,
    NAME,
    SRC,
    START_MS,
    START_S,
    TEXT,
    VOLUME,
    fmt_percent,
    fmt_seconds,
    one_line,
    quote,
)

if TYPE_CHECKING:
    from .draft import Draft, Segment, Track

_COVERED = frozenset(
    chain(("id", "m"), START_MS, START_S, DUR_MS, DUR_S, END_MS, END_S)
) | frozenset(chain(VOLUME, TEXT, SRC, MEDIA_ID, NAME))
_EPSILON_MS = 0.5


def diff_drafts(old: Draft, new: Draft) -> list[str]:
    lines = _meta_lines(old, new)
    before, after = _keyed(old.tracks), _keyed(new.tracks)
    labels = Counter(t.label for t in old.tracks) | Counter(t.label for t in new.tracks)

    def prefix(track: Track) -> str:
        return (
            track.label if labels[track.label] < 2 else f"{track.label} (track {track.index + 1})"
        )

    for key, track in after.items():
        if key not in before:
            lines.append(f"Added {track.label} track {_body(track)}")
        else:
            lines.extend(_track_lines(before[key], track, prefix(track)))
    lines.extend(
        f"Removed {track.label} track {_body(track)}"
        for key, track in before.items()
        if key not in after
    )
    return lines


def _body(track: Track) -> str:
    return track.describe().split(": ", 1)[1]


def _keyed(tracks: Sequence[Track]) -> dict[Hashable, Track]:
    seen: Counter[Hashable] = Counter()
    keyed: dict[Hashable, Track] = {}
    for track in tracks:
        base: Hashable = ("id", track.id) if track.id else ("type", int(track.type))
        keyed[(base, seen[base])] = track
        seen[base] += 1
    return keyed


def _meta_lines(old: Draft, new: Draft) -> list[str]:
    lines = []
    if old.title != new.title:
        lines.append(f"Project title {_maybe_quote(old.title)} -> {_maybe_quote(new.title)}")
    if old.aspect_ratio != new.aspect_ratio:
        lines.append(f"Aspect {old.aspect_ratio or 'unset'} -> {new.aspect_ratio or 'unset'}")
    elif (old.width, old.height) != (new.width, new.height):
        lines.append(f"Resolution {_size(old)} -> {_size(new)}")
    if abs(old.duration_ms - new.duration_ms) > _EPSILON_MS:
        lines.append(f"Duration {fmt_seconds(old.duration_ms)}s -> {fmt_seconds(new.duration_ms)}s")
    return lines


def _size(draft: Draft) -> str:
    return f"{draft.width or '?'}x{draft.height or '?'}"


def _maybe_quote(text: str | None) -> str:
    return "(none)" if text is None else quote(one_line(text))


def _track_lines(old: Track, new: Track, prefix: str) -> list[str]:
    lines = []
    if old.own_name != new.own_name:
        lines.append(
            f"{prefix} renamed {_maybe_quote(old.own_name)} -> {_maybe_quote(new.own_name)}"
        )
    pairs, added, removed = _pair(old.segments, new.segments)
    single = len(old.segments) == 1 and len(new.segments) == 1
    for a, b in pairs:
        lines.extend(_segment_lines(a, b, prefix if single else _ref(prefix, b)))
    lines.extend(f"{prefix}: added {s.label} ({s.span})" for s in added)
    lines.extend(f"{prefix}: removed {s.label} ({s.span})" for s in removed)
    return lines


def _ref(prefix: str, segment: Segment) -> str:
    name = segment.name
    return f"{prefix} {one_line(name)}" if name else f"{prefix} clip {segment.index + 1}"


def _pair(
    old: Sequence[Segment], new: Sequence[Segment]
) -> tuple[list[tuple[Segment, Segment]], list[Segment], list[Segment]]:
    by_id: dict[str, list[Segment]] = {}
    for segment in old:
        if segment.id:
            by_id.setdefault(segment.id, []).append(segment)
    pairs: list[tuple[Segment, Segment]] = []
    added: list[Segment] = []
    for segment in new:
        if segment.id:
            match = by_id.get(segment.id)
            if match:
                pairs.append((match.pop(0), segment))
            else:
                added.append(segment)
    removed = [s for group in by_id.values() for s in group]
    old_anon = [s for s in old if not s.id]
    new_anon = [s for s in new if not s.id]
    pairs.extend(zip(old_anon, new_anon, strict=False))
    added.extend(new_anon[len(old_anon) :])
    removed.extend(old_anon[len(new_anon) :])
    pairs.sort(key=lambda pair: pair[1].index)
    return pairs, sorted(added, key=lambda s: s.index), sorted(removed, key=lambda s: s.index)


def _segment_lines(a: Segment, b: Segment, ref: str) -> list[str]:
    lines = []
    if abs(a.start_ms - b.start_ms) > _EPSILON_MS:
        lines.append(f"{ref} moved {fmt_seconds(a.start_ms)}s -> {fmt_seconds(b.start_ms)}s")
    if abs(a.duration_ms - b.duration_ms) > _EPSILON_MS:
        lines.append(
            f"{ref} retimed {fmt_seconds(a.duration_ms)}s -> {fmt_seconds(b.duration_ms)}s"
        )
    if a.volume != b.volume:
        lines.append(f"{ref} volume {_percent(a.volume)} -> {_percent(b.volume)}")
    if a.text != b.text:
        lines.append(f"{ref} text {_maybe_quote(a.text)} -> {_maybe_quote(b.text)}")
    if (a.src, a.media_id) != (b.src, b.media_id):
        lines.append(f"{ref} source {_source(a)} -> {_source(b)}")
    elif a.name != b.name:
        lines.append(f"{ref} renamed {_maybe_quote(a.name)} -> {_maybe_quote(b.name)}")
    lines.extend(_other_fields(a, b, ref))
    return lines


def _percent(volume: float | None) -> str:
    return "unset" if volume is None else fmt_percent(volume)


def _source(segment: Segment) -> str:
    if segment.src:
        return segment.src.rstrip("/").rsplit("/", 1)[-1] or segment.src
    return segment.media_id or "(none)"


def _other_fields(a: Segment, b: Segment, ref: str) -> list[str]:
    """Changes to fields the model has no view for (transition, font size, ...), generically."""
    lines = []
    for old, new in ((a.raw, b.raw), (a.meta, b.meta)):
        for key in dict.fromkeys([*old, *new]):
            if key in _COVERED or (key in old, old.get(key)) == (key in new, new.get(key)):
                continue
            lines.append(f"{ref} {key} {_short(old, key)} -> {_short(new, key)}")
    return lines


def _short(scope: Mapping[str, Any], key: str) -> str:
    if key not in scope:
        return "unset"
    text = json.dumps(scope[key], ensure_ascii=False, default=str)
    return text if len(text) <= 40 else text[:39] + "…"
