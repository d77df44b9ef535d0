"""``nemovideo chat``: the Assistant in a terminal.

Lines are sent to [`Assistant`][nemovideo.assistant.Assistant]. Commands are never sent to the
backend agent (a message to it can cost credits): ``/upload PATH ...`` attaches files (an
instruction may follow ``--``; ``~`` and quoted paths with spaces work), ``/state`` (or
``/status``: the timeline and any render still running), ``/credits``, ``/export [options]``
(``/export --job ID`` picks up a render), ``/help`` and ``/quit``; ``help``, ``quit`` and ``exit``
alone work too, ``/COMMAND --help`` explains one, and an unknown ``/command`` is refused.

At a terminal the prompt has line editing and history (readline, where the platform has it; kept
in ``chat-history`` in the config dir), a spinner turns while the agent works, and its reply is
printed as it streams in. When the agent asks a question, its options are numbered: type a
number to answer. Ctrl-C cancels what is running and returns to the prompt (work already sent may
still finish on the server); at the prompt it leaves (exit 130), as Ctrl-D does (exit 0). Under
``--json`` each line read gets one JSON object on stdout (JSON Lines) and there is no banner or
prompt. ``-m TEXT`` sends one message and exits, for scripts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shlex
import signal
import sys
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, TypeVar

import attrs

from nemovideo.assistant._assistant import Assistant, AssistantReply
from nemovideo.assistant._intents import route
from nemovideo.cli._ask import SKIP, ReplyPrinter, job_line, parse_answer, question_json, unfinished
from nemovideo.cli._exit import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, exit_code_for
from nemovideo.cli._input import History, Lines
from nemovideo.cli._out import check_target, prepare_dir
from nemovideo.cli._session import get_session, make_client, os_message, remember_session
from nemovideo.cli._term import Bar, Spinner, emit, safe, show
from nemovideo.client import NemoClient
from nemovideo.errors import ValidationError
from nemovideo.render._download import target_path, video_suffix

T = TypeVar("T")

HELP = """Type what you want, e.g. "turn these images into a 15-second video", "add lo-fi BGM",
"export 1080p mp4", "余额". Commands (never sent to the editing agent):
  /upload PATH [PATH ...] [-- instruction]   attach files (then optionally say what to make)
  /state, /status          the timeline, and renders still running
  /credits                 the balance
  /export [options]        render and download (e.g. /export 720p webm --out videos);
                           /export --job ID resumes
  /help  /quit
Ctrl-C stops what is running; at the prompt, Ctrl-C or Ctrl-D leaves."""

COMMAND_HELP = {
    "/upload": "/upload PATH [PATH ...] [-- instruction]: upload files into the session, then "
    "optionally send the instruction. Quote paths with spaces; ~ works.",
    "/state": "/state (or /status): show the timeline, and any render still running.",
    "/credits": "/credits: show the credit balance.",
    "/export": "/export [format] [quality] [resolution] [--out DIR]: render the session and "
    "download the video into DIR (default: chat's --out), e.g. /export 720p webm --out videos. "
    "Formats: mp4, webm, mov, gif; qualities: low, medium, high; resolutions: 480p, 720p, "
    "1080p, 1440p, 2160p (4k). /export --job ID picks up a render that was interrupted.",
    "/help": "/help: list the commands.",
    "/quit": "/quit (or /exit, Ctrl-D): leave.",
}
COMMAND_HELP["/status"] = COMMAND_HELP["/state"]
COMMAND_HELP["/exit"] = COMMAND_HELP["/quit"]

_QUIT = {"/quit", "/exit", "/q", "quit", "exit"}
_HELP = {"/help", "/?", "help", "?"}
_ASK = {"/state": "status", "/status": "status", "/credits": "credits"}
_CANCELLED = "Cancelled. Anything already sent to NemoVideo may still finish: ask for the status in a moment."
_HISTORY = "chat-history"


def record(
    action: str,
    text: str,
    *,
    error: str | None = None,
    reply: AssistantReply | None = None,
    session_id: str | None = None,
) -> dict[str, Any]:
    """One ``--json`` object; every answer of ``chat`` has these keys, replies and errors alike."""
    if reply is not None and reply.error is not None:
        error = type(reply.error).__name__
    return {
        "action": action,
        "text": text,
        "ok": error is None,
        "error": error,
        "message": text if error else None,
        "summary": reply.summary if reply else None,
        "changes": list(reply.changes) if reply else [],
        "path": str(reply.path) if reply and reply.path else None,
        "session_id": session_id,
        "new_session": bool(reply and reply.new_session),
        "question": question_json(getattr(reply, "question", None)),
    }


def _parse_upload(line: str) -> tuple[list[Path], str]:
    words = shlex.split(line)[1:]
    instruction: list[str] = []
    if "--" in words:
        cut = words.index("--")
        words, instruction = words[:cut], words[cut + 1 :]
    return [Path(w).expanduser() for w in words], " ".join(instruction)


def _parse_export(rest: str) -> tuple[list[str], Path | None]:
    """``/export``'s words, and its ``--out DIR`` (created now, so a bad one fails first)."""
    words = shlex.split(rest)
    if "--out" not in words:
        return words, None
    at = words.index("--out")
    if at + 1 >= len(words):
        raise ValueError("usage: /export [format] [quality] [resolution] --out DIR")
    out = Path(words[at + 1]).expanduser()
    try:
        prepare_dir(out)
    except ValidationError as exc:
        raise ValueError(str(exc)) from None
    return words[:at] + words[at + 2 :], out


@attrs.define
class _Slots:
    """What is on screen during one answer: the spinner, and the printer of streamed words."""

    spinner: Spinner | None = None
    printer: ReplyPrinter | None = None


class _Repl:
    def __init__(
        self,
        args: argparse.Namespace,
        client: NemoClient,
        assistant: Assistant,
        bar: Bar,
        slots: _Slots,
    ) -> None:
        self.args, self.client, self.assistant, self.bar = args, client, assistant, bar
        self.interactive = sys.stdin.isatty() and not args.json
        self._task: asyncio.Future[Any] | None = None
        self._slots = slots
        self._question: Any = None

    def say(self, text: str, data: dict[str, Any]) -> None:
        emit(self.args, text, data)

    def _sid(self) -> str | None:
        return self.assistant.session.id if self.assistant.session else None

    def _interrupt(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def _guarded(self, work: Awaitable[T]) -> tuple[bool, T | None]:
        """Run ``work`` so that Ctrl-C cancels it alone: ``(False, None)`` when it was."""
        task = asyncio.ensure_future(work)
        self._task = task
        try:
            await asyncio.wait({task})
        finally:
            self._task = None
            if not task.done():
                task.cancel()
        if task.cancelled():
            return False, None
        return True, task.result()

    def _prompt(self, loop: asyncio.AbstractEventLoop, text: str) -> str | None:
        """One line from the terminal with readline; Ctrl-C raises ``KeyboardInterrupt``.

        The event loop waits meanwhile (nothing runs at the prompt), and SIGINT gets Python's
        default handler back so that ``input()`` can be interrupted.
        """
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGINT)
        try:
            return input(text)
        except EOFError:
            return None
        finally:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signal.SIGINT, self._interrupt)

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows: Ctrl-C exits
            loop.add_signal_handler(signal.SIGINT, self._interrupt)
        history = History(self.client.config.config_dir / _HISTORY) if self.interactive else None
        try:
            if not self.args.json:
                show(f"nemovideo chat - session {self._sid()}. /help for commands, /quit to leave.")
            lines = None if self.interactive else Lines(loop)
            while True:
                if lines is None:
                    try:
                        line = self._prompt(loop, "? " if self._question else "> ")
                    except KeyboardInterrupt:
                        print(flush=True)
                        return EXIT_INTERRUPTED
                else:
                    done, line = await self._guarded(lines.get())
                    if not done:
                        return EXIT_INTERRUPTED
                if line is None:
                    if self.interactive:
                        print(flush=True)
                    return EXIT_OK
                line = line.strip()
                if line.lower() in _QUIT:
                    return EXIT_OK
                if line:
                    await self._one(line)
        finally:
            if history is not None:
                history.save()
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signal.SIGINT)

    async def _one(self, line: str) -> None:
        printer = ReplyPrinter(self._write, self._first_words)
        jobs_before = {job.id for job in unfinished(self.assistant)}
        spinner = Spinner(self.args, self.bar)
        self._slots.spinner, self._slots.printer = spinner, printer
        try:
            with spinner:
                done, reply = await self._guarded(self.answer(line))
        finally:
            self._slots.spinner = self._slots.printer = None
            self.bar.close()
        printer.finish()
        if not done:
            if self.interactive:
                print(flush=True)  # past the terminal's "^C"
            text = _CANCELLED + "".join(
                f"\nRender {job.id} keeps running on the server: /export --job {job.id} "
                "picks it up."
                for job in unfinished(self.assistant)
                if job.id not in jobs_before
            )
            self.say(text, record("cancelled", text, error="Cancelled", session_id=self._sid()))
            return
        assert reply is not None
        if not isinstance(reply, AssistantReply):
            self.say(reply["text"], reply)
            return
        if reply.new_session and self.assistant.session is not None:
            remember_session(self.client, self.assistant.session)
        if reply.action == "chat":  # a chat turn either asks (again) or settles the question
            self._question = getattr(reply, "question", None)
        text = printer.rest_of(reply.text) if not self.args.json else reply.text
        if reply.action == "chat" and len(getattr(self._question, "questions", ()) or ()) > 1:
            text += '\nAnswer each question in turn, separated by ";" (for example: 1,2; 3).'
        data = record(reply.action, reply.text, reply=reply, session_id=self._sid())
        if text or self.args.json:
            self.say(text, data)

    def _write(self, text: str) -> None:
        if not self.args.json:
            sys.stdout.write(safe(text))
            sys.stdout.flush()

    def _first_words(self) -> None:
        if self._slots.spinner is not None:
            self._slots.spinner.pause()

    async def answer(self, line: str) -> AssistantReply | dict[str, Any]:
        """The assistant's reply to ``line``, or a ``record`` for a line the REPL answers itself
        (help, usage errors): ``/commands`` never reach the agent, from the prompt or ``-m``."""
        word, _, rest = line.partition(" ")
        command = word.lower()
        if line.lower() in _HELP:
            return record("help", HELP, session_id=self._sid())
        if command.startswith("/") and {"--help", "-h"} & set(rest.split()):
            text = COMMAND_HELP.get(command, f"Unknown command {word}; /help lists the commands.")
            return record("help", text, session_id=self._sid())
        try:
            if self._question is not None and not command.startswith("/"):
                question, self._question = self._question, None
                answered = await self._answer_question(question, line)
                if answered is not None:
                    return answered
            if command == "/upload":
                try:
                    files, text = _parse_upload(line)
                except ValueError as exc:
                    return self._usage(f"/upload: {exc}")
                if not files:
                    return self._usage("usage: /upload PATH [PATH ...] [-- instruction]")
                return await self.assistant.handle(text, files=files)
            if command in _ASK:
                return await self._status(_ASK[command])
            if command == "/export":
                return await self._export(rest)
            if command.startswith("/"):
                return self._usage(f"Unknown command {word}; /help lists the commands.")
            if route(line).action == "state":
                return await self._status(line)
            return await self.assistant.handle(line)
        except OSError as exc:
            text = f"error: {os_message(exc)}"
            return record("error", text, error=type(exc).__name__, session_id=self._sid())

    async def _answer_question(self, question: Any, line: str) -> AssistantReply | None:
        """Send the user's pick for the pending question; None when ``line`` picked nothing
        (it then goes to the agent as an ordinary message)."""
        choices = parse_answer(question, line)
        answer = getattr(self.assistant, "answer", None)
        if choices is None or not callable(answer):
            return None
        reply: AssistantReply = await answer(None if choices is SKIP else choices)
        return reply

    async def _status(self, text: str) -> AssistantReply | dict[str, Any]:
        """The timeline, then every render this chat started that has not finished."""
        reply = await self.assistant.handle(text)
        lines = [line for job in unfinished(self.assistant) if (line := await job_line(job))]
        if not lines:
            return reply
        return attrs.evolve(reply, text="\n".join([reply.text, "Renders running:", *lines]))

    async def _export(self, rest: str) -> AssistantReply | dict[str, Any]:
        try:
            words, out = _parse_export(rest)
        except ValueError as exc:
            return self._usage(f"/export: {exc}")
        if words[:1] == ["--job"]:
            if len(words) != 2:
                return self._usage("usage: /export --job JOB_ID [--out DIR]")
            return await self._into(out, self._resume(words[1]))
        text = " ".join(["export", *words])
        if route(text).action != "export":
            return self._usage(f"/export does not take {rest!r}; /export --help shows how.")
        return await self._into(out, self.assistant.handle(text))

    async def _into(self, out: Path | None, work: Awaitable[T]) -> T:
        """Run ``work`` with exports saved into ``out`` (when given), then back to chat's --out."""
        if out is None:
            return await work
        saved, self.assistant.download_dir = self.assistant.download_dir, out
        try:
            return await work
        finally:
            self.assistant.download_dir = saved

    async def _resume(self, job_id: str) -> dict[str, Any]:
        job = await self.client.renderer.resume(job_id)
        self.bar.stage("render")
        result = await job.wait(progress=self.bar)
        final = target_path(
            self.assistant.download_dir, result.url, f"{job.id}{video_suffix(result.url)}"
        )
        check_target(final, force=False)
        self.bar.stage("download")
        path = await job.download(final, progress=self.bar)
        data = record("export", f"Video ready! Saved to {path}", session_id=self._sid())
        data["path"] = str(path)
        return data

    def _usage(self, text: str) -> dict[str, Any]:
        return record("usage", text, error="UsageError", session_id=self._sid())


async def run_chat(args: argparse.Namespace) -> int:
    prepare_dir(args.out)
    async with make_client(args) as client:
        session = await get_session(client, args, check=True)
        bar = Bar(args, "upload")
        slots = _Slots()

        def notice(line: str) -> None:
            if not args.json:
                bar.close()
                if slots.spinner is not None:
                    slots.spinner.clear()
                show(line, sys.stderr)

        def on_text(chunk: str) -> None:
            if slots.printer is not None:
                slots.printer.feed(chunk)

        options: dict[str, Any] = {
            "session": session,
            "download_dir": args.out,
            "on_notice": notice,
            "on_progress": bar,
            "on_stage": bar.stage,
        }
        try:
            assistant = client.assistant(**options, on_text=on_text)
        except TypeError:  # an Assistant that does not stream text
            assistant = client.assistant(**options)
        if args.message is None:
            return await _Repl(args, client, assistant, bar, slots).run()
        spinner = Spinner(args, bar)
        slots.spinner = spinner
        repl = _Repl(args, client, assistant, bar, slots)
        try:
            with spinner:
                reply = await repl.answer(args.message.strip())
        finally:
            bar.close()
        if not isinstance(reply, AssistantReply):
            failed = reply["error"] is not None
            if failed and not args.json:
                text = str(reply["text"])
                show(text if text.startswith("error: ") else f"error: {text}", sys.stderr)
            else:
                emit(args, reply["text"], reply)
            return EXIT_USAGE if failed else EXIT_OK
        if reply.new_session and assistant.session is not None:
            remember_session(client, assistant.session)
        sid = assistant.session.id if assistant.session else None
        if reply.error is not None and not args.json:
            show(f"error: {reply.text}", sys.stderr)
        else:
            emit(args, reply.text, record(reply.action, reply.text, reply=reply, session_id=sid))
        return exit_code_for(reply.error) if reply.error else EXIT_OK
