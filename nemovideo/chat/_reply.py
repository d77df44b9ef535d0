"""``ChatReply``: one whole answer, as ``session.send()`` returns it (and ``AgentError.reply``)."""

from __future__ import annotations

import attrs

from nemovideo._util.plain import Plain
from nemovideo.chat._events import ChatEvent, ErrorEvent, ToolCallEvent
from nemovideo.chat._question import QuestionEvent
from nemovideo.draft._model import Draft

__all__ = ["ChatReply"]


@attrs.frozen
class ChatReply(Plain):
    """A whole answer: what the backend said, did, and left in the draft.

    ``changes`` lists what changed in the draft since before the message (readable lines), so a
    reply is never empty even when the backend said nothing (``silent``). ``recovered`` is true when
    the stream dropped and the result was read from state instead.

    What ``session.send()`` returns; a question the agent asks is answered by number, id or
    label::

        >>> import asyncio, tempfile
        >>> from nemovideo.testing import Emulator, fast_client, sample_images
        >>> async def main() -> None:
        ...     with tempfile.TemporaryDirectory() as tmp:
        ...         async with Emulator() as emu, fast_client(emu, tmp) as client:
        ...             session = await client.create_session()
        ...             await session.upload(sample_images())
        ...             await session.send("turn these images into a 4-second video")
        ...             reply = await session.send("add lo-fi BGM at 35%")
        ...             print(reply.changes)
        ...             print(reply.draft.summary())
        ...             emu.chat.question = {"title": "Which look?", "questions": [
        ...                 {"id": "ratio", "prompt": "Aspect ratio?", "options": [
        ...                     {"id": "wide", "label": "16:9"}, {"id": "tall", "label": "9:16"}]}]}
        ...             asked = await session.send("make it look nice")
        ...             print(asked.question)
        ...             emu.chat.question = None
        ...             answered = await session.answer(asked.question, "9:16")  # or 2, "tall"
        ...             print(answered.question is None)
        >>> asyncio.run(main())
        ('Added BGM track Lo-fi (0-4s, 35%)',)
        Timeline (2 tracks): 1. Video: 3 clips (0-4s) 2. BGM: Lo-fi (0-4s, 35%)
        Which look?
        1. Aspect ratio?
           1) 16:9
           2) 9:16
        True

    :ivar text: the reply text, partial chunks merged; ``""`` when the backend said nothing.
    :ivar events: the answer's events, in order: all of them (text and heartbeats included)
        for its first 1,000; past those only the tool calls and errors (without ``raw``) and
        the question, so a long answer's memory stays flat (``text``, ``pending`` and
        ``tool_calls`` stay exact). ``send_message(..., keep_events="all")`` keeps every event.
    :ivar draft: the draft after the message, read from the session state.
    :ivar before: the draft before the message, what ``changes`` compares against.
    :ivar changes: readable lines, e.g. ``"BGM volume 35% -> 50%"``.
    :ivar silent: True when the backend sent no text.
    :ivar recovered: True when the stream dropped and the draft was read by polling state.
    :ivar pending: tool calls still running on the server when ``send()`` returned: a second
        stage (music and title after the video) that did not reach the draft within the
        recovery polls. Empty normally; when not, read ``session.state()`` again later.
    :ivar request_id: the chat request's id (the server's ``X-Request-Id`` when it sent one);
        quote it when reporting a problem.
    :ivar question: the question the agent stopped to ask (the turn ended on ``ask_question``);
        answer it with ``session.answer(reply.question, choices)``. None when it asked nothing.
    """

    text: str
    events: tuple[ChatEvent, ...] = attrs.field(repr=False)
    draft: Draft
    before: Draft = attrs.field(repr=False)
    changes: tuple[str, ...] = ()
    silent: bool = False
    recovered: bool = False
    pending: tuple[ToolCallEvent, ...] = ()
    question: QuestionEvent | None = None
    request_id: str | None = attrs.field(default=None, repr=False)

    @property
    def errors(self) -> tuple[ErrorEvent, ...]:
        """Every ``ErrorEvent`` the backend sent during the answer; empty when all went well.

        An answer can carry errors and still have changed the draft, so check both ``errors``
        and ``changes`` rather than treating one error as a failed message. (A fatal one, ADK's
        terminal ``{"error"}`` frame, makes ``send()`` raise ``AgentError`` with this reply.)
        """
        return tuple(e for e in self.events if isinstance(e, ErrorEvent))

    @property
    def refusal(self) -> ErrorEvent | None:
        """The model's refusal (an ``errorCode``/``errorMessage`` event), or None.

        None too when the invocation failed (a fatal error): that is ``AgentError``'s story.
        """
        errors = self.errors
        if any(e.fatal for e in errors):
            return None
        return next(iter(errors), None)

    @property
    def tool_calls(self) -> tuple[ToolCallEvent, ...]:
        """The tools the backend invoked, in order, each call once (e.g. to log what it did)."""
        return tuple(e for e in self.events if isinstance(e, ToolCallEvent))

    def __str__(self) -> str:
        refusal = self.refusal
        if refusal is not None:
            said = f"\n{self.text}" if self.text else ""
            return f"The request was refused: {refusal.message}{said}"
        if self.question is not None:
            return "\n".join(p for p in (self.text, str(self.question)) if p)
        return self.text or "\n".join(self.changes) or "(no reply and no change)"
