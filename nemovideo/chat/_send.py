"""``send_message``: drive a ``ChatStream`` to its end and read the draft it left (``ChatReply``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nemovideo.chat._events import TextEvent, ToolCallEvent
from nemovideo.chat._followup import wait_for_draft_change
from nemovideo.chat._reply import ChatReply
from nemovideo.draft._model import Draft
from nemovideo.errors import AgentError, NemoError, StreamTimeoutError

if TYPE_CHECKING:
    from nemovideo.session import Session

from nemovideo.chat._stream import BeforePost, ChatStream, KeepEvents, WaitingCallback, log_waiting

__all__ = ["send_message"]

log = logging.getLogger("nemovideo.chat")


async def send_message(
    session: Session,
    text: str,
    *,
    on_waiting: WaitingCallback | None = None,
    keep_events: KeepEvents | bool | None = "first",
    on_text: Callable[[str], Any] | None = None,
    timeout: float | None = None,
    before_post: BeforePost | None = None,
) -> ChatReply:
    """Send ``text``, wait for the whole answer, then read the draft it left.

    ``on_text(piece)`` receives the reply's text as it arrives (each streamed delta, or the whole
    text of a final event no delta preceded), for a display that shows the answer while it is
    written. ``timeout`` (seconds) bounds the whole call, recovery waits included: past it,
    ``StreamTimeoutError``; the message is never re-sent. ``before_post(draft)``, when given, is
    awaited with the draft read just before the POST (``reply.before``): a caller that must record
    the send durably first (the batch journal) does it there, without a state read of its own; if
    it raises, nothing is POSTed and the error propagates.

    When the stream closes on a tool call it never answered (generation's second stage: music and
    title after the video), the draft is polled on the recovery schedule until that stage lands;
    if it does not, the reply lists the call in ``pending``. A silent answer (no text) whose draft
    looks unchanged is checked once more after ``settle_wait`` (3 s), since the server may still be
    saving the edit. A turn that ends on a question (``reply.question``) changed nothing, so
    neither wait happens. ``send()`` calls on one session (by id, within one client) run one at
    a time, so each reply's ``changes`` describe its own edit.

    ``reply.events`` holds every event of a short answer (its first 1,000), then only what a
    reply needs (calls and errors without ``raw``, the question), so a 100,000-event answer
    costs a few MB, not hundreds (``keep_events="first"``); ``"all"`` keeps every event whole,
    ``"reply"`` only the calls, results, questions and errors (see ``ChatStream``).

    Raises [`AgentError`][nemovideo.errors.AgentError] when the invocation failed mid-stream
    (ADK's terminal ``{"error"}`` frame); its ``reply`` holds what arrived before the failure.
    """
    async with session.client.api.chat_lock(session.id):
        if timeout is None:
            return await _send(session, text, on_waiting, keep_events, on_text, None, before_post)
        opened: list[ChatStream] = []  # the stream, for its request id should time run out
        try:
            return await asyncio.wait_for(
                _send(session, text, on_waiting, keep_events, on_text, opened, before_post),
                timeout,
            )
        except asyncio.TimeoutError:
            late = StreamTimeoutError(
                f"send() did not finish within {timeout:g} s. The message was NOT re-sent; "
                "check the session's state (await session.state()) before sending it again."
            )
            late.request_id = opened[0].request_id if opened else None
            raise late from None


async def _send(
    session: Session,
    text: str,
    on_waiting: WaitingCallback | None,
    keep: KeepEvents | bool | None,
    on_text: Callable[[str], Any] | None,
    opened: list[ChatStream] | None = None,
    before_post: BeforePost | None = None,
) -> ChatReply:
    stream = ChatStream(
        session, text, on_waiting=on_waiting, keep_events=keep, before_post=before_post
    )
    if opened is not None:
        opened.append(stream)
    streamed = False  # a delta was shown since the last whole text
    try:
        async with stream:
            async for event in stream:
                if on_text is None or type(event) is not TextEvent:
                    continue
                if event.partial:
                    streamed = True
                    on_text(event.text)
                elif streamed:
                    streamed = False
                else:
                    on_text(event.text)
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
                session, after, why="Second stage", on_waiting=on_waiting or log_waiting
            )
            if later is None:
                log.warning("%s still running after the last state check; see reply.pending", names)
            else:
                after, pending = later, ()
        elif not stream.text and after.raw == before.raw:
            await asyncio.sleep(session.client.api.config.settle_wait)
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
