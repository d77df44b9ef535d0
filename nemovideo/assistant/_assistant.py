"""The Assistant and AssistantReply (the package docstring shows how to use them)."""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import attrs

from nemovideo.assistant._advice import advice_for, media_line
from nemovideo.assistant._intents import Intent, route, translate_gui
from nemovideo.errors import (
    AgentError,
    NemoError,
    SessionNotFoundError,
    StreamTimeoutError,
    ValidationError,
)
from nemovideo.render._formats import export_output

if TYPE_CHECKING:
    from nemovideo.chat import ChatReply
    from nemovideo.chat._question import QuestionEvent
    from nemovideo.client import NemoClient
    from nemovideo.render._formats import ExportFormat, ExportQuality, ExportResolution
    from nemovideo.render._renderer import RenderJob, RenderResult
    from nemovideo.session import Session
    from nemovideo.upload._uploader import FileInput, UploadedMedia

log = logging.getLogger("nemovideo.assistant")

Action = Literal["export", "credits", "state", "upload", "chat"]
Notice = Callable[[str], "Awaitable[None] | None"]
Progress = Callable[[int, int], None]
Stage = Callable[[str], None]


@attrs.frozen
class AssistantReply:
    """What happened, for a user (``text``) and for code (everything else).

    ``error`` is the typed error when the action failed; ``text`` then carries the advice (register,
    upgrade, supported formats, compress or trim) so an app can show it as is.

    :ivar text: what to show the user.
    :ivar action: what was done: ``"export"``, ``"credits"``, ``"state"``, ``"upload"``, ``"chat"``.
    :ivar summary: the timeline summary after the action, when it read the draft.
    :ivar changes: readable lines of what a chat message changed in the draft.
    :ivar media: the files an upload sent.
    :ivar render: the finished render, after an export.
    :ivar path: where the exported video was saved.
    :ivar credits: the balance (``Credits``), after a credits question.
    :ivar error: the typed error when the action failed; None on success (see ``ok``).
    :ivar new_session: True when the session had expired and a new one was opened.
    :ivar question: the question the backend's agent stopped to ask (``QuestionEvent``: its
        ``title`` and ``questions``, each with ``prompt``, numbered ``options`` and
        ``allow_multiple``); ``text`` already shows it with numbered options. Send the user's
        pick with ``await assistant.answer(choices)``. None when nothing was asked.
    """

    text: str
    action: Action
    summary: str | None = None
    changes: tuple[str, ...] = ()
    media: tuple[UploadedMedia, ...] = ()
    render: RenderResult | None = None
    path: Path | None = None
    credits: Any = None
    error: NemoError | None = attrs.field(default=None, eq=False)
    new_session: bool = False
    question: QuestionEvent | None = None

    @property
    def ok(self) -> bool:
        """True when the action succeeded (``error`` is None).

        On failure ``text`` already carries the advice, so an app can show it as is::

            reply = await assistant.handle("export")
            if not reply.ok:
                show(reply.text)
        """
        return self.error is None

    def __str__(self) -> str:
        return self.text


class Assistant:
    """One conversation on one session (created lazily; replaced on 1002, and the user is told).

    ``on_notice`` receives progress lines meant for the user ("Still working... 2 min"), at the
    ``heartbeat_notice_interval`` of the client's config; ``on_progress(done, total)`` gets upload
    bytes, render percent and download bytes, and ``on_stage(name)`` is called with ``"upload"``,
    ``"render"`` or ``"download"`` as each of those starts (so a display can start a fresh bar
    with the right unit); ``on_text(piece)`` receives the agent's reply text as it streams in;
    exports are downloaded into ``download_dir``.

    :ivar client: the client it acts through.
    :vartype client: NemoClient
    :ivar session: the current session; None until the first action needs one (unless given).
    :vartype session: Session | None
    :ivar download_dir: where exported videos are saved.
    :vartype download_dir: Path
    :ivar language: the language sessions are created in.
    :vartype language: str
    """

    def __init__(
        self,
        client: NemoClient,
        *,
        session: Session | None = None,
        download_dir: str | Path = ".",
        on_notice: Notice | None = None,
        on_progress: Progress | None = None,
        on_stage: Stage | None = None,
        on_text: Callable[[str], Any] | None = None,
        language: str = "en",
    ) -> None:
        self.client = client
        self.session = session
        self.download_dir = Path(download_dir)
        self.language = language
        self._on_notice = on_notice
        self._on_progress = on_progress
        self._on_stage = on_stage
        self._on_text = on_text
        self._question: QuestionEvent | None = None
        self._jobs: list[RenderJob] = []

    def __repr__(self) -> str:
        sid = self.session.id if self.session else None
        return f"<Assistant session={sid!r}>"

    @property
    def render_jobs(self) -> tuple[RenderJob, ...]:
        """Every render this conversation started, oldest first; one whose ``result`` is None
        may still be running (an interrupted wait leaves it on the server, resumable by id)."""
        return tuple(self._jobs)

    async def handle(self, text: str, files: Sequence[FileInput] = ()) -> AssistantReply:
        """Do what ``text`` asks (uploading ``files`` first) and say what happened.

        Expected failures come back as a reply with ``error`` set and advice in ``text``; only
        programming errors and cancellation propagate.
        """
        intent = route(text, attachments=files)
        try:
            return await self._dispatch(intent, text, files)
        except SessionNotFoundError:
            old = self.session.id if self.session else None
            self.session = None
            log.info("Session %s is gone; opening a new one", old)
            try:
                reply = await self._dispatch(intent, text, files)
            except NemoError as exc:
                return self._failed(intent.action, exc)
            note = "Your previous session was not found, so I started a new one."
            return attrs.evolve(reply, text=f"{note}\n{reply.text}", new_session=True)
        except NemoError as exc:
            return self._failed(intent.action, exc)

    async def _session(self) -> Session:
        if self.session is None:
            self.session = await self.client.create_session(language=self.language)
        return self.session

    async def _dispatch(
        self, intent: Intent, text: str, files: Sequence[FileInput]
    ) -> AssistantReply:
        """Run ``intent`` and every chained ``then`` ("upload, then make the video"), in order."""
        reply = await self._one(intent, text, files)
        step = intent.then
        while step is not None:
            nxt = await self._one(step, text, files)
            reply = attrs.evolve(
                nxt, text=f"{reply.text}\n{nxt.text}", media=reply.media + nxt.media
            )
            step = step.then
        return reply

    async def _one(self, intent: Intent, text: str, files: Sequence[FileInput]) -> AssistantReply:
        if intent.action == "credits":
            return await self._credits()
        if intent.action == "state":
            return await self._state()
        if intent.action == "export":
            return await self._export(intent)
        if intent.action == "upload":
            if files:
                return await self._upload(files)
            return AssistantReply(
                text="Attach the files to upload (images, videos or audio).", action="upload"
            )
        return await self._chat(text)

    async def _credits(self) -> AssistantReply:
        bal = await self.client.credits()
        return AssistantReply(
            text=f"You have {bal.available} credits available ({bal.frozen} reserved).",
            action="credits",
            credits=bal,
        )

    async def _state(self) -> AssistantReply:
        state = await (await self._session()).state()
        summary = state.draft.summary()
        text = "\n".join(filter(None, [summary, media_line(state)]))
        return AssistantReply(text=text, action="state", summary=summary)

    async def _upload(self, files: Sequence[FileInput]) -> AssistantReply:
        session = await self._session()
        self._stage("upload")
        media = tuple(await session.upload(files, progress=self._on_progress))
        names = ", ".join(m.name for m in media)
        return AssistantReply(
            text=f"Uploaded {len(media)} file{'s' if len(media) != 1 else ''}: {names}.",
            action="upload",
            media=media,
        )

    async def _export(self, intent: Intent) -> AssistantReply:
        asked = intent.params
        try:
            output = export_output(
                asked.get("format", "mp4"), asked.get("quality", "high"), asked.get("resolution")
            )
        except ValidationError as exc:
            return AssistantReply(
                text=f"{exc}. Nothing was rendered: ask again with one of those, for example "
                '"export 720p webm".',
                action="export",
                error=exc,
            )
        session = await self._session()
        draft = (await session.state()).draft
        if not draft.ready_for_export:
            return AssistantReply(
                text="There is nothing to export yet: upload media and tell me what video to make.",
                action="export",
                summary=draft.summary(),
            )
        job = await session.export(
            format=cast("ExportFormat", output["format"]),
            quality=cast("ExportQuality", output["quality"]),
            resolution=cast("ExportResolution | None", output.get("resolution")),
        )
        self._jobs.append(job)
        await self._notice(f"Rendering {draft.summary()} (job {job.id}) ...")
        self._stage("render")
        result = await job.wait(progress=self._render_progress)
        self._stage("download")
        path = await job.download(f"{self.download_dir}{os.sep}", progress=self._on_progress)
        return AssistantReply(
            text=f"Video ready! Saved to {path}",
            action="export",
            summary=draft.summary(),
            render=result,
            path=path,
        )

    def _stage(self, name: str) -> None:
        if self._on_stage is not None:
            self._on_stage(name)

    def _render_progress(self, percent: int, total: int = 100) -> None:
        if self._on_progress is not None:
            self._on_progress(percent, total)

    async def answer(self, choices: object = None) -> AssistantReply:
        """Answer the question the last reply asked (``reply.question``) with ``choices``.

        ``choices`` as for ``Session.answer``: option ids, labels or 1-based numbers (a list
        where several may be picked), keyed by question id or number when there are several
        questions; None skips. A bad pick comes back as a reply with ``error`` set (nothing
        was sent) and the question still open.
        """
        question = self._question
        if question is None or self.session is None:
            return AssistantReply(text="There is no open question to answer.", action="chat")
        from nemovideo.chat._question import answer_text

        try:
            message = answer_text(question, choices)
        except NemoError as exc:
            return AssistantReply(text=f"{exc}", action="chat", error=exc, question=question)
        try:
            return await self._chat(message)
        except NemoError as exc:
            return self._failed("chat", exc)

    async def _chat(self, text: str) -> AssistantReply:
        from nemovideo.chat import send_message

        session = await self._session()
        self._question = None
        try:
            reply = await send_message(
                session, text, on_waiting=self._waiting, on_text=self._on_text
            )
        except AgentError as exc:
            if exc.reply is None:
                raise
            return await self._chat_reply(
                exc.reply, f"The backend failed while answering: {exc}", exc
            )
        return await self._chat_reply(reply)

    async def _chat_reply(
        self, reply: ChatReply, failure: str | None = None, error: NemoError | None = None
    ) -> AssistantReply:
        shown = translate_gui(reply.text) if reply.text else None
        lines = [shown.text] if shown and shown.text else []
        changes = "".join(f"\n- {c}" for c in reply.changes)
        if reply.recovered:
            lines.append(
                "The connection dropped before the answer ended, so I read the result from the "
                "project (your message was not sent twice)."
            )
            if changes:
                lines.append(f"What changed:{changes}")
        elif (reply.silent or not lines) and failure is None and reply.question is None:
            lines.append(
                f"Done. What changed:{changes}"
                if changes
                else "The backend finished without a reply or a change to the timeline."
            )
        if shown is not None and shown.action in ("state", "credits"):
            extra = await (self._state() if shown.action == "state" else self._credits())
            lines.append(extra.text)
        elif shown is not None and shown.hint:
            lines.append(shown.hint)
        for err in reply.errors:
            if err is reply.refusal:
                lines.append(f"The request was refused: {err.message}")
            elif not err.fatal:
                lines.append(f"The backend reported a problem: {err.message}")
        if failure is not None:
            lines.append(failure + " (your message was not sent again)")
        if reply.question is not None:
            self._question = reply.question
            lines.append(str(reply.question))
            lines.append("Answer with the option numbers (or say skip).")
        if reply.pending:
            lines.append(
                "The backend is still finishing part of this (music and titles can take a few "
                "minutes). Ask for the status in a moment to see it in the timeline."
            )
        return AssistantReply(
            text="\n".join(lines),
            action="chat",
            summary=reply.draft.summary(),
            changes=reply.changes,
            error=error,
            question=reply.question,
        )

    async def _waiting(self, elapsed: float) -> None:
        so_far = f"{elapsed:.0f} s" if elapsed < 90 else f"{elapsed / 60:.0f} min"
        await self._notice(f"Still working... ({so_far} so far)")

    async def _notice(self, line: str) -> None:
        if self._on_notice is None:
            return
        result = self._on_notice(line)
        if result is not None:
            await result

    def _failed(self, action: Action, exc: NemoError) -> AssistantReply:
        if action == "chat" and isinstance(exc, StreamTimeoutError):
            advice = (
                "NemoVideo went quiet for too long, so I stopped waiting. Your message was not "
                "sent again; the change may still arrive: ask for the status in a moment."
            )
        else:
            advice = advice_for(
                exc,
                registration_url=self.client.api.registration_url(),
                web_url=self.client.config.web_url,
            )
        return AssistantReply(text=advice, action=action, error=exc)
