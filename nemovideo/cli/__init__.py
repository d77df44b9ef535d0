"""The ``nemovideo`` command line (``pip install 'nemovideo[cli]'``; also ``python -m nemovideo``).

    nemovideo demo [--live]           # the main job: images + one sentence -> demo.mp4, offline
    nemovideo chat                    # talk to the assistant; /upload PATH attaches files
    nemovideo upload a.jpg b.mp4      # upload into the current session
    nemovideo export --out videos/    # render the current session and download the MP4
    nemovideo export --job ID         # pick up a render after Ctrl-C or a timeout
    nemovideo credits | state         # balance; the timeline summary
    nemovideo emulator --port 8765    # serve the offline emulator for your own app
    nemovideo mcp [--http]            # the SDK as MCP tools for AI assistants (extra [mcp])
    nemovideo batch jobs.jsonl        # many videos from a manifest, resumable (docs/batch.md)

Every command but ``demo`` and ``emulator`` talks to ``NEMO_API_URL`` (or ``--api-url``) and
remembers the session it used, so ``upload`` then ``chat`` then ``export`` work on one project
(a ``--session`` the server does not know exits 6 and is never remembered). ``export`` prints the
job id as soon as the render is submitted; ``--poll-interval`` caps the wait between polls;
``--out`` follows one rule for ``export`` and ``demo`` (see ``_cli_out``). ``--json`` prints one
JSON object for scripts; a closed pipe (``| head -1``) ends the command quietly. Exit codes tell failures apart: 0 ok, 1 other,
2 usage or bad input, 3 authentication, 4 credits or plan, 5 server or network, 6 session or job not
found, 130 interrupted. Expected errors print one line, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import difflib
import errno
import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

from nemovideo import __version__
from nemovideo.cli._exit import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, exit_code_for
from nemovideo.errors import NemoError, RenderTimeoutError
from nemovideo.render._formats import FORMATS, QUALITIES, RESOLUTIONS


class UsageError(Exception):
    """A command line argparse refused; ``main`` prints it (as JSON under ``--json``), exit 2."""

    def __init__(self, usage: str, message: str) -> None:
        super().__init__(message)
        self.usage, self.message = usage, message


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` that raises ``UsageError`` instead of printing and exiting.

    ``commands`` holds the top-level parser's command parsers, so a word no command takes is
    reported with that command's usage and the nearest option (``--otu``: did you mean --out?).
    """

    commands: Mapping[str, argparse.ArgumentParser]

    def error(self, message: str) -> NoReturn:
        raise UsageError(self.format_usage(), f"{self.prog}: error: {message}")

    def unrecognized(self, command: str | None, words: list[str]) -> NoReturn:
        """Refuse ``words`` with ``command``'s usage, naming the option each may have meant."""
        target: argparse.ArgumentParser = getattr(self, "commands", {}).get(command or "", self)
        known = re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", target.format_usage())
        said = []
        for word in words:
            near = difflib.get_close_matches(word.split("=", 1)[0], known, n=1, cutoff=0.6)
            said.append(f"{word} (did you mean {near[0]}?)" if word[:1] == "-" and near else word)
        target.error(f"unrecognized arguments: {' '.join(said)}")


def _common_options(*, top: bool) -> _Parser:
    """``--json``, ``--api-url``, ``--config-dir``: accepted before the command and after it.

    The copy after the command defaults to ``SUPPRESS`` so that leaving it out does not undo the
    value given before the command (``nemovideo --json credits``).
    """
    unset: Any = argparse.SUPPRESS
    common = _Parser(add_help=False)
    common.add_argument(
        "--json",
        action="store_true",
        default=False if top else unset,
        help="print one JSON object (for scripts)",
    )
    common.add_argument(
        "--api-url",
        default=None if top else unset,
        help="API base URL (default: NEMO_API_URL or the real API)",
    )
    common.add_argument(
        "--config-dir",
        type=Path,
        default=None if top else unset,
        help="where the client id and token live",
    )
    return common


def _seconds(text: str) -> float:
    """``--poll-interval``'s type: a positive, finite number of seconds."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < 86400:
        raise argparse.ArgumentTypeError(f"expected seconds between 0 and 86400, got {text!r}")
    return value


_POLL_HELP = (
    "seconds between render polls at most; polls start sooner and back off up to this "
    "(default: NEMO_POLL_INTERVAL, config.json, else 30)"
)
_COMMANDS = {
    "demo": (
        "the main job, offline by default",
        "Start the embedded emulator (no account, no network), upload the bundled sample images, "
        "ask for a 15-second video, print the timeline, render and save demo.mp4.",
    ),
    "chat": (
        "talk to the assistant",
        "Talk to the NemoVideo assistant: make and edit a video in plain words. /upload PATH "
        "attaches files, /status shows the timeline and running renders, /help lists the rest. "
        "Commands never reach the editing agent.",
    ),
    "upload": (
        "upload files",
        "Upload images, clips or audio (200 MB each) into the current session. Each file is "
        "checked before a byte is sent.",
    ),
    "export": (
        "render and download",
        "Render the current session and download the video. The job id is printed as soon as "
        "the job exists; an interrupted or timed-out render is picked up with --job.",
    ),
    "credits": ("show the credit balance", "Show the credit balance: available, frozen, total."),
    "state": ("show the session's timeline", "Show the current session's timeline summary."),
    "emulator": (
        "serve the NemoVideo emulator on loopback",
        "Serve the offline NemoVideo emulator (API and CDN) on 127.0.0.1 until Ctrl-C, for apps "
        "in other languages or curl. It has no real authentication.",
    ),
    "mcp": (
        "serve the SDK as MCP tools for AI assistants",
        "Serve new_session, upload, chat, answer, state, export and credits as Model Context "
        "Protocol tools, over stdio (what desktop assistants launch) or --http on 127.0.0.1. "
        "Needs the [mcp] extra (pip install -e '.[mcp]' in a clone).",
    ),
}


def _add(sub: Any, name: str, parents: list[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    short, description = _COMMANDS[name]
    parser: argparse.ArgumentParser = sub.add_parser(
        name, parents=parents, help=short, description=description
    )
    return parser


def _parser() -> _Parser:
    from nemovideo.cli._out import OUT_HELP

    common = _common_options(top=False)
    on_session = _Parser(add_help=False)
    on_session.add_argument(
        "--session", help="session id (default: the last one this command line used)"
    )
    on_session.add_argument("--new", action="store_true", help="start a new session")
    polling = _Parser(add_help=False)
    polling.add_argument("--poll-interval", type=_seconds, metavar="SECONDS", help=_POLL_HELP)
    output = _Parser(add_help=False)
    output.add_argument("--out", type=Path, default=Path("."), metavar="PATH", help=OUT_HELP)
    output.add_argument(
        "--force", action="store_true", help="replace an existing file at --out, whatever it is"
    )

    parser = _Parser(
        prog="nemovideo",
        description="NemoVideo: turn images, clips and one sentence into a rendered MP4.",
        epilog="Run 'nemovideo COMMAND --help' for a command's options.",
        parents=[_common_options(top=True)],
    )
    parser.add_argument("--version", action="version", version=f"nemovideo {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parser.commands = sub.choices

    demo = _add(sub, "demo", [common, polling, output])
    demo.add_argument(
        "--live", action="store_true", help="use the real API instead of the emulator"
    )
    demo.add_argument("--prompt", default=None, help="the sentence to send instead of the default")

    chat = _add(sub, "chat", [common, on_session, polling])
    chat.add_argument("-m", "--message", help="send one message and exit (no prompt)")
    chat.add_argument(
        "--out",
        type=Path,
        default=Path("."),
        metavar="DIR",
        help="the directory exports are downloaded into (default .)",
    )

    upload = _add(sub, "upload", [common, on_session])
    upload.add_argument("files", nargs="+", type=Path, help="images, clips or audio (200 MB each)")

    export = _add(sub, "export", [common, on_session, polling, output])
    for flag, default, choices, text in (
        ("--format", "mp4", FORMATS, "container (default mp4; docs/export.md has the table)"),
        ("--quality", "high", QUALITIES, "render quality (default high)"),
        ("--resolution", None, RESOLUTIONS, "short side of the frame (default: the draft's size)"),
    ):
        export.add_argument(flag, default=default, type=str.lower, choices=choices, help=text)
    export.add_argument(
        "--job",
        metavar="JOB_ID",
        help="resume this render job (after a timeout or Ctrl-C) instead of a new one",
    )

    from nemovideo.cli._batch import add_batch_parser

    add_batch_parser(sub, [common])
    _add(sub, "credits", [common])
    _add(sub, "state", [common, on_session])
    emulator = sub.add_parser("emulator", help=_COMMANDS["emulator"][0], add_help=False)
    emulator.set_defaults(emulator_words=True)
    mcp = sub.add_parser("mcp", help=_COMMANDS["mcp"][0], add_help=False)
    mcp.set_defaults(mcp_words=True)
    return parser


def _emulator_parser() -> argparse.ArgumentParser:
    """``nemovideo emulator``'s own options, built only when that command runs: importing the
    emulator (aiohttp.web, ffmpeg) is for serving it, never for ``credits`` or ``--help``."""
    from nemovideo.testing.__main__ import add_arguments

    parser = _Parser(prog="nemovideo emulator", description=_COMMANDS["emulator"][1])
    add_arguments(parser)
    return parser


def _serve_emulator(words: list[str]) -> int:
    from nemovideo.testing.__main__ import run as run_emulator

    parser = _emulator_parser()
    options = parser.parse_args(words)
    for flag, port in (("--port", options.port), ("--cdn-port", options.cdn_port)):
        if not 0 <= port <= 65535:
            print(
                f"error: {flag} {port}: a port is a number from 0 to 65535 (0: any free one)",
                file=sys.stderr,
                flush=True,
            )
            return EXIT_USAGE
    try:
        return run_emulator(options)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if exc.errno == errno.EADDRINUSE:
            reason = (
                "the port is already in use (choose another with --port, or 0 for any free one)"
            )
        print(
            f"error: cannot serve the emulator on {options.host}:{options.port}: {reason}",
            file=sys.stderr,
            flush=True,
        )
        return EXIT_USAGE


def _serve_mcp(args: argparse.Namespace, words: list[str]) -> int:
    """``nemovideo mcp``: its options are parsed here, and the extra is imported only now."""
    try:
        import mcp.server.mcpserver  # noqa: F401 (the extra [mcp])
    except ImportError:
        from nemovideo.mcp import EXTRA_HINT

        print(f"error: {EXTRA_HINT}", file=sys.stderr, flush=True)
        return EXIT_FAILURE
    from nemovideo.mcp import add_arguments, run

    parser = _Parser(
        prog="nemovideo mcp", description=_COMMANDS["mcp"][1], parents=[_common_options(top=False)]
    )
    add_arguments(parser)
    options = parser.parse_args(words)
    client: dict[str, Any] = {}
    for name, key in (("api_url", "base_url"), ("config_dir", "config_dir")):
        value = getattr(options, name, None) or getattr(args, name, None)
        if value:
            client[key] = value
    return run(options, client)


def _fail(args_json: bool, kind: str, message: str, code: int, **extra: Any) -> int:
    """Report a failure: one JSON object on stdout under ``--json``, else one line on stderr."""
    from nemovideo.cli._term import json_line, show

    if args_json:
        print(json_line({"error": kind, "message": message, **extra}), flush=True)
    else:
        show(f"error: {message}", sys.stderr)
    return code


def _quiet_stdout() -> None:
    """After a closed pipe (``nemovideo state | head -1``): point stdout at /dev/null so the
    interpreter's last flush cannot fail again."""
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def main(argv: Sequence[str] | None = None) -> int:
    from nemovideo.cli._term import setup_streams

    setup_streams()
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_OK


def _main(words: list[str]) -> int:
    wants_json = "--json" in words[: words.index("--")] if "--" in words else "--json" in words
    try:
        parser = _parser()
        args, extra = parser.parse_known_args(words)
        if getattr(args, "emulator_words", False):
            return _serve_emulator(extra)
        if getattr(args, "mcp_words", False):
            return _serve_mcp(args, extra)
        if extra:
            parser.unrecognized(getattr(args, "command", None), extra)
    except UsageError as exc:
        if wants_json:
            return _fail(True, "UsageError", exc.message, EXIT_USAGE)
        from nemovideo.cli._term import show

        show(exc.usage + exc.message, sys.stderr)
        return EXIT_USAGE
    from nemovideo.cli import (
        _commands as _cli_commands,  # the client, upload and render: not for --help or a usage error
    )
    from nemovideo.cli._session import os_message

    as_json = bool(getattr(args, "json", False))
    try:
        return asyncio.run(_cli_commands.run(args))
    except NemoError as exc:
        message, more = str(exc), {}
        if isinstance(exc, RenderTimeoutError) and exc.job_id:
            resume = _cli_commands.resume_command(args, exc.job_id)
            message = f"Render {exc.job_id} is still running. Resume it: {resume}"
            more["job_id"] = exc.job_id
        return _fail(as_json, type(exc).__name__, message, exit_code_for(exc), **more)
    except BrokenPipeError:
        raise
    except OSError as exc:
        return _fail(as_json, type(exc).__name__, os_message(exc), EXIT_FAILURE)
    except KeyboardInterrupt:
        return _interrupted(args, as_json)
    except Exception as exc:
        if not as_json:
            raise
        # --json promises one JSON object, even for a bug of the SDK's own: no traceback
        return _fail(True, "InternalError", f"{type(exc).__name__}: {exc}", EXIT_FAILURE)


def _interrupted(args: argparse.Namespace, as_json: bool) -> int:
    """Exit 130; after a render was submitted, say how to pick it up (it keeps running)."""
    job = getattr(args, "submitted_job", None)
    message = "interrupted"
    if getattr(args, "command", None) == "batch":
        message = "interrupted; every step so far is in the journal: run the same command to resume"
    if job:
        from nemovideo.cli._commands import resume_command

        message = (
            f"interrupted; render {job} keeps running on the server. "
            f"Resume it: {resume_command(args, job)}"
        )
    if as_json:
        data: dict[str, Any] = {"error": "Interrupted", "message": message}
        if job:
            data["job_id"] = job
        from nemovideo.cli._term import json_line

        print(json_line(data), flush=True)
    else:
        print(message, file=sys.stderr, flush=True)
    return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
