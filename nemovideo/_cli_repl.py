"""``nemovideo chat``: the Assistant in a terminal.

Lines are sent to :class:`nemovideo.assistant.Assistant`; ``/upload PATH ...`` attaches files (with
an optional instruction after ``--``), ``/state``, ``/credits``, ``/help`` and ``/quit`` do what
they say. ``-m TEXT`` sends one message and exits, for scripts.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
from pathlib import Path

from ._cli_commands import Bar, get_session, make_client, remember_session
from .assistant import AssistantReply

HELP = """Type what you want, e.g. "turn these images into a 15-second video", "add lo-fi BGM",
"export 1080p mp4", "余额". Commands:
  /upload PATH [PATH ...] [-- instruction]   attach files (then optionally say what to make)
  /state  /credits  /help  /quit"""


def _print_reply(args: argparse.Namespace, reply: AssistantReply) -> None:
    from .cli import emit

    data = {
        "action": reply.action,
        "text": reply.text,
        "ok": reply.ok,
        "summary": reply.summary,
        "changes": list(reply.changes),
        "path": str(reply.path) if reply.path else None,
        "error": type(reply.error).__name__ if reply.error else None,
    }
    emit(args, reply.text, data)


def _parse_upload(line: str) -> tuple[list[Path], str]:
    words = shlex.split(line)[1:]
    if "--" in words:
        cut = words.index("--")
        return [Path(w) for w in words[:cut]], " ".join(words[cut + 1 :])
    return [Path(w) for w in words], ""


async def run_chat(args: argparse.Namespace) -> int:
    from .cli import EXIT_OK, exit_code_for

    async with make_client(args) as client:
        session = await get_session(client, args)
        bar = Bar(args, "progress")

        def notice(line: str) -> None:
            if not args.json:
                print(line, file=sys.stderr, flush=True)

        assistant = client.assistant(
            session=session, download_dir=args.out, on_notice=notice, on_progress=bar
        )
        if args.message is not None:
            reply = await assistant.handle(args.message)
            bar.close()
            if reply.error is not None and not args.json:
                print(f"error: {reply.text}", file=sys.stderr, flush=True)
                return exit_code_for(reply.error)
            _print_reply(args, reply)
            return exit_code_for(reply.error) if reply.error else EXIT_OK
        print(f"nemovideo chat - session {session.id}. /help for commands, /quit to leave.")
        while True:
            try:
                line = (await asyncio.to_thread(input, "> ")).strip()
            except EOFError:
                break
            if not line:
                continue
            if line in ("/quit", "/exit", "/q"):
                break
            if line == "/help":
                print(HELP)
                continue
            if line.startswith("/upload"):
                try:
                    files, text = _parse_upload(line)
                except ValueError as exc:
                    print(f"error: {exc}")
                    continue
                if not files:
                    print("usage: /upload PATH [PATH ...] [-- instruction]")
                    continue
                reply = await assistant.handle(text, files=files)
            elif line in ("/state", "/credits"):
                reply = await assistant.handle(line[1:])
            else:
                reply = await assistant.handle(line)
            bar.close()
            _print_reply(args, reply)
            if reply.new_session and assistant.session is not None:
                remember_session(client, assistant.session)
        return EXIT_OK
