"""Chat over SSE: ``ChatStream`` (events as they arrive) and ``send_message`` (the whole reply).

One message is one ``POST /run_sse``, sent exactly once. The answer streams back as typed events::

    async with session.chat("add lo-fi BGM at 35%") as stream:
        async for event in stream:
            if isinstance(event, nemovideo.TextEvent) and not event.partial:
                print(event.text)
    print(stream.text)

    reply = await session.send("make it 10 seconds")     # drives a ChatStream to its end
    print(reply.text or "\\n".join(reply.changes))

Rules it keeps (PROTOCOL "Chat stream"):

- **Never re-sent.** If the connection drops after the request may have reached the server, the
  stream does not POST again (that would charge twice). It waits ``recovery_first_wait``, reads
  the session state, and if the draft changed it ends with a
  [`DraftUpdatedEvent`][nemovideo.chat.DraftUpdatedEvent]; if not it waits ``recovery_wait`` and
  looks again, up to ``recovery_max_polls`` times, then raises
  [`ChatRecoveryError`][nemovideo.errors.ChatRecoveryError]. To know what "changed" means, the
  draft is read once before the message is sent (an unknown session therefore fails before
  anything is charged).
- **Bounded.** ``stream_idle_timeout`` without content (heartbeats do not count) or
  ``stream_timeout`` overall raise [`StreamTimeoutError`][nemovideo.errors.StreamTimeoutError];
  SSE lines and events over ``sse_max_line_bytes`` / ``sse_max_event_bytes`` raise
  [`StreamDecodeError`][nemovideo.errors.StreamDecodeError].
- **Patient, audibly.** Every ``heartbeat_notice_interval`` without content, ``on_waiting(elapsed)``
  is called (sync or async; default: a "Still working..." log line).
- **Released.** ``async with``, ``aclose()``, or breaking out of the loop (once the stream is
  garbage) closes the connection; the server keeps working on the edit.
"""

from __future__ import annotations

import asyncio
import collections
import inspect
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

import aiohttp

from ._chat_events import (
    ChatEvent,
    DraftUpdatedEvent,
    ErrorEvent,
    HeartbeatEvent,
    RawEvent,
    TextEvent,
    ToolCallEvent,
    ToolResultEvent,
)
from ._chat_followup import wait_for_draft_change
from ._chat_question import Option, Question, QuestionEvent
from ._chat_reply import ChatReply
from ._chat_shape import Item, Shaper
from ._chat_state import Clock
from ._paths import describe_error
from ._sse import ServerSentEvent, SSEComment, SSEDecoder, SSEStray
from .draft import Draft
from .errors import (
    AgentError,
    ChatRecoveryError,
    NemoError,
    StreamDecodeError,
    StreamTimeoutError,
    TransportError,
    ValidationError,
)

if TYPE_CHECKING:
    from .session import Session

__all__ = [
    "CHAT_PATH",
    "ChatEvent",
    "ChatReply",
    "ChatStream",
    "DraftUpdatedEvent",
    "ErrorEvent",
    "HeartbeatEvent",
    "Option",
    "Question",
    "QuestionEvent",
    "RawEvent",
    "TextEvent",
    "ToolCallEvent",
    "ToolResultEvent",
    "WaitingCallback",
    "send_message",
]

log = logging.getLogger("nemovideo.chat")

CHAT_PATH = "/run_sse"
APP_NAME = "nemo_agent"
WaitingCallback = Callable[[float], "Awaitable[None] | None"]
"""``on_waiting(elapsed_seconds)``: called while the backend works silently; may be async."""

_DROPPED = (aiohttp.ClientError, ConnectionError)
_STREAMED = (TextEvent, HeartbeatEvent)  # folded into ``text`` / the clock unless keep_events
_EVENT_STREAM = "text/event-stream"


def _is_content(item: Item) -> bool:
    """Anything but a keep-alive resets the idle clock."""
    if isinstance(item, ServerSentEvent):
        data = item.data
        if item.event == "heartbeat" or not data.strip():
            return False
        return not (len(data) < 200 and '"heartbeat"' in data)  # a {"type": "heartbeat"} frame
    return not isinstance(item, (SSEComment, SSEStray))


def _log_waiting(elapsed: float) -> None:
    log.info("Still working... (%.0f s)", elapsed)


class ChatStream:
    """One message and its streamed answer. Iterate it once; see the module docstring.

    Attributes after (or during) iteration: ``events`` (the tool calls, tool results, questions
    and errors so far; every event, text and heartbeats included, with ``keep_events=True`` - off
    by default so a long stream read event by event keeps memory flat), ``text`` (the reply
    text), ``question`` (the question the turn ended on), ``draft_before`` (the draft read before
    sending), ``recovered`` and ``recovered_draft`` (set when a dropped stream was completed by
    polling state).

    A terminal ``{"error": ...}`` frame (the invocation failed) is yielded as a fatal
    ``ErrorEvent`` in its place; once the stream has ended, the loop raises
    [`AgentError`][nemovideo.errors.AgentError] instead of finishing quietly.
    """

    def __init__(
        self,
        session: Session,
        text: str,
        *,
        on_waiting: WaitingCallback | None = None,
        keep_events: bool = False,
    ) -> None:
        if not isinstance(text, str) or not text.strip():
            raise ValidationError("A chat message must hold some text.")
        self._session = session
        self._keep_all = keep_events
        self.message = text
        self._on_waiting: WaitingCallback = on_waiting or _log_waiting
        self.events: list[ChatEvent] = []
        self.draft_before: Draft | None = None
        self.recovered = False
        self.request_id: str | None = None
        self.recovered_draft: Draft | None = None
        self._shaper = Shaper()
        self._gen: AsyncGenerator[list[Item], None] | None = None
        self._ready: collections.deque[Item] = collections.deque()
        self._decoded: collections.deque[ChatEvent] = collections.deque()
        self._ended = False
        self._yielded = 0

    def __repr__(self) -> str:
        state = "new" if self._gen is None else f"{self._yielded} events read"
        return f"<ChatStream session={self._session.id!r} {state}>"

    @property
    def text(self) -> str:
        """The reply's text so far: partial chunks merged, a trailing "temporary issue" dropped."""
        return self._shaper.transcript.text

    @property
    def question(self) -> QuestionEvent | None:
        """The question the agent stopped to ask (``ask_question``), or None."""
        return self._shaper.question

    @property
    def error(self) -> ErrorEvent | None:
        """The terminal error the invocation failed with, or None."""
        return self._shaper.fatal

    # -- iteration ----------------------------------------------------------------------------

    def __aiter__(self) -> ChatStream:
        if self._gen is not None:
            raise RuntimeError(
                "A ChatStream can be iterated only once (its message was already sent); "
                "read stream.events, or send a new message."
            )
        self._gen = self._run()
        return self

    async def __anext__(self) -> ChatEvent:
        if self._gen is None:
            self.__aiter__()
        assert self._gen is not None
        while not self._decoded:
            if self._ended:
                fatal = self._shaper.fatal
                if fatal is not None:
                    raise AgentError(fatal.message, code=_code(fatal.code), data=_data(fatal.raw))
                raise StopAsyncIteration
            while not self._ready:
                try:
                    self._ready.extend(await self._gen.__anext__())
                except StopAsyncIteration:
                    self._ended = True
                    self._keep(self._shaper.finish())
                    break
            if self._ready:
                self._keep(self._shaper.feed(self._ready.popleft()))
        self._yielded += 1
        return self._decoded.popleft()

    def _keep(self, events: list[ChatEvent]) -> None:
        """Shape one SSE item only when the reader gets to it: decoding a whole network chunk
        ahead kept ~1,000 young dicts alive per chunk and doubled the garbage collector's work."""
        if self._keep_all:
            self.events.extend(events)
        else:
            self.events.extend(e for e in events if not isinstance(e, _STREAMED))
        self._decoded.extend(events)

    @property
    def pending_tools(self) -> tuple[ToolCallEvent, ...]:
        """Tool calls the stream announced but never answered: work still running on the server.

        When a stream closes with such a call (a long-running tool, e.g. the music-and-title
        stage of a generation), the result lands in the session's draft later;
        :func:`send_message` waits for it. An ``ask_question`` call is not among them.
        """
        return self._shaper.pending

    async def aclose(self) -> None:
        """Stop reading and release the connection (the server still finishes the edit)."""
        if self._gen is None:
            self._gen = self._run()
        self._ready.clear()
        self._decoded.clear()
        await self._gen.aclose()

    async def __aenter__(self) -> ChatStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- the work -----------------------------------------------------------------------------

    async def _run(self) -> AsyncGenerator[list[Item], None]:
        """Yields SSE events in batches (one per network chunk): one await per chunk, not per event."""
        transport = self._session._transport
        self.draft_before = (await self._session.state()).draft
        body = {
            "app_name": APP_NAME,
            "user_id": "me",
            "session_id": self._session.id,
            "new_message": {"role": "user", "parts": [{"text": self.message}]},
        }
        headers = {"Accept": "text/event-stream"}
        try:
            async with transport.stream("POST", CHAT_PATH, json_body=body, headers=headers) as resp:
                self.request_id = transport.request_id()
                async for batch in self._read(resp):
                    yield batch
            return
        except TransportError as exc:
            if isinstance(exc, (StreamTimeoutError, StreamDecodeError)) or exc.never_sent:
                raise
            reason = describe_error(exc)
        except _DROPPED as exc:
            reason = describe_error(exc)
        log.warning("Chat stream dropped (%s); recovering by polling state, not re-sending", reason)
        yield [await self._recover(reason)]

    async def _read(self, resp: aiohttp.ClientResponse) -> AsyncGenerator[list[Item], None]:
        config = self._session._transport.config
        decoder = SSEDecoder(
            max_line_bytes=config.sse_max_line_bytes,
            max_event_bytes=config.sse_max_event_bytes,
            emit_comments=True,
            emit_stray=True,
        )
        clock = Clock(config.stream_timeout, config.stream_idle_timeout,
                       config.heartbeat_notice_interval)  # fmt: skip
        content = resp.content
        while True:
            chunk = content.read_nowait()
            if not chunk:
                if content.at_eof():
                    break
                try:
                    chunk = await asyncio.wait_for(content.readany(), clock.wait())
                except asyncio.TimeoutError:
                    await self._tick(clock)
                    continue
                if not chunk:
                    break
            batch: list[Item] = list(decoder.feed(chunk))
            if any(_is_content(item) for item in batch):
                clock.content()
            if batch:
                yield batch
            await self._tick(clock)
        decoder.close()

    async def _tick(self, clock: Clock) -> None:
        clock.check()
        if clock.notice_due():
            result = self._on_waiting(clock.elapsed())
            if inspect.isawaitable(result):
                await result

    async def _recover(self, reason: str) -> DraftUpdatedEvent:
        config = self._session._transport.config
        before = Draft.empty() if self.draft_before is None else self.draft_before
        draft = await wait_for_draft_change(
            self._session, before, why="Chat recovery", on_waiting=self._on_waiting
        )
        if draft is None:
            raise ChatRecoveryError(
                f"The chat stream dropped ({reason}) and the draft did not change in "
                f"{config.recovery_max_polls} state checks. The message was NOT re-sent (that "
                "would charge twice); send it again yourself if you want to retry."
            )
        self.recovered = True
        self.recovered_draft = draft
        return DraftUpdatedEvent(draft, tuple(before.diff(draft)), recovered=True)


def _code(code: str | int | None) -> int | None:
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def _data(raw: Any) -> Mapping[str, Any] | None:
    return raw if isinstance(raw, Mapping) else None


async def send_message(
    session: Session, text: str, *, on_waiting: WaitingCallback | None = None
) -> ChatReply:
    """Send ``text``, wait for the whole answer, then read the draft it left.

    When the stream closes on a tool call it never answered (generation's second stage: music and
    title after the video), the draft is polled on the recovery schedule until that stage lands;
    if it does not, the reply lists the call in ``pending``. A silent answer (no text) whose draft
    looks unchanged is checked once more after ``settle_wait`` (3 s), since the server may still be
    saving the edit. A turn that ends on a question (``reply.question``) changed nothing, so
    neither wait happens. ``send()`` calls on one session (by id, within one client) run one at
    a time, so each reply's ``changes`` describe its own edit.

    Raises [`AgentError`][nemovideo.errors.AgentError] when the invocation failed mid-stream
    (ADK's terminal ``{"error"}`` frame); its ``reply`` holds what arrived before the failure.
    """
    async with session.client._chat_lock(session.id):
        return await _send(session, text, on_waiting)


async def _send(session: Session, text: str, on_waiting: WaitingCallback | None) -> ChatReply:
    stream = ChatStream(session, text, on_waiting=on_waiting, keep_events=True)
    try:
        async with stream:
            async for _ in stream:
                pass
    except AgentError as exc:
        exc.reply = await _failed_reply(session, stream)
        raise
    before = Draft.empty() if stream.draft_before is None else stream.draft_before
    after = stream.recovered_draft
    pending = () if stream.recovered else stream.pending_tools
    if after is None:
        after = (await session.state()).draft
        if stream.question is not None:
            pass
        elif pending:
            names = ", ".join(sorted({call.name for call in pending}))
            log.info("The answer closed with %s still running; waiting for it in the draft", names)
            later = await wait_for_draft_change(
                session, after, why="Second stage", on_waiting=on_waiting or _log_waiting
            )
            if later is None:
                log.warning("%s still running after the last state check; see reply.pending", names)
            else:
                after, pending = later, ()
        elif not stream.text and after.raw == before.raw:
            await asyncio.sleep(session._transport.config.settle_wait)
            after = (await session.state()).draft
    return _reply(stream, before, after, pending)


def _reply(
    stream: ChatStream, before: Draft, after: Draft, pending: tuple[ToolCallEvent, ...]
) -> ChatReply:
    return ChatReply(
        text=stream.text,
        events=tuple(stream.events),
        draft=after,
        before=before,
        changes=tuple(before.diff(after)),
        silent=not stream.text,
        recovered=stream.recovered,
        pending=pending,
        question=stream.question,
        request_id=stream.request_id,
    )


async def _failed_reply(session: Session, stream: ChatStream) -> ChatReply:
    """The partial reply of a failed invocation: the draft is read once (a failed read keeps
    the draft from before), with no polling; a tool may have changed it before the failure."""
    before = Draft.empty() if stream.draft_before is None else stream.draft_before
    try:
        after = (await session.state()).draft
    except NemoError as exc:
        log.info("Could not read the draft after the failed answer: %s", exc)
        after = before
    return _reply(stream, before, after, stream.pending_tools)
