"""``nemovideo chat``: the Assistant in a terminal.

Lines are sent to :class:`nemovideo.assistant.Assistant`. Commands are never sent to the backend
agent (a message to it can cost credits): ``/upload PATH ...`` attaches files (an instruction may
follow ``--``; ``~`` and quoted paths with spaces work), ``/state`` (or ``/status``),
``/credits``, ``/export [options]``, ``/help`` and ``/quit``; ``help``, ``quit`` and ``exit``
alone work too, and an unknown ``/command`` is refused.

Ctrl-C cancels what is running and returns to the prompt (work already sent may still finish on
the server); at the prompt it leaves (exit 130), as Ctrl-D does (exit 0). Under ``--json`` each
line read gets one JSON object on stdout (JSON Lines) and there is no banner or prompt.
``-m TEXT`` sends one message and exits, for scripts.
"""

from __future__ import annotations

import argparse
import asyncio
import codecs
import contextlib
import os
import shlex
import signal
import sys
import threading
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, TypeVar

from ._cli_commands import (
    Bar,
    get_session,
    make_client,
    os_message,
    prepare_out_dir,
    remember_session,
)
from .assistant import Assistant, AssistantReply
from .client import NemoClient

T = TypeVar("T")

HELP = """Type what you want, e.g. "turn these images into a 15-second video", "add lo-fi BGM",
"export 1080p mp4", "余额". Commands:
  /upload PATH [PATH ...] [-- instruction]   attach files (then optionally say what to make)
  /state  /credits  /export [options]  /help  /quit
Ctrl-C stops what is running; at the prompt, Ctrl-C or Ctrl-D leaves."""

_QUIT = {"/quit", "/exit", "/q", "quit", "exit"}
_HELP = {"/help", "/?", "help", "?"}
_ASK = {"/state": "status", "/status": "status", "/credits": "credits"}
_CANCELLED = "Cancelled. Anything already sent to NemoVideo may still finish: ask for the status in a moment."


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
    }


def _parse_upload(line: str) -> tuple[list[Path], str]:
    words = shlex.split(line)[1:]
    instruction: list[str] = []
    if "--" in words:
        cut = words.index("--")
        words, instruction = words[:cut], words[cut + 1 :]
    return [Path(w).expanduser() for w in words], " ".join(instruction)


class _Lines:
    """Lines from stdin, read by a daemon thread so a pending read never blocks the exit.

    ``os.read`` on the descriptor holds no Python lock, so the thread can be abandoned at exit
    whatever stdin is (terminal, pipe or file); the terminal's own line editing still applies.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        threading.Thread(target=self._pump, name="nemovideo-chat-stdin", daemon=True).start()

    def _pump(self) -> None:
        decoder = codecs.getincrementaldecoder(sys.stdin.encoding or "utf-8")(errors="replace")
        pending = ""
        while True:
            try:
                chunk = os.read(0, 65536)
            except OSError:
                chunk = b""
            pending += decoder.decode(chunk, final=not chunk)
            *lines, pending = pending.split("\n")
            for line in lines:
                self._put(line)
            if not chunk:
                if pending:
                    self._put(pending)
                self._put(None)
                return

    def _put(self, line: str | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is listening
            self._loop.call_soon_threadsafe(self._queue.put_nowait, line)

    async def get(self) -> str | None:
        """The next line (without its newline), or None at the end of input."""
        return await self._queue.get()


class _Repl:
    def __init__(self, args: argparse.Namespace, client: NemoClient, assistant: Assistant,
                 bar: Bar) -> None:  # fmt: skip
        self.args, self.client, self.assistant, self.bar = args, client, assistant, bar
        self.interactive = sys.stdin.isatty() and not args.json
        self._task: asyncio.Future[Any] | None = None

    def say(self, text: str, data: dict[str, Any]) -> None:
        from .cli import emit

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

    async def run(self) -> int:
        from .cli import EXIT_INTERRUPTED, EXIT_OK

        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows: Ctrl-C exits
            loop.add_signal_handler(signal.SIGINT, self._interrupt)
        try:
            if not self.args.json:
                print(
                    f"nemovideo chat - session {self._sid()}. /help for commands, /quit to leave."
                )
            lines = _Lines(loop)
            while True:
                if self.interactive:
                    print("> ", end="", flush=True)
                done, line = await self._guarded(lines.get())
                if not done:
                    print(flush=True)
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
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signal.SIGINT)

    async def _one(self, line: str) -> None:
        done, reply = await self._guarded(self._answer(line))
        self.bar.close()
        if not done:
            if self.interactive:
                print(flush=True)  # past the terminal's "^C"
            self.say(_CANCELLED, record("cancelled", _CANCELLED, error="Cancelled",
                                        session_id=self._sid()))  # fmt: skip
            return
        assert reply is not None
        if isinstance(reply, AssistantReply):
            if reply.new_session and self.assistant.session is not None:
                remember_session(self.client, self.assistant.session)
            self.say(reply.text, record(reply.action, reply.text, reply=reply,
                                        session_id=self._sid()))  # fmt: skip
        else:
            self.say(reply["text"], reply)

    async def _answer(self, line: str) -> AssistantReply | dict[str, Any]:
        """The assistant's reply to ``line``, or a ``record`` for a line the REPL answers itself."""
        word, _, rest = line.partition(" ")
        command = word.lower()
        if line.lower() in _HELP:
            return record("help", HELP, session_id=self._sid())
        try:
            if command == "/upload":
                try:
                    files, text = _parse_upload(line)
                except ValueError as exc:
                    return self._usage(f"/upload: {exc}")
                if not files:
                    return self._usage("usage: /upload PATH [PATH ...] [-- instruction]")
                return await self.assistant.handle(text, files=files)
            if command in _ASK:
                return await self.assistant.handle(_ASK[command])
            if command == "/export":
                return await self.assistant.handle(f"export {rest}".strip())
            if command.startswith("/"):
                return self._usage(f"Unknown command {word}; /help lists the commands.")
            return await self.assistant.handle(line)
        except OSError as exc:
            text = f"error: {os_message(exc)}"
            return record("error", text, error=type(exc).__name__, session_id=self._sid())

    def _usage(self, text: str) -> dict[str, Any]:
        return record("usage", text, error="UsageError", session_id=self._sid())


async def run_chat(args: argparse.Namespace) -> int:
    from .cli import EXIT_OK, exit_code_for

    prepare_out_dir(args.out)
    async with make_client(args) as client:
        session = await get_session(client, args)
        bar = Bar(args, "upload")

        def notice(line: str) -> None:
            if not args.json:
                bar.close()
                print(line, file=sys.stderr, flush=True)

        assistant = client.assistant(session=session, download_dir=args.out, on_notice=notice,
                                     on_progress=bar, on_stage=bar.stage)  # fmt: skip
        if args.message is None:
            return await _Repl(args, client, assistant, bar).run()
        try:
            reply = await assistant.handle(args.message)
        finally:
            bar.close()
        if reply.new_session and assistant.session is not None:
            remember_session(client, assistant.session)
        sid = assistant.session.id if assistant.session else None
        if reply.error is not None and not args.json:
            print(f"error: {reply.text}", file=sys.stderr, flush=True)
        else:
            from .cli import emit

            emit(args, reply.text, record(reply.action, reply.text, reply=reply, session_id=sid))
        return exit_code_for(reply.error) if reply.error else EXIT_OK
