"""Typed chat events, and the decoding of one SSE frame into them.

The chat stream speaks two dialects (docs/protocol.md, "Chat"): Google ADK events, where one frame may
hold several ``content.parts`` (text, ``functionCall``, ``functionResponse``), and a simpler
``{"type": "text" | "tool_call" | "tool_result" | "heartbeat", ...}`` form. Both decode to the same
values, one per part, in order; anything else becomes a :class:`RawEvent`, never an exception::

    >>> decode_frame({"type": "text", "content": "Hi"})
    [TextEvent(text='Hi', author=None, partial=False, event_id=None)]

Every event carries ``raw`` (the decoded JSON of its frame) and ``event_id`` (the frame's ``id``)
as yielded; a long reply keeps its later events without ``raw`` (see ``ChatStream``).
"""

from __future__ import annotations

import bisect
import itertools
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from nemovideo._util import jsonparse as _json
from nemovideo._util.plain import Plain, tagged
from nemovideo.chat._question import QuestionEvent
from nemovideo.draft._model import Draft

__all__ = [
    "ChatEvent",
    "DraftUpdatedEvent",
    "ErrorEvent",
    "HeartbeatEvent",
    "RawEvent",
    "TextEvent",
    "ToolCallEvent",
    "ToolResultEvent",
    "broken_error_message",
    "decode_data",
    "decode_frame",
    "decode_plain",
    "screened",
    "text_event",
]


@tagged
@attrs.frozen
class TextEvent(Plain):
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


@tagged
@attrs.frozen
class ToolCallEvent(Plain):
    """The agent started a tool (``edit_multitrack``, ``generate_video_with_seedance``...).

    :ivar name: the tool's name; ``"unknown"`` when the frame gave none.
    :ivar args: its arguments, decoded from JSON when the server sent them as a string.
    :ivar id: the call id that pairs it with its ``ToolResultEvent``; None when not given.
    :ivar event_id: the SSE frame's ``id`` (resume point); None when the server sent none.
    :ivar raw: the decoded JSON of the frame, for fields this class does not model.
    :ivar partial: True when the call came only in a ``partial: true`` event. ADK 2.x streams a
        call twice, partial then final: a ``ChatStream`` yields it once, from the final event
        (``partial=False``); a partial one is yielded only when no final event repeated it.
    """

    name: str
    args: Mapping[str, Any] = attrs.field(factory=dict)
    id: str | None = None
    event_id: str | None = None
    raw: Any = attrs.field(default=None, repr=False, eq=False)
    partial: bool = attrs.field(default=False, kw_only=True)


@tagged
@attrs.frozen
class ToolResultEvent(Plain):
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


@tagged
@attrs.frozen
class HeartbeatEvent(Plain):
    """A keep-alive (``event: heartbeat``, an empty ``data:``, a comment line, a heartbeat frame).

    A ``ChatStream`` yields every heartbeat. Heartbeats do not reset the idle clock; while only
    they arrive, ``on_waiting`` is called every ``heartbeat_notice_interval``. ``ChatStream.events`` keeps them
    only with ``keep_events="all"``; ``ChatReply.events`` keeps those among a reply's first 1,000
    events.

    :ivar event_id: the SSE frame's ``id`` (resume point); None when the server sent none.
    :ivar raw: the decoded JSON of the frame, for fields this class does not model.
    """

    event_id: str | None = None
    raw: Any = attrs.field(default=None, repr=False, eq=False)


@tagged
@attrs.frozen
class ErrorEvent(Plain):
    """A failure reported inside the stream.

    Two kinds (docs/protocol.md, "Chat"): ``fatal`` ones are ADK's terminal ``{"error": ...}``
    frame (escaped or not): the invocation failed and the answer is incomplete, so ``send()``
    raises :class:`~nemovideo.errors.AgentError` and a ``ChatStream`` raises it once the stream
    has ended. The others are ordinary events carrying ``errorCode``/``errorMessage`` (a model
    refusal, a tool error reported to the model): the stream goes on, and the reply lists them
    in ``ChatReply.errors``.

    :ivar message: what the backend said went wrong (every line of it).
    :ivar code: the backend's error code, number or string; None when it gave none.
    :ivar event_id: the SSE frame's ``id`` (resume point); None when the server sent none.
    :ivar raw: the decoded JSON of the frame (or its text, when it was not JSON).
    :ivar fatal: True for a terminal ``{"error": ...}`` frame: the invocation failed.
    """

    message: str
    code: str | int | None = None
    event_id: str | None = None
    raw: Any = attrs.field(default=None, repr=False, eq=False)
    fatal: bool = attrs.field(default=False, kw_only=True)


@tagged
@attrs.frozen
class RawEvent(Plain):
    """A frame of a shape nobody documented; kept so nothing is lost.

    :ivar event_id: the SSE frame's ``id`` (resume point); None when the server sent none.
    :ivar raw: the frame: decoded JSON, or the ``data`` text when it was not JSON.
    """

    event_id: str | None = None
    raw: Any = attrs.field(default=None, repr=False, eq=False)


@tagged
@attrs.frozen
class DraftUpdatedEvent(Plain):
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
    | QuestionEvent
)
"""Any event a ``ChatStream`` yields; tell them apart with ``isinstance`` (or ``match``).

- ``TextEvent``: the agent's words (``partial`` chunks, then the whole sentence);
- ``ToolCallEvent`` / ``ToolResultEvent``: an editing tool starting and finishing (``name``);
- ``DraftUpdatedEvent``: the timeline after a change (``draft``, ``changes``), also what a
  recovered stream yields once it has read the result from the project;
- ``QuestionEvent``: the agent stopped to ask (answer with ``session.answer``);
- ``ErrorEvent``: a problem the backend reported (``fatal`` when the answer is cut short);
- ``HeartbeatEvent``: the backend is still working; ``RawEvent``: a frame the SDK does not know.

::

    async with session.chat("add lo-fi BGM at 35%") as stream:
        async for event in stream:
            match event:
                case nemovideo.TextEvent(partial=False):
                    print(event.text)
                case nemovideo.ToolCallEvent():
                    print("working:", event.name)
                case nemovideo.DraftUpdatedEvent():
                    print(event.draft.summary())
"""

_ERROR_TEXT = re.compile(r'"error"\s*:\s*"(.*)', re.S)
_ERROR_END = re.compile(r'"\s*}\s*$')


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _args(value: Any) -> Mapping[str, Any]:
    if isinstance(value, str):
        try:
            value = _json.loads(value)
        except ValueError:
            return {"value": value}
    return value if isinstance(value, Mapping) else {}


def _adk_parts(
    obj: Mapping[str, Any], content: Mapping[str, Any], eid: str | None
) -> list[ChatEvent]:
    parts = content.get("parts")
    out: list[ChatEvent] = []
    if not isinstance(parts, list):
        return out
    author = obj.get("author")
    if not isinstance(author, str):
        author = None
    partial = obj.get("partial") is True
    for part in parts:
        if not isinstance(part, dict):
            continue
        if len(part) == 1:
            text = part.get("text")
            if isinstance(text, str):  # the common part, text alone: one lookup, not five
                out.append(TextEvent(text, author, partial, eid, obj))
                continue
        call = part.get("functionCall") or part.get("function_call")
        answer = part.get("functionResponse") or part.get("function_response")
        if isinstance(call, dict):
            name = _str(call.get("name")) or "unknown"
            args = _args(call.get("args"))
            out.append(ToolCallEvent(name, args, _str(call.get("id")), eid, obj, partial=partial))
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
        return ErrorEvent(message, obj.get("code"), eid, obj, fatal=True)
    if kind == "ask_question":
        args = {k: v for k, v in obj.items() if k not in ("type", "call_id")}
        return ToolCallEvent("ask_question", args, _str(obj.get("call_id")), eid, obj)
    return RawEvent(eid, obj)


def decode_frame(obj: Any, event_id: str | None = None) -> list[ChatEvent]:
    """The events one decoded JSON frame holds, in order (``[]`` never: unknown -> ``RawEvent``)."""
    if not isinstance(obj, dict):
        return [RawEvent(event_id, obj)]
    eid = obj.get("id")
    if not isinstance(eid, str) or not eid:
        eid = event_id
    content = obj.get("content")
    if isinstance(content, dict):  # ADK: neither the typed dialect nor a terminal error frame
        return _with_refusal(obj, eid, _adk_parts(obj, content, eid))
    kind = obj.get("type")
    if isinstance(kind, str):
        return [_typed(obj, kind, eid)]
    if "error" in obj and "content" not in obj:
        message = obj.get("error")
        text = message if isinstance(message, str) else json.dumps(message)
        details = obj.get("error_details")
        kind = details.get("error_type") if isinstance(details, dict) else None
        code = _str(obj.get("error_code")) or _str(kind)
        return [ErrorEvent(text, code, eid, obj, fatal=True)]
    return _with_refusal(obj, eid, [])


def _with_refusal(obj: Mapping[str, Any], eid: str | None, out: list[ChatEvent]) -> list[ChatEvent]:
    """``out`` and the refusal (``errorCode``/``errorMessage``) the frame carries; never empty."""
    if obj.get("errorCode") is not None or obj.get("errorMessage") is not None:
        message = _str(obj.get("errorMessage")) or str(obj.get("errorCode"))
        out.append(ErrorEvent(message, obj.get("errorCode"), eid, obj))
    return out or [RawEvent(eid, obj)]


def decode_data(data: str, event: str = "message", event_id: str | None = None) -> list[ChatEvent]:
    """Decode one SSE event's ``data``: JSON as above; empty or ``heartbeat`` -> a heartbeat.

    Data that is not JSON (ADK 1.x does not escape its last ``{"error": ...}`` frame) becomes a
    fatal :class:`ErrorEvent` when it mentions an error (its ``raw`` is then the text, and
    :func:`broken_error_message` reads the message), else a :class:`RawEvent`.
    """
    if event == "heartbeat" or not data.strip():
        return [HeartbeatEvent(event_id, data or None)]
    try:
        obj = _json.loads(data)
    except (ValueError, RecursionError):  # RecursionError: JSON nested past Python's limit
        if _ERROR_TEXT.search(data):
            return [ErrorEvent(broken_error_message(data), None, event_id, data, fatal=True)]
        return [RawEvent(event_id, data)]
    if event == "error" and isinstance(obj, Mapping) and "error" not in obj:
        message = _str(obj.get("message")) or data
        return [ErrorEvent(message, obj.get("code"), event_id, obj, fatal=True)]
    return decode_frame(obj, event_id)


def screened(frames: Sequence[Any]) -> list[tuple[Sequence[Any], bool]]:
    """``frames`` in runs, each with whether its frames were screened: all ``bytes``, none holding
    a run of 19 digits (orjson reads an integer past 64 bits as a float, ``json.loads`` as an int:
    see ``jsonparse._by_orjson``), orjson in use. ``decode_plain(frame, True)`` then parses a
    screened frame with orjson as it is. Most chunks are one screened run; a frame with a long
    run of digits (an id) is a run of its own, and the frames around it stay screened.

    One scan of a chunk's frames joined, not one a frame: ``bytes.translate`` sets up its
    256-entry table on every call, and that, the call and the ``find`` after it cost (under
    callgrind) half again as much as the scan of a 500-byte frame itself.

        >>> screened([b'{"n": 1}', b'{"n": 12345678901234567890}', b'{"n": 2}'])[1]
        ([b'{"n": 12345678901234567890}'], False)
    """
    if _json.BACKEND != "orjson":
        return [(frames, False)]
    try:
        digits = b"\n".join(frames)  # the newline keeps two frames' digits apart
    except TypeError:  # not all bytes: a comment or a named event among them (rare)
        return [(frames, False)]
    digits = _json.digit_screen(digits)
    at = digits.find(_json.LONG_RUN)
    if at < 0:
        return [(frames, True)]
    ends = list(itertools.accumulate(len(frame) + 1 for frame in frames))  # each one's newline
    runs: list[tuple[Sequence[Any], bool]] = []
    done = 0
    while at >= 0:
        n = bisect.bisect_right(ends, at)  # the frame the digits are in
        if n > done:
            runs.append((frames[done:n], True))
        runs.append((frames[n : n + 1], False))
        done = n + 1
        at = digits.find(_json.LONG_RUN, ends[n])
    if done < len(frames):
        runs.append((frames[done:], True))
    return runs


def decode_plain(data: bytes, screened: bool = False) -> list[ChatEvent]:
    """``decode_data(data.decode())`` for a plain ``message`` event (no name, no id; its UTF-8
    ``bytes`` as ``SSEDecoder(plain=True)`` gives them), with ADK's usual frame, one text part,
    decoded in one step (:func:`text_event`). ``screened``: ``data`` is among frames
    :func:`screened` passed, so orjson parses it as it is (what it refuses, the stdlib reads in
    ``decode_data``, as ``jsonparse`` would)."""
    try:
        obj = _json.screened_loads(data) if screened else _json.loads_utf8(data)
    except (ValueError, RecursionError):
        return decode_data(data.decode("utf-8", "replace"))
    event = text_event(obj)
    return decode_frame(obj) if event is None else [event]


def text_event(obj: Any) -> TextEvent | None:
    """``decode_frame(obj)``'s one event when ``obj`` is ADK's usual frame, one text part (no
    refusal): the parser, four lookups and the event; None for any other frame."""
    try:  # a frame of another shape raises here, or has no text
        [part] = obj["content"]["parts"]
        text = part.get("text")  # not ``part["text"]``: a call's part would raise a KeyError
    except (LookupError, TypeError, ValueError, AttributeError):
        return None
    if (
        type(text) is str
        and type(part) is dict
        and len(part) == 1
        and "errorCode" not in obj
        and "errorMessage" not in obj
    ):
        eid = obj.get("id")
        author = obj.get("author")
        event = _new(TextEvent)
        _set_text(event, text)
        _set_author(event, author if type(author) is str else None)
        _set_partial(event, obj.get("partial") is True)
        _set_event_id(event, eid if type(eid) is str and eid else None)
        _set_raw(event, obj)
        return event
    return None


# ``text_event`` builds a TextEvent per frame through its slots: the frozen class's attrs
# ``__init__`` sets each field by ``object.__setattr__``, a third dearer (in instructions, under
# callgrind) than the slot descriptors themselves; the value is the same while the class has no
# validator or converter (checked below).
_new = object.__new__
assert [f.name for f in attrs.fields(TextEvent)] == ["text", "author", "partial", "event_id", "raw"]
assert not any(f.validator or f.converter for f in attrs.fields(TextEvent)), "set through __init__"
_set_text, _set_author, _set_partial, _set_event_id, _set_raw = (
    getattr(TextEvent, field.name).__set__ for field in attrs.fields(TextEvent)
)


def broken_error_message(text: str) -> str:
    """The message of an unescaped ``{"error": "..."}`` frame, quotes and newlines kept::

    >>> broken_error_message('{"error": "Render "x" failed:\\nretry"}')
    'Render "x" failed:\\nretry'
    """
    match = _ERROR_TEXT.search(text)
    body = match.group(1) if match else text
    return _ERROR_END.sub("", body.rstrip()).strip() or "The agent failed (no message)."
