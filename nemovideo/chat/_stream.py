"""``ChatStream``: one message, POSTed once, and its answer as typed events (see ``nemovideo.chat``)."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Mapping,
    Sequence,
)
from typing import TYPE_CHECKING, Any

import aiohttp

from nemovideo._http import endpoints as api
from nemovideo._http.paths import describe_error
from nemovideo._util.closing import AsyncClosing
from nemovideo._util.deadline import Alarm
from nemovideo.chat._events import (
    ChatEvent,
    DraftUpdatedEvent,
    ErrorEvent,
    TextEvent,
    ToolCallEvent,
    screened,
)
from nemovideo.chat._followup import wait_for_draft_change
from nemovideo.chat._keep import WHOLE_EVENTS, KeepEvents, keep_mode, kept_of
from nemovideo.chat._question import QuestionEvent
from nemovideo.chat._shape import Item, Shaper
from nemovideo.chat._sse import ServerSentEvent, SSEComment, SSEDecoder, SSEStray
from nemovideo.chat._state import Clock
from nemovideo.draft._model import Draft
from nemovideo.errors import (
    AgentError,
    ChatRecoveryError,
    StreamDecodeError,
    StreamTimeoutError,
    TransportError,
    ValidationError,
)
from nemovideo.state import draft_of, task_id_of

if TYPE_CHECKING:
    from nemovideo.session import Session

__all__ = ["APP_NAME", "CHAT_PATH", "WHOLE_EVENTS", "ChatStream", "KeepEvents", "WaitingCallback"]

log = logging.getLogger("nemovideo.chat")

CHAT_PATH = api.CHAT.path
APP_NAME = "nemo_agent"
WaitingCallback = Callable[[float], "Awaitable[None] | None"]
"""``on_waiting(elapsed_seconds)``: called while the backend works silently; may be async."""
BeforePost = Callable[[Draft], "Awaitable[None]"]
"""``before_post(draft)``: awaited with the draft read just before the POST (``draft_before``),
for a caller that must record the send durably first; if it raises, nothing is POSTed."""

_DROPPED = (aiohttp.ClientError, ConnectionError)
_ACCEPT_EVENTS = {"Accept": "text/event-stream"}


def _is_content(item: Item) -> bool:
    """Anything but a keep-alive resets the idle clock."""
    if type(item) is bytes:
        if not item or item.isspace():
            return False
        return not (len(item) < 200 and item.find(b'"heartbeat"') >= 0)  # {"type": "heartbeat"}
    if isinstance(item, ServerSentEvent):
        if item.event == "heartbeat":
            return False
        data = item.data
        return bool(data) and not data.isspace() and not (len(data) < 200 and '"heartbeat"' in data)
    return not isinstance(item, (SSEComment, SSEStray))


def log_waiting(elapsed: float) -> None:
    log.info("Still working... (%.0f s)", elapsed)


class ChatStream(AsyncClosing):
    """One message and its streamed answer. Iterate it once; see the module docstring.

    Iteration yields every event, heartbeats included. Attributes after (or during) iteration:
    ``events`` (see below), ``text`` (the reply text), ``question`` (the question the turn ended
    on), ``draft_before`` (the draft read before sending), ``recovered`` and ``recovered_draft``
    (set when a dropped stream was completed by polling state). ``before_post`` (optional) is
    awaited with ``draft_before`` between that read and the POST (see ``BeforePost``).

    ``events`` keeps what a reply needs, so that memory does not grow with a long answer:

    - ``keep_events="reply"`` (the default): the tool calls, tool results, questions and errors
      of the stream's first ``WHOLE_EVENTS`` (1,000) events, as yielded; past those, only the
      calls and errors (without ``raw``) and the question. ``text``, ``pending_tools`` and
      ``question`` stay exact whatever the length.
    - ``keep_events="first"`` (what ``send()`` uses): the same, but the first 1,000 events are
      kept all, text and heartbeats included.
    - ``keep_events="all"``: every event, as yielded, however many (memory grows with the
      stream).

    ``False``, ``None`` and ``True``, the spellings before these names, still mean ``"reply"``,
    ``"first"`` and ``"all"``; any other value is a ``ValidationError``.

    Watching the agent work, event by event (``keep_events="all"`` keeps all of them)::

        >>> import asyncio
        >>> import nemovideo
        >>> from nemovideo.testing import offline_client, sample_images
        >>> async def main() -> None:
        ...     async with offline_client() as client:
        ...         session = await client.create_session()
        ...         await session.upload(sample_images())
        ...         async with session.chat("turn these images into a 4-second video",
        ...                                 keep_events="all") as stream:
        ...             async for event in stream:
        ...                 if isinstance(event, nemovideo.ToolCallEvent):
        ...                     print("tool:", event.name)
        ...                 elif isinstance(event, nemovideo.TextEvent) and not event.partial:
        ...                     print("said:", event.text.split(".")[0])
        ...         print(len(stream.events) > 5, stream.text.startswith("I'll turn"))
        >>> asyncio.run(main())
        said: I'll turn your 3 images into a 4-second video with smooth fade transitions
        tool: edit_multitrack
        said: Your 4-second video is ready in the timeline
        True True

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
        keep_events: KeepEvents | bool | None = "reply",
        before_post: BeforePost | None = None,
    ) -> None:
        if not isinstance(text, str) or not text.strip():
            raise ValidationError("A chat message must hold some text.")
        self._session = session
        self._keep_mode = keep_mode(keep_events)
        self.message = text
        self._on_waiting: WaitingCallback = on_waiting or log_waiting
        self.events: list[ChatEvent] = []
        self.draft_before: Draft | None = None
        self.recovered = False
        self.request_id: str | None = None
        self.recovered_draft: Draft | None = None
        self._shaper: Shaper | None = None  # made when the answer opens (see _shaped)
        self._gen: AsyncGenerator[ChatEvent, None] | None = None
        self._yielded = 0
        self._resp: aiohttp.ClientResponse | None = None
        self._closing = False
        self._stopped: asyncio.Event | None = None
        self._alarm: Alarm | None = None
        self._before_post: BeforePost = before_post or _send_anyway

    def __repr__(self) -> str:
        state = "new" if self._gen is None else f"{self._yielded} events read"
        return f"<ChatStream session={self._session.id!r} {state}>"

    @property
    def text(self) -> str:
        """The reply's text so far: partial chunks merged, a trailing "temporary issue" dropped."""
        return "" if self._shaper is None else self._shaper.transcript.text

    @property
    def question(self) -> QuestionEvent | None:
        """The question the agent stopped to ask (``ask_question``), or None."""
        return None if self._shaper is None else self._shaper.question

    @property
    def error(self) -> ErrorEvent | None:
        """The terminal error the invocation failed with, or None."""
        return None if self._shaper is None else self._shaper.fatal

    # -- iteration ----------------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[ChatEvent]:
        if self._gen is not None:
            raise RuntimeError(
                "A ChatStream can be iterated only once (its message was already sent); "
                "read stream.events, or send a new message."
            )
        self._gen = self._events()
        return self._gen

    async def __anext__(self) -> ChatEvent:
        if self._gen is None:
            self._gen = self._events()
        return await self._gen.__anext__()

    @property
    def pending_tools(self) -> tuple[ToolCallEvent, ...]:
        """Tool calls the stream announced but never answered: work still running on the server.

        When a stream closes with such a call (a long-running tool, e.g. the music-and-title
        stage of a generation), the result lands in the session's draft later;
        :func:`send_message` waits for it. An ``ask_question`` call is not among them.
        """
        return () if self._shaper is None else self._shaper.pending

    async def aclose(self) -> None:
        """Stop reading and release the connection (the server still finishes the edit).

        Safe from another task while a reader iterates (a "Stop" button, a watchdog): the
        connection is closed under the reader, whose ``async for`` then ends quietly, and this
        returns once the reader has let go (at once when it is not reading the stream yet).
        """
        if self._gen is None:
            self._gen = self._events()
        if not getattr(self._gen, "ag_running", False):
            await self._gen.aclose()
            return
        self._closing = True
        resp = self._resp
        if resp is not None:
            resp.close()
            stopped = self._stopped
            if stopped is None:  # made on demand: most streams are never closed from elsewhere
                self._stopped = stopped = asyncio.Event()
            await stopped.wait()

    # -- the work -----------------------------------------------------------------------------

    async def _events(self) -> AsyncGenerator[ChatEvent, None]:
        """The state read, the POST, the reads, the recovery: the stream's one event generator.

        ``async for`` over a stream resumes this frame directly, one step an event; each chunk's
        SSE items are shaped only as the reader gets to them, so a chunk's ~100 decoded frames
        are never all alive at once. The socket is read by :meth:`_batch` (one call a chunk,
        not an event: a coroutine, not a second generator, which would add its own frame, a
        weak reference in the loop's generator set and an ``aclosing`` for every open stream),
        its waits bounded by one :class:`Alarm` (a timer on the task, moved as content arrives)
        rather than an ``asyncio.wait_for`` task or a timer per wait: every object a stream
        holds is more for the garbage collector to walk when a thousand streams run at once.
        """
        session = self._session
        handle = session.client.api
        # Before the POST: a failure here means nothing was sent, so it is raised as it is and
        # never taken for a dropped stream (whose recovery would wait for an answer). The state
        # is read here, not through ``session.state()``: a thousand streams waiting for it hold
        # a frame fewer each, and only its draft is decoded.
        draft = _draft_read(session, await handle.send(api.STATE, segments={"sid": session.id}))
        await self._before_post(draft)
        self.draft_before = draft
        reason: str | None = None
        seen = 0
        try:
            async with handle.stream(api.CHAT, json_body=self._body(), headers=_ACCEPT_EVENTS) as r:
                self._resp = r
                self.request_id = handle.request_id()
                # made once the answer is open: while it is awaited they would be more to walk
                shaper, keep, mode = self._shaped(), self.events.append, self._keep_mode
                keep_all = mode == "all"
                text_until = WHOLE_EVENTS if mode == "first" else 0  # text and heartbeats kept
                content, (decoder, clock, self._alarm) = r.content, self._reading()
                while (batch := await self._batch(content, decoder, clock)) is not None:
                    runs = screened(batch)
                    batch = None  # not held while the next chunk is awaited
                    for event in shaper.shape(runs):
                        seen += 1
                        if keep_all:
                            keep(event)
                        elif type(event) is not TextEvent or seen <= text_until:
                            kept = kept_of(event, seen, mode)
                            if kept is not None:
                                keep(kept)
                        self._yielded += 1
                        yield event
                    runs = []
                    clock.check()
                    if clock.notice_due():  # a coroutine only when there is a notice to give
                        await self._notice(clock)
        except TransportError as exc:
            reason = self._dropped(exc)
        except _DROPPED as exc:
            reason = describe_error(exc)
        finally:
            self._let_go()
        if self._closing:  # closed by aclose() from another task: end quietly
            return
        for event in await self._ending(reason, seen):
            self._yielded += 1
            yield event
        fatal = self._shaped().fatal
        if fatal is not None:
            raise AgentError(fatal.message, code=_code(fatal.code), data=_data(fatal.raw))

    def _shaped(self) -> Shaper:
        """The stream's shaper, made on first use: not while the state read and the POST are
        awaited (a shaper, its transcript and their lists, for each of a thousand streams)."""
        shaper = self._shaper
        if shaper is None:
            shaper = self._shaper = Shaper()
        return shaper

    def _let_go(self) -> None:
        """The reader is done with the connection; an ``aclose()`` waiting for that returns."""
        self._resp = None
        if self._alarm is not None:
            self._alarm.close()
        if self._stopped is not None:
            self._stopped.set()

    def _dropped(self, exc: TransportError) -> str:
        """Why the stream dropped, to recover from; a timeout, a broken stream or a request that
        never left is raised instead (unless ``aclose()`` closed the connection on purpose)."""
        fatal = isinstance(exc, (StreamTimeoutError, StreamDecodeError)) or exc.never_sent
        if fatal and not self._closing:
            raise exc
        return describe_error(exc)

    def _body(self) -> dict[str, Any]:
        return {
            "app_name": APP_NAME,
            "user_id": "me",
            "session_id": self._session.id,
            "new_message": {"role": "user", "parts": [{"text": self.message}]},
        }

    def _reading(self) -> tuple[SSEDecoder, Clock, Alarm]:
        """What reading the answer needs: its SSE decoder, its clock (the idle and total limits,
        the "still working" notices) and the one alarm that bounds every wait on the socket."""
        config = self._session.client.api.config
        decoder = SSEDecoder(
            max_line_bytes=config.sse_max_line_bytes,
            max_event_bytes=config.sse_max_event_bytes,
            emit_comments=True,
            emit_stray=True,
            plain=True,
        )
        clock = Clock(
            config.stream_timeout, config.stream_idle_timeout, config.heartbeat_notice_interval
        )
        return decoder, clock, Alarm()

    async def _batch(
        self, content: aiohttp.StreamReader, decoder: SSEDecoder, clock: Clock
    ) -> Sequence[Item] | None:
        """The decoded SSE items of the next chunk the server sends; None once it closed the
        stream (or ``aclose()`` closed it). The idle and total limits and the "still working"
        notices run here, while waiting for a chunk (and in :meth:`_events`, between chunks)."""
        alarm = self._alarm
        assert alarm is not None
        while True:
            chunk = content.read_nowait()
            if not chunk:
                if content.at_eof():
                    break
                alarm.arm(clock.wait())
                try:
                    chunk = await content.readany()
                except asyncio.CancelledError:
                    if not alarm.expired():
                        raise
                    clock.check()
                    if clock.notice_due():
                        await self._notice(clock)
                    continue
                finally:
                    alarm.disarm()
                if not chunk or self._closing:
                    break
            batch = decoder.feed(chunk)
            for item in batch:  # a loop, not ``any()`` over a generator made for every chunk
                if _is_content(item):
                    clock.content()
                    break
            return batch
        decoder.close()
        return None

    async def _ending(self, dropped: str | None, seen: int) -> list[ChatEvent]:
        """What follows the last frame (kept in ``events`` as the ``seen`` before them were):
        the recovered change when the stream ``dropped`` (the message is never re-sent), then
        what the shaper still holds."""
        tail: list[ChatEvent] = []
        if dropped is not None:
            log.warning(
                "Chat stream dropped (%s); recovering by polling state, not re-sending", dropped
            )
            tail = self._shaped().feed(await self._recover(dropped))
        tail += self._shaped().finish()
        mode = self._keep_mode
        for event in tail:
            seen += 1
            kept = kept_of(event, seen, mode)
            if kept is not None:
                self.events.append(kept)
        return tail

    async def _notice(self, clock: Clock) -> None:
        """The "still working" notice that ``clock`` says is due (``on_waiting``, maybe async)."""
        result = self._on_waiting(clock.elapsed())
        if inspect.isawaitable(result):
            await result

    async def _recover(self, reason: str) -> DraftUpdatedEvent:
        config = self._session.client.api.config
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


async def _send_anyway(draft: Draft) -> None:
    """The ``before_post`` of a stream that was given none: nothing to record first."""


def _draft_read(session: Session, data: object) -> Draft:
    """The draft of the state answer ``data`` read before a message, the session learning its
    task id from it as ``session.state()`` does."""
    if session.task_id is None:
        session.task_id = task_id_of(data) or None
    return draft_of(data)


def _code(code: str | int | None) -> int | None:
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def _data(raw: Any) -> Mapping[str, Any] | None:
    return raw if isinstance(raw, Mapping) else None
