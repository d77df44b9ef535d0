"""The ``nemovideo`` command line.

nemovideo demo            # the main job, offline, against the embedded emulator
nemovideo emulator        # serve the emulator on 127.0.0.1 for your own app
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .client import NemoClient
from .errors import NemoError

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


async def run_demo(out_dir: Path, *, say: object = print) -> int:
    """Start the emulator, then do what a first-time user does: token, session, credits, state."""
    from .testing import Emulator

    emit = say if callable(say) else print
    async with Emulator() as emu:
        emit(f"Started the NemoVideo emulator at {emu.url} (offline, nothing leaves this machine)")
        async with NemoClient(base_url=emu.url, config_dir=out_dir / "config") as client:
            bal = await client.credits()
            emit(f"Got an anonymous token for user {client.user_id}; credits: {bal.available}"
                 f" available, {bal.frozen} frozen")  # fmt: skip
            session = await client.create_session(language="en")
            emit(f"Created session {session.id} (task {session.task_id})")
            state = await session.state()
            emit(f"Session state: {state.draft.summary()}")
            emit(f"Open it in the web app: {session.claim_url}")
    emit("Demo finished.")
    return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nemovideo", description="NemoVideo SDK command line")
    parser.add_argument("--version", action="version", version=f"nemovideo {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the main job offline against the embedded emulator")
    demo.add_argument("--out", type=Path, default=None, help="directory for the demo's files")
    emu = sub.add_parser("emulator", help="serve the NemoVideo emulator on loopback")
    emu.add_argument("--host", default="127.0.0.1")
    emu.add_argument("--port", type=int, default=8765)
    emu.add_argument("--cdn-port", type=int, default=0)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "demo":
            if args.out is not None:
                args.out.mkdir(parents=True, exist_ok=True)
                return asyncio.run(run_demo(args.out))
            with tempfile.TemporaryDirectory(prefix="nemovideo-demo-") as tmp:
                return asyncio.run(run_demo(Path(tmp)))
        if args.command == "emulator":
            from .testing.__main__ import main as emulator_main

            return emulator_main(
                ["--host", args.host, "--port", str(args.port), "--cdn-port", str(args.cdn_port)]
            )
    except NemoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130
    return EXIT_USAGE
