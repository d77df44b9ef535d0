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
from collections.abc import AsyncGenerator, Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING

import aiohttp
import attrs

from ._chat_events import (
    ChatEvent,
    DraftUpdatedEvent,
    ErrorEvent,
    HeartbeatEvent,
    RawEvent,
    TextEvent,
    ToolCallEvent,
    ToolResultEvent,
    decode_data,
)
from ._chat_followup import wait_for_draft_change
from ._chat_state import Clock, Transcript
from ._paths import describe_error
from ._sse import ServerSentEvent, SSEComment, SSEDecoder
from .draft import Draft
from .errors import (
    ChatRecoveryError,
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
_Item = ServerSentEvent | SSEComment | DraftUpdatedEvent


def _is_content(item: _Item) -> bool:
    """Anything but a keep-alive resets the idle clock."""
    if isinstance(item, ServerSentEvent):
        data = item.data
        if item.event == "heartbeat" or not data.strip():
            return False
        return not (len(data) < 200 and '"heartbeat"' in data)  # a {"type": "heartbeat"} frame
    return not isinstance(item, SSEComment)


def _log_waiting(elapsed: float) -> None:
    log.info("Still working... (%.0f s)", elapsed)


class ChatStream:
    """One message and its streamed answer. Iterate it once; see the module docstring.

    Attributes after (or during) iteration: ``events`` (the tool calls, tool results and errors so
    far; every event, text and heartbeats included, with ``keep_events=True`` - off by default so
    a long stream read event by event keeps memory flat), ``text`` (the reply
    text), ``draft_before`` (the draft read before sending), ``recovered`` and ``recovered_draft``
    (set when a dropped stream was completed by polling state).
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
        self.recovered_draft: Draft | None = None
        self._transcript = Transcript()
        self._gen: AsyncGenerator[list[_Item], None] | None = None
        self._ready: collections.deque[_Item] = collections.deque()
        self._decoded: collections.deque[ChatEvent] = collections.deque()
        self._open_calls: dict[object, ToolCallEvent] = {}
        self._unnamed: dict[str, collections.deque[object]] = {}
        self._yielded = 0

    def __repr__(self) -> str:
        state = "new" if self._gen is None else f"{self._yielded} events read"
        return f"<ChatStream session={self._session.id!r} {state}>"

    @property
    def text(self) -> str:
        """The reply's text so far: partial chunks merged, a trailing "temporary issue" dropped."""
        return self._transcript.text

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
            while not self._ready:
                self._ready.extend(await self._gen.__anext__())
            self._decode(self._ready.popleft())
        self._yielded += 1
        return self._decoded.popleft()

    def _decode(self, item: _Item) -> None:
        """Decode one SSE event only when the reader gets to it: decoding a whole network chunk
        ahead kept ~1,000 young dicts alive per chunk and doubled the garbage collector's work."""
        if isinstance(item, SSEComment):
            events: list[ChatEvent] = [HeartbeatEvent(None, item.text)]
        elif isinstance(item, ServerSentEvent):
            events = decode_data(item.data, item.event, item.id)
        else:
            events = [item]
        for event in events:
            if isinstance(event, TextEvent):
                self._transcript.add(event)
            elif isinstance(event, (ToolCallEvent, ToolResultEvent)):
                self._pair(event)
            if self._keep_all or not isinstance(event, _STREAMED):
                self.events.append(event)
        self._decoded.extend(events)

    def _pair(self, event: ToolCallEvent | ToolResultEvent) -> None:
        """Track tool calls without a result yet: by call id, else by tool name, oldest first.

        Constant time per event, however many calls stay unanswered (a stream of 100,000 events
        with unmatched ids must not turn quadratic).
        """
        if isinstance(event, ToolCallEvent):
            if isinstance(event.raw, dict) and event.raw.get("partial") is True:
                return
            key: object = event.id if event.id is not None else object()
            self._open_calls[key] = event
            if event.id is None:
                self._unnamed.setdefault(event.name, collections.deque()).append(key)
            return
        if event.id is not None:
            self._open_calls.pop(event.id, None)
            return
        waiting = self._unnamed.get(event.name)
        if waiting:
            self._open_calls.pop(waiting.popleft(), None)

    @property
    def pending_tools(self) -> tuple[ToolCallEvent, ...]:
        """Tool calls the stream announced but never answered: work still running on the server.

        When a stream closes with such a call (a long-running tool, e.g. the music-and-title
        stage of a generation), the result lands in the session's draft later;
        :func:`send_message` waits for it.
        """
        return tuple(self._open_calls.values())

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

    async def _run(self) -> AsyncGenerator[list[_Item], None]:
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
                async for batch in self._read(resp):
                    yield batch
            return
        except TransportError as exc:
            if isinstance(exc, (StreamTimeoutError, StreamDecodeError)) or _never_sent(exc):
                raise
            reason = describe_error(exc)
        except _DROPPED as exc:
            reason = describe_error(exc)
        log.warning("Chat stream dropped (%s); recovering by polling state, not re-sending", reason)
        yield [await self._recover(reason)]

    async def _read(self, resp: aiohttp.ClientResponse) -> AsyncGenerator[list[_Item], None]:
        config = self._session._transport.config
        decoder = SSEDecoder(
            max_line_bytes=config.sse_max_line_bytes,
            max_event_bytes=config.sse_max_event_bytes,
            emit_comments=True,
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
            batch: list[_Item] = list(decoder.feed(chunk))
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


def _never_sent(exc: TransportError) -> bool:
    return isinstance(exc.__cause__, aiohttp.ClientConnectorError)


@attrs.frozen
class ChatReply:
    """A whole answer: what the backend said, did, and left in the draft.

    ``changes`` lists what changed in the draft since before the message (readable lines), so a
    reply is never empty even when the backend said nothing (``silent``). ``recovered`` is true when
    the stream dropped and the result was read from state instead.

    :ivar text: the reply text, partial chunks merged; ``""`` when the backend said nothing.
    :ivar events: every event of the answer, in order (text and heartbeats included).
    :ivar draft: the draft after the message, read from the session state.
    :ivar before: the draft before the message, what ``changes`` compares against.
    :ivar changes: readable lines, e.g. ``"BGM volume 35% -> 50%"``.
    :ivar silent: True when the backend sent no text.
    :ivar recovered: True when the stream dropped and the draft was read by polling state.
    :ivar pending: tool calls still running on the server when ``send()`` returned: a second
        stage (music and title after the video) that did not reach the draft within the
        recovery polls. Empty normally; when not, read ``session.state()`` again later.
    """

    text: str
    events: tuple[ChatEvent, ...] = attrs.field(repr=False)
    draft: Draft
    before: Draft = attrs.field(repr=False)
    changes: tuple[str, ...] = ()
    silent: bool = False
    recovered: bool = False
    pending: tuple[ToolCallEvent, ...] = ()

    @property
    def errors(self) -> tuple[ErrorEvent, ...]:
        """Every ``ErrorEvent`` the backend sent during the answer; empty when all went well.

        An answer can carry errors and still have changed the draft, so check both ``errors``
        and ``changes`` rather than treating one error as a failed message.
        """
        return tuple(e for e in self.events if isinstance(e, ErrorEvent))

    @property
    def tool_calls(self) -> tuple[ToolCallEvent, ...]:
        """The editing tools the backend invoked, in order (e.g. to log what the agent did)."""
        return tuple(e for e in self.events if isinstance(e, ToolCallEvent))

    def __str__(self) -> str:
        return self.text or "\n".join(self.changes) or "(no reply and no change)"


async def send_message(
    session: Session, text: str, *, on_waiting: WaitingCallback | None = None
) -> ChatReply:
    """Send ``text``, wait for the whole answer, then read the draft it left.

    When the stream closes on a tool call it never answered (generation's second stage: music and
    title after the video), the draft is polled on the recovery schedule until that stage lands;
    if it does not, the reply lists the call in ``pending``. A silent answer (no text) whose draft
    looks unchanged is checked once more after ``settle_wait`` (3 s), since the server may still be
    saving the edit. ``send()`` calls on one session (by id, within one client) run one at a time,
    so each reply's ``changes`` describe its own edit.
    """
    async with session.client._chat_lock(session.id):
        return await _send(session, text, on_waiting)


async def _send(session: Session, text: str, on_waiting: WaitingCallback | None) -> ChatReply:
    stream = ChatStream(session, text, on_waiting=on_waiting, keep_events=True)
    async with stream:
        async for _ in stream:
            pass
    before = Draft.empty() if stream.draft_before is None else stream.draft_before
    after = stream.recovered_draft
    pending = () if stream.recovered else stream.pending_tools
    if after is None:
        after = (await session.state()).draft
        if pending:
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
    return ChatReply(
        text=stream.text,
        events=tuple(stream.events),
        draft=after,
        before=before,
        changes=tuple(before.diff(after)),
        silent=not stream.text,
        recovered=stream.recovered,
        pending=pending,
    )
