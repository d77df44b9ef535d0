"""What ``ChatStream.events`` keeps of a stream (``keep_events=``), so that a long answer's memory
stays flat: see ``ChatStream``.

    >>> keep_mode("first"), keep_mode(True)
    ('first', 'all')
"""

from __future__ import annotations

from typing import Literal, get_args

from nemovideo.chat import _events as ev
from nemovideo.chat._question import QuestionEvent
from nemovideo.errors import ValidationError

__all__ = ["WHOLE_EVENTS", "KeepEvents", "keep_mode", "kept_of"]

WHOLE_EVENTS = 1000
"""Events of a stream kept whole (``raw`` included) before only a reply's needs are kept."""

KeepEvents = Literal["reply", "first", "all"]
"""What ``ChatStream.events`` keeps (``keep_events=``): see ``ChatStream``."""

_KEEP_BEFORE: dict[bool | None, KeepEvents] = {False: "reply", None: "first", True: "all"}
"""The ``bool | None`` spellings of ``keep_events`` before ``KeepEvents`` (still accepted)."""


def keep_mode(keep_events: KeepEvents | bool | None) -> KeepEvents:
    """``keep_events`` as a ``KeepEvents`` name; ``ValidationError`` for anything else."""
    if keep_events is None or type(keep_events) is bool:
        return _KEEP_BEFORE[keep_events]
    if isinstance(keep_events, str) and keep_events in get_args(KeepEvents):
        return keep_events
    raise ValidationError(
        f"keep_events must be one of {', '.join(map(repr, get_args(KeepEvents)))}; "
        f"got {keep_events!r}"
    )


def kept_of(event: ev.ChatEvent, seen: int, mode: KeepEvents) -> ev.ChatEvent | None:
    """What ``events`` keeps of the ``seen``-th event (see ``ChatStream``), or None."""
    if mode == "all":
        return event
    if seen > WHOLE_EVENTS:
        return _compact(event)
    if mode == "first" or not isinstance(event, (ev.TextEvent, ev.HeartbeatEvent)):
        return event
    return None


def _compact(event: ev.ChatEvent) -> ev.ChatEvent | None:
    """What a long reply keeps of ``event`` past its first ``WHOLE_EVENTS``: calls and errors
    without their frame, questions and recovered drafts as they are; nothing of the rest."""
    if isinstance(event, ev.ToolCallEvent):
        return ev.ToolCallEvent(
            event.name, event.args, event.id, event.event_id, partial=event.partial
        )
    if isinstance(event, ev.ErrorEvent):
        return ev.ErrorEvent(event.message, event.code, event.event_id, fatal=event.fatal)
    return event if isinstance(event, (QuestionEvent, ev.DraftUpdatedEvent)) else None
