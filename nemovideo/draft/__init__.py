"""The draft: NemoVideo's compact editing timeline, decoded without losing a byte.

The server keeps the timeline as ``{"t": [track, ...], "d": ms, "m": {...}}`` where a track is
``{"tt": 0 | 1 | 7, "sg": [segment, ...], "m": {...}}``. Export posts the draft back verbatim and no
public source documents every segment field, so ``Draft`` keeps the raw mapping untouched and
derives read-only views from it (common spellings accepted, unknown keys kept)::

    draft = Draft.from_json(state["draft"])
    print(draft.summary())        # Timeline (3 tracks): 1. Video: city timelapse (0-10s) ...
    for line in before.diff(draft):
        print(line)               # BGM volume 35% -> 50%
    assert Draft.from_json(d).to_json() == d
"""

from __future__ import annotations

from nemovideo.draft._model import Draft, Segment, Track, TrackType

__all__ = ["Draft", "Segment", "Track", "TrackType"]
