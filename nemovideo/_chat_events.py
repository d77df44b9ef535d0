"""Typed chat events, and the decoding of one SSE frame into them.

The chat stream speaks two dialects (PROTOCOL "Chat stream"): Google ADK events, where one frame may
hold several ``content.parts`` (text, ``functionCall``, ``functionResponse``), and a simpler
``{"type": "text" | "tool_call" | "tool_result" | "heartbeat", ...}`` form. Both decode to the same
values, one per part, in order; anything else becomes a :class:`RawEvent`, never an exception::

    >>> decode_frame({"type": "text", "content": "Hi"})
    [TextEvent(text='Hi', author=None, partial=False, event_id=None)]

Every event keeps ``raw`` (the decoded JSON of its frame) and ``event_id`` (the frame's ``id``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import attrs

from .draft import Draft

__all__ = [
    "ChatEvent",
    "DraftUpdatedEvent",
    "ErrorEvent",
    "HeartbeatEvent",
    "RawEvent",
    "TextEvent",
    "ToolCallEvent",
    "ToolResultEvent",
    "decode_data",
    "decode_frame",
]


@attrs.frozen
class TextEvent:
    """Text for the user. ``partial`` chunks are deltas; the final event repeats the whole text.

    :ivar text: the words; a delta when ``partial``.
    :ivar author: the agent that spoke, when the ADK dialect names it.
    :ivar partial: True for a streamed chunk; ``ChatStream.text`` merges them for you.
    :ivar event_id: the SSE frame's ``id`` (resume point); None when the server sent none.
    :ivar raw: the decoded JSON of the frame, for fields this class does not model.
    """

    text: str
    author: str | None = None
    partial: bool = False
    event_id: str | None = None
    raw: Any = attrs.field(default=None, repr=False, eq=False)


@attrs.frozen
class ToolCallEvent:
    """The agent started a tool (``edit_multitrack``, ``generate_video_with_seedance``...).

    :ivar name: the tool's name; ``"unknown"`` when the frame gave none.
    :ivar args: its arguments, decoded from JSON when the server sent them as a string.
    :ivar id: the call id that pairs it with its ``ToolResultEvent``; None when not given.
    :ivar event_id: the SSE frame's ``id`` (resume point); None when the server sent none.
    :ivar raw: the decoded JSON of the frame, for fields this class does not model.
    """

    name: str
    args: Mapping[str, Any] = attrs.field(factory=dict)
    id: str | None = None
    event_id: str | None = None
    raw: Any = attrs.field(default=None, repr=False, eq=False)


@attrs.frozen
class ToolResultEvent:
    """A tool finished; ``response`` is what it returned.

    :ivar name: the tool's name, as in the matching ``ToolCallEvent``.
    :ivar response: the tool's result, as sent (any JSON value).
    :ivar id: the call id of the matching ``ToolCallEvent``; None when not given.
    :ivar event_id: the SSE frame's ``id`` (resume point); None when the server sent none.
    :ivar raw: the decoded JSON of the frame, for fields this class does not model.
    """

    name: str
    response: Any = None
    id: str | None = None
    event_id: str | None = None
    raw: Any = attrs.field(default=None, repr=False, eq=False)


@attrs.frozen
class HeartbeatEvent:
    """A keep-alive (``event: heartbeat``, an empty ``data:``, a comment line, a heartbeat frame).

    Only yielded with ``keep_events=True``; otherwise heartbeats just drive ``on_waiting``.

    :ivar event_id: the SSE frame's ``id`` (resume point); None when the server sent none.
    :ivar raw: the decoded JSON of the frame, for fields this class does not model.
    """

    event_id: str | None = None
    raw: Any = attrs.field(default=None, repr=False, eq=False)


@attrs.frozen
class ErrorEvent:
    """A failure reported inside the stream (``{"error": ...}``, ``errorCode``/``errorMessage``).

    The stream goes on after one: the backend may still finish (or have finished) the edit.

    :ivar message: what the backend said went wrong.
    :ivar code: the backend's error code, number or string; None when it gave none.
    :ivar event_id: the SSE frame's ``id`` (resume point); None when the server sent none.
    :ivar raw: the decoded JSON of the frame, for fields this class does not model.
    """

    message: str
    code: str | int | None = None
    event_id: str | None = None
    raw: Any = attrs.field(default=None, repr=False, eq=False)


@attrs.frozen
class RawEvent:
    """A frame of a shape nobody documented; kept so nothing is lost.

    :ivar event_id: the SSE frame's ``id`` (resume point); None when the server sent none.
    :ivar raw: the frame: decoded JSON, or the ``data`` text when it was not JSON.
    """

    event_id: str | None = None
    raw: Any = attrs.field(default=None, repr=False, eq=False)


@attrs.frozen
class DraftUpdatedEvent:
    """Made by the client, not the server: the stream dropped and polling state found this draft.

    :ivar draft: the session's draft as read from state.
    :ivar changes: readable lines of what changed against the draft before the message.
    :ivar recovered: always True: the answer was recovered, not streamed.
    """

    draft: Draft
    changes: tuple[str, ...] = ()
    recovered: bool = True


ChatEvent = (
    TextEvent
    | ToolCallEvent
    | ToolResultEvent
    | HeartbeatEvent
    | ErrorEvent
    | RawEvent
    | DraftUpdatedEvent
)
"""Any event a ``ChatStream`` yields; tell them apart with ``isinstance`` (or ``match``)."""

_ERROR_TEXT = re.compile(r'"error"\s*:\s*"(.*)"?\s*[,}]?', re.S)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _args(value: Any) -> Mapping[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {"value": value}
    return value if isinstance(value, Mapping) else {}


def _adk_parts(obj: Mapping[str, Any], eid: str | None) -> list[ChatEvent]:
    content = obj.get("content")
    parts = content.get("parts") if isinstance(content, dict) else None
    out: list[ChatEvent] = []
    author = _str(obj.get("author"))
    partial = obj.get("partial") is True
    for part in parts if isinstance(parts, list) else ():
        if not isinstance(part, dict):
            continue
        call = part.get("functionCall") or part.get("function_call")
        answer = part.get("functionResponse") or part.get("function_response")
        if isinstance(call, dict):
            name = _str(call.get("name")) or "unknown"
            out.append(ToolCallEvent(name, _args(call.get("args")), _str(call.get("id")), eid, obj))
        elif isinstance(answer, dict):
            name = _str(answer.get("name")) or "unknown"
            result = answer.get("response")
            out.append(ToolResultEvent(name, result, _str(answer.get("id")), eid, obj))
        elif isinstance(part.get("text"), str) and not part.get("thought"):
            out.append(TextEvent(part["text"], author, partial, eid, obj))
    return out


def _typed(obj: Mapping[str, Any], kind: str, eid: str | None) -> ChatEvent:
    if kind == "text":
        text = _str(obj.get("content")) or _str(obj.get("text")) or ""
        return TextEvent(text, _str(obj.get("author")), obj.get("partial") is True, eid, obj)
    if kind in ("tool_call", "function_call"):
        name = _str(obj.get("name")) or "unknown"
        return ToolCallEvent(name, _args(obj.get("args")), _str(obj.get("call_id")), eid, obj)
    if kind in ("tool_result", "function_response"):
        name = _str(obj.get("name")) or "unknown"
        response = obj.get("result", obj.get("response"))
        return ToolResultEvent(name, response, _str(obj.get("call_id")), eid, obj)
    if kind == "heartbeat":
        return HeartbeatEvent(eid, obj)
    if kind == "error":
        message = _str(obj.get("message")) or _str(obj.get("content")) or "Error"
        return ErrorEvent(message, obj.get("code"), eid, obj)
    return RawEvent(eid, obj)


def decode_frame(obj: Any, event_id: str | None = None) -> list[ChatEvent]:
    """The events one decoded JSON frame holds, in order (``[]`` never: unknown -> ``RawEvent``)."""
    if not isinstance(obj, dict):
        return [RawEvent(event_id, obj)]
    eid = _str(obj.get("id")) or event_id
    kind = obj.get("type")
    if isinstance(kind, str) and not isinstance(obj.get("content"), dict):
        return [_typed(obj, kind, eid)]
    if "error" in obj and "content" not in obj:
        message = obj.get("error")
        text = message if isinstance(message, str) else json.dumps(message)
        return [ErrorEvent(text, _str(obj.get("error_code")), eid, obj)]
    out = _adk_parts(obj, eid)
    if obj.get("errorCode") is not None or obj.get("errorMessage") is not None:
        message = _str(obj.get("errorMessage")) or str(obj.get("errorCode"))
        out.append(ErrorEvent(message, obj.get("errorCode"), eid, obj))
    return out or [RawEvent(eid, obj)]


def decode_data(data: str, event: str = "message", event_id: str | None = None) -> list[ChatEvent]:
    """Decode one SSE event's ``data``: JSON as above; empty or ``heartbeat`` -> a heartbeat.

    Data that is not JSON (older servers do not escape the last ``{"error": ...}`` frame) becomes
    an :class:`ErrorEvent` when it mentions an error, else a :class:`RawEvent`.
    """
    if event == "heartbeat" or not data.strip():
        return [HeartbeatEvent(event_id, data or None)]
    try:
        obj = json.loads(data)
    except ValueError:
        match = _ERROR_TEXT.search(data)
        if match:
            return [ErrorEvent(match.group(1).rstrip('"}, '), None, event_id, data)]
        return [RawEvent(event_id, data)]
    if event == "error" and isinstance(obj, Mapping) and "error" not in obj:
        return [ErrorEvent(_str(obj.get("message")) or data, obj.get("code"), event_id, obj)]
    return decode_frame(obj, event_id)
