"""The tools ``nemovideo mcp`` serves, each a thin layer over the public SDK.

``Toolbox`` holds what outlives one call: the ``NemoClient``, the current session per connection
(``SessionMemory``), the questions the agent asked, and the chat messages in flight. Every tool
returns a ``CallToolResult`` it built itself: text for the model plus ``structured_content`` for
code, or ``is_error=True`` with advice (``_text.error_text``). Nothing else leaves a tool: an
unexpected exception becomes a short tool error naming its type, never a traceback, and every call
is bounded in time.

A chat message is sent once. The send runs as a task of its own, not of the request: when a client
gives up on a call (its timeout, a cancel) and calls ``chat`` again with the same message for the
same session, the second call waits for the first send's answer instead of sending it again.
"""

# no `from __future__ import annotations`: the MCP SDK reads the tools' annotations at runtime
import asyncio
import base64
import contextlib
import inspect
import json
import re
import time
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, Literal

import attrs
from mcp.server.mcpserver import Context, MCPServer
from mcp_types import CallToolResult, ContentBlock, ImageContent, TextContent, ToolAnnotations
from pydantic import Field

import nemovideo
from nemovideo import NemoClient, NemoError, Session
from nemovideo.mcp._memory import SessionMemory
from nemovideo.mcp._paths import PathGuard, PathRefused
from nemovideo.mcp._text import clean, error_text, registration_link, reply_text

__all__ = ["Bounds", "Toolbox", "build_server"]

AnyContext = Context[Any, Any]
REPEAT_WINDOW = 120.0
"""Seconds after an answer during which the same message to the same session is not sent again."""
_SENTENCE_END = re.compile(r"[.!?。！？]\s|\n")
_MAX_TEXT_NOTES = 40

SessionId = Annotated[
    str | None,
    Field(
        description="The session (project) to act on. Leave it out to use the current one: the "
        "last session this connection created or named."
    ),
]


@attrs.frozen
class Bounds:
    """The longest each kind of tool call may take, in seconds (``--timeout`` sets ``long``)."""

    quick: float = 60.0
    long: float = 900.0


class _NoSession(Exception):
    pass


class _Progress:
    """MCP progress notifications for one call: strictly increasing, at most one in flight per
    callback, sent before the result; a client that asked for none gets none (the SDK's no-op)."""

    def __init__(self, ctx: AnyContext) -> None:
        self._ctx = ctx
        self._value = 0.0
        self._tasks: set[asyncio.Task[None]] = set()
        self._texts = 0
        self._buffer = ""

    async def note(
        self, message: str, progress: float | None = None, total: float | None = None
    ) -> None:
        value = self._value + 1 if progress is None else float(progress)
        if value <= self._value:
            return
        self._value = value
        with contextlib.suppress(Exception):
            await self._ctx.report_progress(value, total, clean(message, 300))

    def soon(self, message: str, progress: float | None = None, total: float | None = None) -> None:
        """``note`` from a synchronous callback (upload bytes, render percent, streamed text)."""
        task = asyncio.get_running_loop().create_task(self.note(message, progress, total))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def text(self, piece: str) -> None:
        """The reply as it is written, a sentence per notification (the agent's current step)."""
        if self._buffer[-1:] in (".", "!", "?") and piece[:1] not in ("", " ", "\n"):
            piece = " " + piece  # two whole texts in a row: keep their sentences apart
        self._buffer += piece
        while (found := _SENTENCE_END.search(self._buffer)) is not None:
            sentence = self._buffer[: found.end()].strip()
            self._buffer = self._buffer[found.end() :]
            shown = nemovideo.translate_gui(sentence).text if sentence else ""
            if shown and self._texts < _MAX_TEXT_NOTES:
                self._texts += 1
                self.soon(shown[:200])

    async def waiting(self, elapsed: float) -> None:
        so_far = f"{elapsed:.0f} s" if elapsed < 90 else f"{elapsed / 60:.0f} min"
        await self.note(f"Still working... ({so_far} so far)")

    async def flush(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


@attrs.define
class _Sent:
    """One chat message in flight (or just answered) on one session."""

    key: str
    task: "asyncio.Task[nemovideo.ChatReply]"
    started: float = attrs.Factory(time.monotonic)
    finished: float | None = None


def _ok(text: str, data: dict[str, Any], *extra: ContentBlock) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=text), *extra], structured_content=data
    )


def _error(text: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)


def _connection(ctx: AnyContext) -> str | None:
    """The connection a call came on: the HTTP MCP session id, or None (stdio, where the process
    is the connection, and sessionless HTTP requests, which share one current session)."""
    with contextlib.suppress(Exception):
        headers = ctx.headers
        if headers is not None:
            return headers.get("mcp-session-id")
    return None


class Toolbox:
    """The state the tools share, and the tools themselves (``build_server`` registers them)."""

    def __init__(self, client: NemoClient, guard: PathGuard, bounds: Bounds = Bounds()) -> None:
        self.client = client
        self.guard = guard
        self.bounds = bounds
        self.memory = SessionMemory(client)
        self._questions: dict[str, nemovideo.QuestionEvent] = {}
        self._sent: dict[str, _Sent] = {}

    async def aclose(self) -> None:
        """Stop what is still running (sends whose callers left) before the client closes."""
        tasks = [sent.task for sent in self._sent.values() if not sent.task.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # -- plumbing ----------------------------------------------------------------------------

    def _session(self, ctx: AnyContext, session_id: str | None) -> Session:
        if session_id:
            return self.client.session(session_id)
        found = self.memory.current(_connection(ctx))
        if found is None:
            raise _NoSession
        return found

    async def _session_or_new(
        self, ctx: AnyContext, session_id: str | None
    ) -> tuple[Session, bool]:
        try:
            return self._session(ctx, session_id), False
        except _NoSession:
            session = await self.client.create_session()
            self.memory.remember(_connection(ctx), session)
            return session, True

    async def _run(
        self,
        name: str,
        bound: float,
        work: Callable[[], Awaitable[CallToolResult]],
        session: Callable[[], Session | None] = lambda: None,
        timed_out: Callable[[], str | None] = lambda: None,
    ) -> CallToolResult:
        """Run one tool's ``work`` within ``bound`` seconds; every failure becomes a tool error."""
        try:
            return await asyncio.wait_for(work(), bound)
        except NemoError as exc:
            return _error(error_text(exc, session(), self.client))
        except PathRefused as exc:
            return _error(f"PathRefused: {clean(exc)}")
        except _NoSession:
            return _error(
                "NoSession: there is no current session. Call new_session first (upload and chat "
                "start one by themselves), or pass session_id."
            )
        except asyncio.TimeoutError:
            advice = timed_out()
            if advice is None and name in ("chat", "answer"):
                advice = (
                    "The message was NOT sent again; call chat again with the same message to "
                    "keep waiting for its answer, or state to see the timeline."
                )
            advice = advice or "Call state to see where the project is before trying again."
            return _error(
                f"Timeout: {name} did not finish within {bound:g} s and was stopped. {advice}"
            )
        except Exception as exc:
            return _error(
                f"InternalError: {name} failed unexpectedly ({type(exc).__name__}). The server "
                "keeps running; try again, and report it if it persists."
            )

    async def _once(
        self,
        session: Session,
        key: str,
        send: Callable[[], Coroutine[Any, Any, nemovideo.ChatReply]],
    ) -> tuple[nemovideo.ChatReply, float | None]:
        """Send at most once: a call repeating the message in flight (or just answered) on the
        session waits for that send; returns the reply and, for a repeat, its age in seconds."""
        sent = self._sent.get(session.id)
        now = time.monotonic()
        repeat = (
            sent is not None
            and sent.key == key
            and not (sent.task.done() and (sent.task.cancelled() or sent.task.exception()))
            and (sent.finished is None or now - sent.finished < REPEAT_WINDOW)
        )
        if not repeat or sent is None:
            sent = _Sent(key, asyncio.get_running_loop().create_task(send()))
            self._sent[session.id] = sent

            def finished(task: asyncio.Task[nemovideo.ChatReply], sent: _Sent = sent) -> None:
                sent.finished = time.monotonic()
                if not task.cancelled():
                    task.exception()  # retrieved: its caller may have left (a timeout, a cancel)

            sent.task.add_done_callback(finished)
            return await asyncio.shield(sent.task), None
        return await asyncio.shield(sent.task), now - sent.started

    def _chat_result(
        self, session: Session, reply: nemovideo.ChatReply, new: bool, age: float | None
    ) -> CallToolResult:
        if reply.question is not None:
            self._questions[session.id] = reply.question
        else:
            self._questions.pop(session.id, None)
        text = reply_text(reply)
        if new:
            text = f"(Started a new session {session.id}.)\n" + text
        if age is not None:
            text += (
                f"\n(This exact message was already sent to this session {age:.0f} s ago: that "
                "answer is shown and the message was NOT sent twice. To repeat the edit on "
                "purpose, reword it.)"
            )
        question = reply.question
        return _ok(
            text,
            {
                "session_id": session.id,
                "new_session": new,
                "reply": clean(reply.text),
                "changes": [clean(c) for c in reply.changes],
                "summary": clean(reply.draft.summary()),
                "question": None
                if question is None
                else {
                    "title": clean(question.title),
                    "questions": [
                        {
                            "prompt": clean(q.prompt),
                            "options": [clean(o.label) for o in q.options],
                            "allow_multiple": q.allow_multiple,
                        }
                        for q in question.questions
                    ],
                },
                "pending": [call.name for call in reply.pending],
                "not_resent": age is not None,
            },
        )

    async def _chat_send(
        self,
        ctx: AnyContext,
        session: Session,
        key: str,
        send: Callable[[_Progress], Coroutine[Any, Any, nemovideo.ChatReply]],
        new: bool,
    ) -> CallToolResult:
        progress = _Progress(ctx)
        await progress.note("Sending the message (once; it is never re-sent)")
        try:
            reply, age = await self._once(session, key, lambda: send(progress))
        except nemovideo.AgentError as exc:
            if exc.reply is None:
                raise
            partial = reply_text(exc.reply)
            raise nemovideo.AgentError(
                f"{exc.message} What arrived before the failure: {partial}"
            ) from None
        finally:
            await progress.flush()
        self.memory.remember(_connection(ctx), session)
        return self._chat_result(session, reply, new, age)

    # -- the tools ---------------------------------------------------------------------------

    async def new_session(
        self,
        ctx: AnyContext,
        language: Annotated[
            str, Field(description="The language the editing agent answers in, e.g. 'en', 'zh'.")
        ] = "en",
    ) -> CallToolResult:
        """Start a fresh video project (a session) and make it the current one.

        Returns its session_id and a claim link that opens the project in the NemoVideo web app.
        Upload and chat start a session by themselves when there is none, so call this only to
        begin a new, separate video.
        """

        async def work() -> CallToolResult:
            session = await self.client.create_session(language=language)
            self.memory.remember(_connection(ctx), session)
            self._questions.pop(session.id, None)
            return _ok(
                f"New session {session.id} is now current.\nOpen it in the web app: "
                f"{session.claim_url}",
                {"session_id": session.id, "claim_url": session.claim_url},
            )

        return await self._run("new_session", self.bounds.quick, work)

    async def upload(
        self,
        ctx: AnyContext,
        paths: Annotated[
            list[str] | None,
            Field(
                description="Local files to upload (images, video clips or audio, 200 MB each), "
                "relative to the server's folder or absolute inside it."
            ),
        ] = None,
        urls: Annotated[
            list[str] | None,
            Field(description="http(s) links the service should fetch the media from."),
        ] = None,
        session_id: SessionId = None,
    ) -> CallToolResult:
        """Add media to the project: local files and/or links.

        Every file is checked first (it exists, its format is supported, it is at most 200 MB);
        nothing is sent when one fails. Upload before asking chat to make or change a video.
        """
        holder: list[Session] = []

        async def work() -> CallToolResult:
            if not paths and not urls:
                raise nemovideo.ValidationError("Give at least one file in paths or link in urls.")
            files = [self.guard.readable(p) for p in paths or ()]
            session, new = await self._session_or_new(ctx, session_id)
            holder.append(session)
            progress = _Progress(ctx)
            total_files = len(files)

            def sent(done: int, total: int) -> None:
                if total > 0:
                    progress.soon(f"Uploading {total_files} file(s)", done * 100 / total, 100)

            try:
                media = list(await session.upload(files, progress=sent)) if files else []
                if urls:
                    await progress.note(f"Fetching {len(urls)} link(s)")
                    media += await session.upload_urls(list(urls))
            finally:
                await progress.flush()
            self.memory.remember(_connection(ctx), session)
            lines = [f"Uploaded {len(media)} file(s) to session {session.id}:"]
            lines += [f"- {clean(m.name, 300)} ({clean(m.media_id or '?', 200)})" for m in media]
            if new:
                lines.insert(0, f"(Started a new session {session.id}.)")
            return _ok(
                "\n".join(lines),
                {
                    "session_id": session.id,
                    "new_session": new,
                    "media": [
                        {
                            "name": clean(m.name, 300),
                            "media_id": m.media_id,
                            "url": m.url,
                            "size": m.size,
                        }
                        for m in media
                    ],
                },
            )

        return await self._run("upload", self.bounds.long, work, lambda: next(iter(holder), None))

    async def chat(
        self,
        ctx: AnyContext,
        message: Annotated[
            str,
            Field(
                description="One instruction in plain words, e.g. 'turn these images into a "
                "15-second video with lo-fi music' or 'make the title bigger'.",
                min_length=1,
            ),
        ],
        session_id: SessionId = None,
    ) -> CallToolResult:
        """Ask the NemoVideo editing agent to make or change the video, in plain words.

        Returns its reply, what changed in the timeline, and, when the agent needs a decision,
        its question with numbered options (answer it with the answer tool). Can take minutes;
        progress notifications report that it is still working. The message is sent exactly
        once: calling again with the same message waits for the same answer.
        """
        holder: list[Session] = []

        async def work() -> CallToolResult:
            session, new = await self._session_or_new(ctx, session_id)
            holder.append(session)

            def send(progress: _Progress) -> Coroutine[Any, Any, nemovideo.ChatReply]:
                return session.send(
                    message,
                    on_waiting=progress.waiting,
                    on_text=progress.text,
                    timeout=self.bounds.long,
                )

            return await self._chat_send(ctx, session, "say\x00" + message, send, new)

        return await self._run("chat", self.bounds.long, work, lambda: next(iter(holder), None))

    async def answer(
        self,
        ctx: AnyContext,
        choices: Annotated[
            list[int | str | list[int | str]] | None,
            Field(
                description="One entry per question, in order: the option's number (from 1) "
                "or its label; a list of them where a question allows several. Leave it out "
                "(or empty) to skip the question."
            ),
        ] = None,
        session_id: SessionId = None,
    ) -> CallToolResult:
        """Answer the question the editing agent asked in its last chat reply.

        The agent then continues; the result reads like a chat reply.
        """
        holder: list[Session] = []

        async def work() -> CallToolResult:
            session = self._session(ctx, session_id)
            holder.append(session)
            question = self._questions.get(session.id)
            if question is None:
                raise nemovideo.ValidationError(
                    "No question is waiting for an answer in this session. Send what you want "
                    "with chat instead."
                )
            picks: object = None
            if choices:
                if len(question.questions) == 1:
                    picks = choices[0] if len(choices) == 1 else list(choices)
                elif len(choices) != len(question.questions):
                    raise nemovideo.ValidationError(
                        f"The agent asked {len(question.questions)} questions; give one choice "
                        f"per question ({len(choices)} given)."
                    )
                else:
                    picks = {n: pick for n, pick in enumerate(choices, 1)}

            def send(progress: _Progress) -> Coroutine[Any, Any, nemovideo.ChatReply]:
                return session.answer(
                    question,
                    picks,
                    on_waiting=progress.waiting,
                    on_text=progress.text,
                    timeout=self.bounds.long,
                )

            asked = f"{question.call_id}\x00{question}"  # a later question is another answer
            key = f"answer\x00{asked}\x00" + json.dumps(choices, sort_keys=True, default=str)
            return await self._chat_send(ctx, session, key, send, False)

        return await self._run("answer", self.bounds.long, work, lambda: next(iter(holder), None))

    async def state(
        self,
        ctx: AnyContext,
        session_id: SessionId = None,
        picture: Annotated[
            bool,
            Field(
                description="Also return the timeline as an SVG picture (for clients that "
                "show images)."
            ),
        ] = False,
    ) -> CallToolResult:
        """Show the project's timeline: its tracks, clips, music and titles, with their times.

        Use it to check what a chat did, or whether the video is ready to export.
        """
        holder: list[Session] = []

        async def work() -> CallToolResult:
            session = self._session(ctx, session_id)
            holder.append(session)
            state = await session.state()
            self.memory.remember(_connection(ctx), session)
            draft = state.draft
            summary = clean(draft.summary())
            ready = draft.ready_for_export
            text = f"Session {session.id}\n{summary}\n" + (
                "Ready to export." if ready else "Nothing to export yet: upload media and chat."
            )
            if self._questions.get(session.id) is not None:
                text += "\nA question from the agent is waiting for an answer (answer tool)."
            extra: list[ContentBlock] = []
            if picture:
                svg = draft.to_svg().encode()
                extra.append(
                    ImageContent(
                        type="image", data=base64.b64encode(svg).decode(), mime_type="image/svg+xml"
                    )
                )
            data = {
                "session_id": session.id,
                "summary": summary,
                "ready_for_export": ready,
                "duration_s": draft.duration,
                "media": len(state.video_infos),
            }
            return _ok(text, data, *extra)

        return await self._run("state", self.bounds.quick, work, lambda: next(iter(holder), None))

    async def export(
        self,
        ctx: AnyContext,
        out: Annotated[
            str,
            Field(
                description="Where to save the video: a file name ending in .mp4, or a folder "
                "(the server's file name is used). Relative to the server's folder."
            ),
        ],
        format: Annotated[Literal["mp4"], Field(description="The container.")] = "mp4",
        job_id: Annotated[
            str | None,
            Field(
                description="Resume this render job (after an export call was interrupted or "
                "timed out) instead of starting a new render."
            ),
        ] = None,
        overwrite: Annotated[bool, Field(description="Replace an existing file at out.")] = False,
        session_id: SessionId = None,
    ) -> CallToolResult:
        """Render the project to a video file and save it: returns the path, size and URL.

        Rendering takes a while; progress notifications report the percentage. If the call is
        interrupted, the render keeps running: call export again with the job_id it reported.
        """
        holder: list[Session] = []
        submitted: list[str] = []

        async def work() -> CallToolResult:
            target = self.guard.writable(out)
            if target.is_file() and not overwrite:
                raise PathRefused(
                    f"{out}: a file is already there. Choose another name, or pass overwrite=true."
                )
            progress = _Progress(ctx)
            session: Session | None = None
            try:
                if job_id:
                    job = await self.client.renderer.resume(job_id)
                else:
                    session = self._session(ctx, session_id)
                    holder.append(session)
                    job = await session.export(format=format)
                submitted.append(job.id)
                await progress.note(
                    f"Rendering job {job.id} (if interrupted, call export with job_id={job.id})"
                )

                def rendered(percent: int, total: int) -> None:
                    progress.soon(f"Rendering: {percent}%", min(percent, 99), 100)

                result = await job.wait(progress=rendered)
                await progress.flush()
                await progress.note("Downloading", 99.5, 100)
                saved = Path(await job.download(target))
                await progress.note("Saved", 100, 100)
            finally:
                await progress.flush()
            size = (await asyncio.to_thread(saved.stat)).st_size
            if session is not None:
                self.memory.remember(_connection(ctx), session)
            return _ok(
                f"Saved {saved} ({size / 1e6:.1f} MB). Render job {job.id}; "
                f"video URL: {clean(result.url or '(none)', 2000)}",
                {
                    "path": str(saved),
                    "size": size,
                    "url": result.url,
                    "job_id": job.id,
                    "session_id": job.session_id or (session.id if session else None),
                },
            )

        def resumable() -> str | None:
            if not submitted:
                return None
            return (
                f"The render (job {submitted[0]}) keeps running on the server: call export again "
                f'with job_id="{submitted[0]}" to wait for it and download it; do not start a '
                "new one."
            )

        return await self._run(
            "export", self.bounds.long, work, lambda: next(iter(holder), None), resumable
        )

    async def credits(self, ctx: AnyContext) -> CallToolResult:
        """Show the account's credit balance: available, frozen (held by running work), total.

        Making and rendering videos spends credits.
        """

        async def work() -> CallToolResult:
            bal = await self.client.credits()
            text = f"Credits: {bal.available} available, {bal.frozen} frozen, {bal.total} total."
            link = registration_link(self.client)
            if link and not bal.available:
                text += f" Register to get more: {link}"
            return _ok(text, {"available": bal.available, "frozen": bal.frozen, "total": bal.total})

        return await self._run("credits", self.bounds.quick, work)


_INSTRUCTIONS = (
    "NemoVideo turns images, clips and plain-language instructions into rendered MP4 videos. "
    "Typical flow: upload the user's media, chat one instruction ('turn these into a 15-second "
    "video'), answer the agent's question if it asks one, check state, then export to a file. "
    "Tools work on the current session unless given session_id; new_session starts another "
    "project. Errors say what to do next."
)


def build_server(toolbox: Toolbox) -> MCPServer:
    """An ``MCPServer`` exposing ``toolbox``'s tools under their names."""
    server: MCPServer = MCPServer(
        name="nemovideo",
        instructions=_INSTRUCTIONS,
        version=nemovideo.__version__,
        log_level="WARNING",
    )
    read_only = ToolAnnotations(read_only_hint=True, open_world_hint=True)
    spends = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=True)
    for tool, title, hints in (
        (toolbox.new_session, "Start a new video project", spends),
        (toolbox.upload, "Upload media", spends),
        (toolbox.chat, "Ask the editing agent", spends),
        (toolbox.answer, "Answer the agent's question", spends),
        (toolbox.state, "Show the timeline", read_only),
        (toolbox.export, "Render and save the video", spends),
        (toolbox.credits, "Show the credit balance", read_only),
    ):
        server.add_tool(
            tool,
            name=tool.__name__,
            title=title,
            annotations=hints,
            description=inspect.cleandoc(tool.__doc__ or ""),
        )
    return server
