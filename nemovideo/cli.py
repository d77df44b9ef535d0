"""The ``nemovideo`` command line (``pip install 'nemovideo[cli]'``; also ``python -m nemovideo``).

    nemovideo demo [--live]           # the main job: images + one sentence -> demo.mp4, offline
    nemovideo chat                    # talk to the assistant; /upload PATH attaches files
    nemovideo upload a.jpg b.mp4      # upload into the current session
    nemovideo export --out videos/    # render the current session and download the MP4
    nemovideo credits | state         # balance; the timeline summary
    nemovideo emulator --port 8765    # serve the offline emulator for your own app

Every command but ``demo`` and ``emulator`` talks to ``NEMO_API_URL`` (or ``--api-url``) and
remembers the session it used, so ``upload`` then ``chat`` then ``export`` work on one project.
``--json`` prints one JSON object for scripts. Exit codes tell failures apart: 0 ok, 1 other,
2 usage or bad input, 3 authentication, 4 credits or plan, 5 server or network, 6 session not
found, 130 interrupted. Expected errors print one line, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from . import __version__
from .errors import (
    AuthenticationError,
    ChatRecoveryError,
    ExportBlockedError,
    InsufficientCreditsError,
    MissingClientIdError,
    NemoError,
    RenderFailedError,
    RenderTimeoutError,
    ServerError,
    SessionNotFoundError,
    TransportError,
    ValidationError,
)

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
EXIT_AUTH, EXIT_CREDITS, EXIT_SERVER, EXIT_NOT_FOUND = 3, 4, 5, 6
EXIT_INTERRUPTED = 130

_EXIT_CODES: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], int], ...] = (
    (ValidationError, EXIT_USAGE),
    ((AuthenticationError, MissingClientIdError), EXIT_AUTH),
    ((InsufficientCreditsError, ExportBlockedError), EXIT_CREDITS),
    (SessionNotFoundError, EXIT_NOT_FOUND),
    (
        (ServerError, TransportError, ChatRecoveryError, RenderFailedError, RenderTimeoutError),
        EXIT_SERVER,
    ),
)


def exit_code_for(exc: NemoError) -> int:
    """The process exit code for an SDK error (see the module docstring)."""
    for types, code in _EXIT_CODES:
        if isinstance(exc, types):
            return code
    if getattr(exc, "http_status", None) and exc.http_status >= 500:  # type: ignore[attr-defined]
        return EXIT_SERVER
    return EXIT_FAILURE


class UsageError(Exception):
    """A command line argparse refused; ``main`` prints it (as JSON under ``--json``), exit 2."""

    def __init__(self, usage: str, message: str) -> None:
        super().__init__(message)
        self.usage, self.message = usage, message


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` that raises ``UsageError`` instead of printing and exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(self.format_usage(), f"{self.prog}: error: {message}")


def _common_options(*, top: bool) -> _Parser:
    """``--json``, ``--api-url``, ``--config-dir``: accepted before the command and after it.

    The copy after the command defaults to ``SUPPRESS`` so that leaving it out does not undo the
    value given before the command (``nemovideo --json credits``).
    """
    unset: Any = argparse.SUPPRESS
    common = _Parser(add_help=False)
    common.add_argument("--json", action="store_true", default=False if top else unset,
                        help="print one JSON object (for scripts)")  # fmt: skip
    common.add_argument("--api-url", default=None if top else unset,
                        help="API base URL (default: NEMO_API_URL or the real API)")  # fmt: skip
    common.add_argument("--config-dir", type=Path, default=None if top else unset,
                        help="where the client id and token live")  # fmt: skip
    return common


def _parser() -> argparse.ArgumentParser:
    common = _common_options(top=False)
    on_session = _Parser(add_help=False)
    on_session.add_argument(
        "--session", help="session id (default: the last one this command line used)"
    )
    on_session.add_argument("--new", action="store_true", help="start a new session")

    parser = _Parser(
        prog="nemovideo",
        description="NemoVideo: turn images, clips and one sentence into a rendered MP4.",
        parents=[_common_options(top=True)],
    )
    parser.add_argument("--version", action="version", version=f"nemovideo {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", parents=[common], help="the main job, offline by default")
    demo.add_argument(
        "--live", action="store_true", help="use the real API instead of the emulator"
    )
    demo.add_argument("--out", type=Path, default=Path("."), help="where demo.mp4 goes (default .)")
    demo.add_argument("--prompt", default=None, help="the sentence to send instead of the default")

    chat = sub.add_parser("chat", parents=[common, on_session], help="talk to the assistant")
    chat.add_argument("-m", "--message", help="send one message and exit (no prompt)")
    chat.add_argument("--out", type=Path, default=Path("."), help="where exports are downloaded")

    upload = sub.add_parser("upload", parents=[common, on_session], help="upload files")
    upload.add_argument("files", nargs="+", type=Path, help="images, clips or audio (200 MB each)")

    export = sub.add_parser("export", parents=[common, on_session], help="render and download")
    export.add_argument("--format", default="mp4", help="container (default mp4)")
    export.add_argument("--quality", default="high", help="render quality (default high)")
    export.add_argument("--out", type=Path, default=Path("."), help="directory for the video")
    export.add_argument(
        "--job",
        metavar="JOB_ID",
        help="resume this render job (after a timeout) instead of a new one",
    )

    sub.add_parser("credits", parents=[common], help="show the credit balance")
    sub.add_parser("state", parents=[common, on_session], help="show the session's timeline")

    from .testing.__main__ import add_arguments as emulator_arguments

    emulator_arguments(sub.add_parser("emulator", help="serve the NemoVideo emulator on loopback"))
    return parser


def emit(args: argparse.Namespace, text: str, data: dict[str, Any] | None = None) -> None:
    """Print ``text`` for people, or ``data`` as one JSON line under ``--json``."""
    if getattr(args, "json", False):
        if data is not None:
            print(json.dumps(data, default=str, ensure_ascii=False), flush=True)
    else:
        print(text, flush=True)


def _fail(args_json: bool, kind: str, message: str, code: int) -> int:
    """Report a failure: one JSON object on stdout under ``--json``, else one line on stderr."""
    if args_json:
        print(json.dumps({"error": kind, "message": message}, ensure_ascii=False), flush=True)
    else:
        print(f"error: {message}", file=sys.stderr, flush=True)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    wants_json = "--json" in words[: words.index("--")] if "--" in words else "--json" in words
    try:
        args = _parser().parse_args(words)
    except UsageError as exc:
        if wants_json:
            return _fail(True, "UsageError", exc.message, EXIT_USAGE)
        print(exc.usage + exc.message, file=sys.stderr, flush=True)
        return EXIT_USAGE
    if args.command == "emulator":
        from .testing.__main__ import run as run_emulator

        return run_emulator(args)
    from . import _cli_commands
    from ._cli_commands import os_message

    as_json = bool(getattr(args, "json", False))
    try:
        return asyncio.run(_cli_commands.run(args))
    except NemoError as exc:
        message = str(exc)
        if isinstance(exc, RenderTimeoutError):
            message = f"Render {exc.job_id} is still running. Resume it: nemovideo export --job {exc.job_id}"
        return _fail(as_json, type(exc).__name__, message, exit_code_for(exc))
    except OSError as exc:
        return _fail(as_json, type(exc).__name__, os_message(exc), EXIT_FAILURE)
    except KeyboardInterrupt:
        if as_json:
            return _fail(True, "Interrupted", "interrupted", EXIT_INTERRUPTED)
        print("interrupted", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
