"""The timeline as an inline SVG, for notebooks (``Draft._repr_html_``) and anything that shows SVG.

One lane per track, clips drawn to scale with their labels (clipped to the clip), a seconds ruler
on top, a tooltip per clip. Plain string building: no dependency, valid standalone XML.

The picture is bounded whatever the draft holds: at most ``MAX_LANES`` lanes, ``MAX_SEGMENTS``
clips a lane and ``MAX_CLIPS`` in all are drawn (more than a 760-pixel-wide picture can show
apart); the rest is summarised (a grey "+N more clips" block over their span, a "+N more tracks" line),
so a 100,000-clip draft is a picture of tens of kilobytes, not a 28 MB one.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from nemovideo.draft._read import fmt_percent, fmt_seconds
from nemovideo.draft._track_type import TrackType

if TYPE_CHECKING:
    from nemovideo.draft._model import Draft, Segment, Track

_LABEL_W = 150
_PAD = 22
_RULER_H = 26
_LANE_H = 30
_GAP = 6
_COLORS = {TrackType.VIDEO: "#4e79a7", TrackType.AUDIO: "#59a14f", TrackType.TEXT: "#e08a2c"}
_OTHER = "#8c8c8c"
Scale = Callable[[float], float]
_STEPS_S = (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600)
MAX_LANES = 40
MAX_SEGMENTS = 200
MAX_CLIPS = 1000
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def esc(text: str, limit: int = 80) -> str:
    """Escape for XML text and attributes; drop characters XML 1.0 cannot carry; cap the length."""
    text = _NOT_XML.sub("", " ".join(text.split()))
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return html.escape(text, quote=True)


def _tick_step(total_s: float) -> float:
    return next((step for step in _STEPS_S if total_s / step <= 10), total_s / 10)


def render_svg(draft: Draft, *, width: int = 760) -> str:
    tracks = draft.tracks
    ends = [draft.duration_ms, *(t.end_ms for t in tracks)]
    total_ms = max((e for e in ends if math.isfinite(e) and e > 1.0), default=1.0)
    plot_w = max(width - _LABEL_W - _PAD, 100)
    shown, hidden = tracks[:MAX_LANES], len(tracks) - MAX_LANES
    height = _RULER_H + max(len(shown), 1) * (_LANE_H + _GAP) + _GAP + (16 if hidden > 0 else 0)

    def x(ms: float) -> float:
        return _LABEL_W + min(max(ms / total_ms, 0.0), 1.0) * plot_w

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="nemovideo-draft" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" '
        f'font-size="11" role="img" aria-label="{esc(draft.summary(), 300)}">',
        f"<title>{esc(draft.summary(), 1000)}</title>",
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        _ruler(total_ms, x),
    ]
    per_lane = min(MAX_SEGMENTS, max(10, MAX_CLIPS // max(len(shown), 1)))
    for lane, track in enumerate(shown):
        top = _RULER_H + _GAP + lane * (_LANE_H + _GAP)
        parts.append(_lane(track, top, plot_w, x, per_lane))
    if hidden > 0:
        parts.append(
            f'<text class="more-tracks" x="6" y="{height - 6}" fill="#555555">'
            f"+{hidden:,} more tracks not drawn</text>"
        )
    if not tracks:
        parts.append(
            f'<text class="empty" x="{_LABEL_W}" y="{_RULER_H + _GAP + _LANE_H / 2 + 4:.1f}" '
            f'fill="#888888">empty timeline</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _ruler(total_ms: float, x: Scale) -> str:
    step_s = _tick_step(total_ms / 1000)
    out = [
        '<g class="ruler" stroke="#999999" fill="#555555">',
        f'<line x1="{x(0):.1f}" y1="{_RULER_H - 4}" x2="{x(total_ms):.1f}" y2="{_RULER_H - 4}"/>',
    ]
    for tick in range(min(int(total_ms / 1000 / step_s + 1e-9), 40) + 1):
        pos = x(tick * step_s * 1000)
        out.append(
            f'<line class="tick" x1="{pos:.1f}" y1="{_RULER_H - 9}" x2="{pos:.1f}" '
            f'y2="{_RULER_H - 4}"/>'
            f'<text x="{pos:.1f}" y="{_RULER_H - 12}" text-anchor="middle" stroke="none">'
            f"{fmt_seconds(tick * step_s * 1000)}s</text>"
        )
    out.append("</g>")
    return "".join(out)


def _lane(track: Track, top: float, plot_w: float, x: Scale, limit: int) -> str:
    color = _COLORS.get(track.type, _OTHER) if isinstance(track.type, TrackType) else _OTHER
    title = track.describe().split(": ", 1)[-1]
    out = [
        f'<g class="lane" data-track="{track.index}" data-type="{int(track.type)}">',
        f'<rect class="lane-bg" x="{_LABEL_W}" y="{top}" width="{plot_w:.1f}" '
        f'height="{_LANE_H}" fill="#f2f2f2"/>',
        f'<text class="lane-label" x="6" y="{top + 13}" font-weight="bold">'
        f"{esc(track.label, 20)}</text>",
        f'<text class="lane-name" x="6" y="{top + 25}" fill="#555555">{esc(title, 22)}</text>',
    ]
    segments = track.segments
    out.extend(_segment(s, track, top, color, x) for s in segments[:limit])
    if len(segments) > limit:
        out.append(_more(segments[limit:], top, x))
    out.append("</g>")
    return "\n".join(out)


def _more(rest: Sequence[Segment], top: float, x: Scale) -> str:
    """One grey block over the span of the clips not drawn, saying how many there are."""
    starts = [s.start_ms for s in rest if math.isfinite(s.start_ms)]
    ends = [s.end_ms for s in rest if math.isfinite(s.end_ms)]
    first, last = (min(starts), max(ends)) if starts and ends else (0.0, 0.0)
    left = x(first)
    seg_w = max(x(last) - left, 1.0)
    text = f"+{len(rest):,} more clips"
    return (
        f'<svg class="segment more" x="{left:.1f}" y="{top + 2}" width="{seg_w:.1f}" '
        f'height="{_LANE_H - 4}" data-count="{len(rest)}"><title>{text} '
        f"({fmt_seconds(first)}-{fmt_seconds(last)}s)</title>"
        f'<rect width="100%" height="100%" rx="3" fill="{_OTHER}" stroke="#ffffff"/>'
        f'<text x="4" y="{_LANE_H / 2 + 2:.1f}" fill="#ffffff">{text}</text></svg>'
    )


def _ms(value: float) -> str:
    """Milliseconds for a data attribute: ``3334``, ``6666.667`` (no trailing ``.0``)."""
    rounded = round(value, 3)
    return str(int(rounded)) if rounded == int(rounded) else str(rounded)


def _segment(segment: Segment, track: Track, top: float, color: str, x: Scale) -> str:
    left = x(segment.start_ms)
    seg_w = max(x(segment.end_ms) - left, 1.0)
    label = segment.label
    if track.type == TrackType.AUDIO and segment.volume is not None:
        label = f"{label} {fmt_percent(segment.volume)}"
    tip = f"{label} ({segment.span})" + (f" {segment.src}" if segment.src else "")
    return (
        f'<svg class="segment" x="{left:.1f}" y="{top + 2}" width="{seg_w:.1f}" '
        f'height="{_LANE_H - 4}" data-start-ms="{_ms(segment.start_ms)}" '
        f'data-end-ms="{_ms(segment.end_ms)}"><title>{esc(tip, 300)}</title>'
        f'<rect width="100%" height="100%" rx="3" fill="{color}" stroke="#ffffff"/>'
        f'<text x="4" y="{_LANE_H / 2 + 2:.1f}" fill="#ffffff">{esc(label, 60)}</text></svg>'
    )
