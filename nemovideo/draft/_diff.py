"""``Draft.diff``: what changed between two drafts, in the words a user would use.

Used to report silent edits (a chat turn that changed the timeline without saying so)::

    >>> from nemovideo import Draft
    >>> music = {"tt": 1, "sg": [{"id": "sg_4", "st": 0, "d": 10000,
    ...                          "m": {"name": "Lo-fi", "volume": 0.3, "role": "bgm"}}]}
    >>> before = Draft.from_json({"t": [music], "d": 10000})
    >>> louder = before.to_json()
    >>> louder["t"][0]["sg"][0]["m"]["volume"] = 0.6
    >>> louder["t"].append({"tt": 7, "sg": [{"d": 3000, "m": {"text": "Urban Dreams"}}]})
    >>> before.diff(Draft.from_json(louder))
    ['BGM volume 30% -> 60%', 'Added Title track "Urban Dreams" (0-3s)']

Tracks pair up by ``id`` when both have one, else by what they are (type and role: the BGM with
the BGM, the title with the title), in order; a renamed or re-created track is the same track.
Segments pair up by ``id``, then by position (where they start, then their place on the track). Parts that are equal are skipped without reading
their fields, so diffing two long, mostly equal drafts costs about one comparison per segment.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Hashable, Mapping, Sequence
from itertools import chain, starmap
from operator import attrgetter, itemgetter
from typing import TYPE_CHECKING, Any, TypeVar

from nemovideo.draft._read import (
    DUR_MS,
    DUR_S,
    END_MS,
    END_S,
    MEDIA_ID,
    NAME,
    SEGMENT_ID,
    SEGMENT_LISTS,
    SRC,
    START_MS,
    START_S,
    TEXT,
    VOLUME,
    fmt_percent,
    fmt_seconds,
    items,
    one_line,
    pick,
    quote,
    string,
    timed,
)
from nemovideo.draft._segment import Segment

if TYPE_CHECKING:
    from nemovideo.draft._model import Draft, Track

_COVERED = frozenset(
    chain(("m",), SEGMENT_ID, START_MS, START_S, DUR_MS, DUR_S, END_MS, END_S)
) | frozenset(chain(VOLUME, TEXT, SRC, MEDIA_ID, NAME))
_EPSILON_MS = 0.5
_Part = TypeVar("_Part")
#: A segment as ``timed`` reads it, ``(raw, index, start_ms, duration_ms)``: the fields of a
#: ``Segment``, which is made only for the clips that changed.
Clip = tuple[Any, int, float, float]


def diff_drafts(old: Draft, new: Draft) -> list[str]:
    if old.raw == new.raw:
        return []
    lines = _meta_lines(old, new)
    pairs, _, removed = _pair_tracks(old.tracks, new.tracks)
    labels = Counter(t.label for t in old.tracks) | Counter(t.label for t in new.tracks)

    def prefix(track: Track) -> str:
        return (
            track.label if labels[track.label] < 2 else f"{track.label} (track {track.index + 1})"
        )

    was = {id(b): a for a, b in pairs}
    for track in new.tracks:
        before = was.get(id(track))
        if before is None:
            lines.append(f"Added {track.label} track {_body(track)}")
        elif before.raw != track.raw:
            lines.extend(_track_lines(before, track, prefix(track)))
    lines.extend(f"Removed {track.label} track {_body(track)}" for track in removed)
    return lines


def _body(track: Track) -> str:
    return track.describe().split(": ", 1)[1]


def _ident(part: Track) -> str | None:
    """``part.id``, read straight from the mapping in the usual case (a string under ``id``)."""
    raw = part.raw
    if type(raw) is dict:
        given = raw.get("id")
        if type(given) is str and given.strip():
            return given
    return part.id


def _clip_ident(clip: Clip) -> str | None:
    """``Segment.id`` of a clip, without the ``Segment``."""
    raw = clip[0]
    if type(raw) is dict:
        given = raw.get("id")
        if type(given) is str and given.strip():
            return given
    return pick(raw, SEGMENT_ID, string)


def _pair_by_id(
    old: Sequence[_Part],
    new: Sequence[_Part],
    ident: Callable[[_Part], str | None],
    place: Callable[[_Part], int],
) -> tuple[list[tuple[_Part, _Part]], list[_Part], list[_Part]]:
    """Pairs of parts whose ids match, then the unpaired old and new parts (in order).

    Walks both in step while the ids agree (the usual case after an edit), then looks the rest up.
    """
    pairs: list[tuple[_Part, _Part]] = []
    for a, b in zip(old, new, strict=False):
        key = ident(a)
        if key is None or key != ident(b):
            break
        pairs.append((a, b))
    done = len(pairs)
    by_id: dict[str, list[_Part]] = {}
    rest_old: list[_Part] = []
    for part in old[done:]:
        key = ident(part)
        if key is None:
            rest_old.append(part)
        else:
            by_id.setdefault(key, []).append(part)
    rest_new: list[_Part] = []
    for part in new[done:]:
        key = ident(part)
        bucket = by_id.get(key) if key is not None else None
        if bucket:
            pairs.append((bucket.pop(0), part))
        else:
            rest_new.append(part)
    if by_id:
        rest_old.extend(p for bucket in by_id.values() for p in bucket)
        rest_old.sort(key=place)
    return pairs, rest_old, rest_new


def _pair_tracks(
    old: Sequence[Track], new: Sequence[Track]
) -> tuple[list[tuple[Track, Track]], list[Track], list[Track]]:
    pairs, rest_old, rest_new = _pair_by_id(old, new, _ident, attrgetter("index"))
    queues: dict[Hashable, list[Track]] = {}
    for track in rest_old:
        queues.setdefault((int(track.type), track.label), []).append(track)
    added: list[Track] = []
    for track in rest_new:
        queue = queues.get((int(track.type), track.label))
        if queue:
            pairs.append((queue.pop(0), track))
        else:
            added.append(track)
    removed = [t for queue in queues.values() for t in queue]
    return pairs, added, sorted(removed, key=lambda t: t.index)


def _starts_at(clip: Clip) -> int:
    return round(clip[2])


_place: Callable[[Clip], int] = itemgetter(1)


def _pair_segments(
    old: Sequence[Clip], new: Sequence[Clip]
) -> tuple[list[tuple[Clip, Clip]], list[Clip], list[Clip]]:
    """By id; the rest by where they start on the timeline, then by their place on the track."""
    pairs, rest_old, rest_new = _pair_by_id(old, new, _clip_ident, _place)
    for where in (_starts_at, _place):
        if not (rest_old and rest_new):
            break
        queues: dict[int, list[Clip]] = {}
        for clip in rest_old:
            queues.setdefault(where(clip), []).append(clip)
        unpaired = []
        for clip in rest_new:
            queue = queues.get(where(clip))
            if queue:
                pairs.append((queue.pop(0), clip))
            else:
                unpaired.append(clip)
        rest_old, rest_new = [c for queue in queues.values() for c in queue], unpaired
    pairs.sort(key=lambda pair: pair[1][1])
    return pairs, rest_new, sorted(rest_old, key=_place)


def _meta_lines(old: Draft, new: Draft) -> list[str]:
    lines = []
    if old.title != new.title:
        lines.append(f"Project title {_maybe_quote(old.title)} -> {_maybe_quote(new.title)}")
    if old.aspect_ratio != new.aspect_ratio:
        lines.append(f"Aspect {old.aspect_ratio or 'unset'} -> {new.aspect_ratio or 'unset'}")
    elif _known_size(old) != _known_size(new):
        lines.append(f"Resolution {_size(old)} -> {_size(new)}")
    if abs(old.duration_ms - new.duration_ms) > _EPSILON_MS:
        lines.append(f"Duration {fmt_seconds(old.duration_ms)}s -> {fmt_seconds(new.duration_ms)}s")
    return lines


def _known_size(draft: Draft) -> tuple[object, object]:
    """Width and height, with 0 and "not given" alike: no size to 0x0 is no change."""
    return (draft.width or None, draft.height or None)


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
    old_clips = timed(items(old.raw, SEGMENT_LISTS))
    new_clips = timed(items(new.raw, SEGMENT_LISTS))
    pairs, added, removed = _pair_segments(old_clips, new_clips)
    single = len(old_clips) == 1 and len(new_clips) == 1
    for a, b in pairs:
        if a[0] == b[0] and a[2] == b[2] and a[3] == b[3]:
            continue
        before, after = Segment(*a), Segment(*b)
        lines.extend(
            _segment_lines(before, after, prefix, prefix if single else _ref(prefix, before))
        )
    lines.extend(f"{prefix}: added {s.label} ({s.span})" for s in starmap(Segment, added))
    lines.extend(f"{prefix}: removed {s.label} ({s.span})" for s in starmap(Segment, removed))
    return list(dict.fromkeys(lines))


def _ref(prefix: str, segment: Segment) -> str:
    name = segment.name
    return f"{prefix} {one_line(name)}" if name else f"{prefix} clip {segment.index + 1}"


def _segment_lines(a: Segment, b: Segment, prefix: str, ref: str) -> list[str]:
    lines = []
    if abs(a.start_ms - b.start_ms) > _EPSILON_MS:
        lines.append(f"{ref} moved {fmt_seconds(a.start_ms)}s -> {fmt_seconds(b.start_ms)}s")
    if abs(a.duration_ms - b.duration_ms) > _EPSILON_MS:
        lines.append(
            f"{ref} duration {fmt_seconds(a.duration_ms)}s -> {fmt_seconds(b.duration_ms)}s"
        )
    if a.volume != b.volume:
        lines.append(f"{ref} volume {_percent(a.volume)} -> {_percent(b.volume)}")
    if a.text != b.text:
        lines.append(f"{ref} text {_maybe_quote(a.text)} -> {_maybe_quote(b.text)}")
    if (a.src, a.media_id) != (b.src, b.media_id):
        lines.append(_replaced(a, b, prefix, ref))
    elif a.name != b.name:
        lines.append(f"{ref} renamed {_maybe_quote(a.name)} -> {_maybe_quote(b.name)}")
    lines.extend(_other_fields(a, b, ref))
    return lines


def _replaced(a: Segment, b: Segment, prefix: str, ref: str) -> str:
    old, new = _source(a), _source(b)
    if old is None:
        return f"{ref} now plays {new}"
    if new is None:
        return f"{ref} source {old} removed"
    return f"{prefix} {old} replaced by {new}"


def _percent(volume: float | None) -> str:
    return "unset" if volume is None else fmt_percent(volume)


def _source(segment: Segment) -> str | None:
    if segment.src:
        return segment.src.rstrip("/").rsplit("/", 1)[-1] or segment.src
    return segment.media_id


def _other_fields(a: Segment, b: Segment, ref: str) -> list[str]:
    """Changes to fields the model has no view for (transition, font size, ...), generically."""
    lines = []
    for old, new in ((a.raw, b.raw), (a.meta, b.meta)):
        for key in dict.fromkeys([*old, *new]):
            if key in _COVERED or (key in old, old.get(key)) == (key in new, new.get(key)):
                continue
            words = key.replace("_", " ") if isinstance(key, str) else repr(key)
            lines.append(f"{ref} {words} {_short(old, key)} -> {_short(new, key)}")
    return lines


def _short(scope: Mapping[str, Any], key: str) -> str:
    if key not in scope:
        return "unset"
    try:
        text = json.dumps(scope[key], ensure_ascii=False, default=str)
    except (ValueError, RecursionError):
        text = "…"
    return text if len(text) <= 40 else text[:39] + "…"
