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
from typing import Any

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


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print one JSON object (for scripts)")
    common.add_argument("--api-url", help="API base URL (default: NEMO_API_URL or the real API)")
    common.add_argument("--config-dir", type=Path, help="where the client id and token live")
    on_session = argparse.ArgumentParser(add_help=False)
    on_session.add_argument(
        "--session", help="session id (default: the last one this command line used)"
    )
    on_session.add_argument("--new", action="store_true", help="start a new session")

    parser = argparse.ArgumentParser(
        prog="nemovideo",
        description="NemoVideo: turn images, clips and one sentence into a rendered MP4.",
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


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "emulator":
        from .testing.__main__ import run as run_emulator

        return run_emulator(args)
    from . import _cli_commands

    try:
        return asyncio.run(_cli_commands.run(args))
    except NemoError as exc:
        if getattr(args, "json", False):
            print(json.dumps({"error": type(exc).__name__, "message": str(exc)}), flush=True)
        else:
            print(f"error: {exc}", file=sys.stderr, flush=True)
        return exit_code_for(exc)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
