"""From SSE items to the events a ``ChatStream`` yields: one call once, errors whole, questions.

What a real ADK server puts on the wire (docs/protocol.md, "Chat") is not yet what a reader wants:

- **One call, once.** With streaming on, ADK 2.x sends a ``functionCall`` in a ``partial: true``
  event and again in the final event (same event id; the call id may be regenerated). A partial
  call is held until the final event repeats it (same call id, or same event id, name and args),
  and only the final one is yielded, with the id its ``functionResponse`` will carry. A partial
  call that nothing repeats is yielded (``partial=True``) as soon as another event arrives.
- **Errors whole.** ADK 1.x writes its terminal ``{"error": "<message>"}`` frame unescaped: a
  message with quotes breaks the JSON, and one with newlines arrives as several SSE events whose
  lines the SSE rules ignore. Everything after a broken error frame is joined back into one
  fatal :class:`ErrorEvent`.
- **Questions.** A call named ``ask_question`` is followed by a :class:`QuestionEvent`; it is not
  work left running, so it is not among the pending calls.
- **Pairing.** Calls without a result yet are tracked by call id (else by tool name, oldest
  first) in constant time per event.

    shaper = Shaper()
    for item in decoder.feed(chunk):
        for event in shaper.feed(item):
            ...
    for event in shaper.finish():
        ...
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from nemovideo._util import jsonparse as _json
from nemovideo.chat._events import (
    ChatEvent,
    DraftUpdatedEvent,
    ErrorEvent,
    HeartbeatEvent,
    TextEvent,
    ToolCallEvent,
    ToolResultEvent,
    broken_error_message,
    decode_data,
    decode_frame,
    decode_plain,
    text_event,
)
from nemovideo.chat._question import ASK_TOOL, QuestionEvent, question_of
from nemovideo.chat._sse import ServerSentEvent, SSEComment, SSEStray
from nemovideo.chat._text import Transcript

__all__ = ["Item", "Shaper"]

Item = ServerSentEvent | SSEComment | SSEStray | DraftUpdatedEvent | bytes
"""A decoder item (bare ``bytes`` are a plain event's data: ``SSEDecoder(plain=True)``)."""


class Shaper:
    """Turns SSE items into events; see the module docstring.

    After (or during) the stream: ``transcript`` (the reply text), ``fatal`` (the terminal error,
    if any), ``question`` (the question the turn ended on, if any) and :attr:`pending`.
    """

    def __init__(self) -> None:
        self.transcript = Transcript()
        self.fatal: ErrorEvent | None = None
        self.question: QuestionEvent | None = None
        self._held: list[ToolCallEvent] = []
        self._broken: list[str] | None = None
        self._broken_id: str | None = None
        self._open_calls: dict[object, ToolCallEvent] = {}
        self._unnamed: dict[str, collections.deque[object]] = {}

    @property
    def pending(self) -> tuple[ToolCallEvent, ...]:
        """Calls announced but never answered (an ``ask_question`` call is not among them)."""
        return tuple(self._open_calls.values())

    def shape(self, runs: Iterable[tuple[Sequence[Any], bool]]) -> Iterator[ChatEvent]:
        """The events a chunk's items complete, in order: :meth:`feed` for each, but for ADK's
        usual text frame, which is read here (``decode_plain`` written out for the path nearly
        every event takes: no call, list and list iterator an event, one generator a chunk).
        ``runs``: the items as ``_events.screened`` gives them, with whether they were screened."""
        add, loads = self.transcript.add, _json.screened_loads
        for items, screened in runs:
            for item in items:
                if screened and self._broken is None and not self._held:
                    try:
                        obj = loads(item)
                    except ValueError:  # refused: the stdlib's turn (see ``jsonparse``)
                        yield from self.feed(item)
                        continue
                    event = text_event(obj)
                    if event is not None:
                        add(event)
                        yield event
                    else:
                        yield from self._frame(decode_frame(obj), item, (), None, [])
                else:
                    yield from self.feed(item, screened)

    def feed(self, item: Item, screened: bool = False) -> list[ChatEvent]:
        """The events ``item`` completes, in order (often none or one). ``screened``: ``item``
        is among frames ``_events.screened`` passed (see ``decode_plain``)."""
        if type(item) is bytes and self._broken is None:
            events = decode_plain(item, screened)
            first = events[0]
            if len(events) == 1 and not self._held and type(first) is TextEvent:  # the hot path
                self.transcript.add(first)
                return events
            return self._frame(events, item, (), None, [])
        out: list[ChatEvent] = []
        if self._broken is not None:
            if isinstance(item, SSEStray):
                self._broken += ["", *item.lines]
                return out
            if isinstance(item, (ServerSentEvent, bytes)):
                out = self._end_broken()
        if isinstance(item, bytes):
            return self._frame(decode_plain(item), item, (), None, out)
        if isinstance(item, ServerSentEvent):
            events = decode_data(item.data, item.event, item.id)
            return self._frame(events, item.data, item.stray, item.id, out)
        if isinstance(item, SSEComment):
            self._shape(HeartbeatEvent(None, item.text), out)
        elif not isinstance(item, SSEStray):
            self._shape(item, out)
        return out

    def _frame(
        self,
        events: list[ChatEvent],
        data: str | bytes,
        stray: tuple[str, ...],
        event_id: str | None,
        out: list[ChatEvent],
    ) -> list[ChatEvent]:
        """``events`` decoded from ``data`` (a plain event's bytes are decoded only for a broken
        error frame: a call's or a tool result's frame, kilobytes, is never needed as text)."""
        first = events[0]
        if isinstance(first, ErrorEvent) and first.fatal and isinstance(first.raw, str):
            if isinstance(data, bytes):
                data = data.decode("utf-8", "replace")
            self._broken, self._broken_id = [data, *stray], event_id
            return out
        for event in events:
            self._shape(event, out)
        return out

    def finish(self) -> list[ChatEvent]:
        """The stream ended: a broken error frame completed, partial calls nothing repeated."""
        out = self._end_broken()
        self._release(out)
        return out

    def _end_broken(self) -> list[ChatEvent]:
        if self._broken is None:
            return []
        text = "\n".join(self._broken)
        self._broken = None
        out: list[ChatEvent] = []
        self._shape(
            ErrorEvent(broken_error_message(text), None, self._broken_id, text, fatal=True), out
        )
        return out

    def _shape(self, event: ChatEvent, out: list[ChatEvent]) -> None:
        if isinstance(event, ToolCallEvent):
            if event.partial:
                self._held.append(event)
                return
            self._forget_repeat(event)
        if self._held and not isinstance(event, HeartbeatEvent):
            event_id = getattr(event, "event_id", None)
            if event_id is None or event_id != self._held[0].event_id:
                self._release(out)
        if isinstance(event, TextEvent):
            self.transcript.add(event)
        elif isinstance(event, ToolCallEvent):
            self.transcript.end_turn(event.raw)
            self._call(event, out)
            return
        elif isinstance(event, ToolResultEvent):
            self.transcript.end_turn(event.raw)
            self._result(event)
        elif isinstance(event, ErrorEvent) and event.fatal:
            self.fatal = event
        out.append(event)

    def _forget_repeat(self, call: ToolCallEvent) -> None:
        for n, held in enumerate(self._held):
            same_id = call.id is not None and held.id == call.id
            same_event = held.event_id == call.event_id and held.event_id is not None
            if same_id or (same_event and held.name == call.name and held.args == call.args):
                del self._held[n]
                return

    def _release(self, out: list[ChatEvent]) -> None:
        held, self._held = self._held, []
        for call in held:
            self._call(call, out)

    def _call(self, call: ToolCallEvent, out: list[ChatEvent]) -> None:
        out.append(call)
        if call.name == ASK_TOOL:
            self.question = question_of(call.args, call.id, call.event_id)
            out.append(self.question)
            return
        key: object = call.id if call.id is not None else object()
        self._open_calls[key] = call
        if call.id is None:
            self._unnamed.setdefault(call.name, collections.deque()).append(key)

    def _result(self, result: ToolResultEvent) -> None:
        question = self.question
        if question is not None and result.name == ASK_TOOL and result.id == question.call_id:
            self.question = None
        if result.id is not None:
            self._open_calls.pop(result.id, None)
            return
        waiting = self._unnamed.get(result.name)
        if waiting:
            self._open_calls.pop(waiting.popleft(), None)
