"""``python -m nemovideo.testing``: serve the emulator until Ctrl-C.

    $ python -m nemovideo.testing --port 8765
    NemoVideo emulator API: http://127.0.0.1:8765
    NemoVideo emulator CDN: http://127.0.0.1:41234
    $ NEMO_API_URL=http://127.0.0.1:8765 nemovideo credits

It answers without real authentication, so it binds to loopback only unless ``--allow-external``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import sys

__all__ = ["add_arguments", "main", "run", "serve"]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def serve(
    host: str,
    port: int,
    cdn_port: int = 0,
    *,
    credits: int = 100,
    chat_delay: float | None = None,
) -> None:
    """Run an emulator on ``host:port`` (CDN on ``cdn_port``) until cancelled.

    ``credits`` is every new user's balance; ``chat_delay`` the pause between chat frames.
    """
    from nemovideo.testing._server.app import Emulator

    async with Emulator(host=host, port=port, cdn_port=cdn_port, initial_credits=credits) as emu:
        if chat_delay is not None:
            emu.chat.delay = chat_delay
        print(f"NemoVideo emulator API: {emu.url}", flush=True)
        print(f"NemoVideo emulator CDN: {emu.cdn_url}", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        await asyncio.Event().wait()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The emulator's options, shared by ``python -m nemovideo.testing`` and ``nemovideo emulator``."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="API port (default 8765)")
    parser.add_argument(
        "--cdn-port", type=int, default=0, help="download origin's port (default: any free one)"
    )
    parser.add_argument("--credits", type=int, default=100, help="each new user's credits")
    parser.add_argument("--chat-delay", type=float, default=None, help="seconds between frames")
    parser.add_argument(
        "--allow-external", action="store_true", help="allow a host other than loopback"
    )


def run(args: argparse.Namespace) -> int:
    """Serve with parsed ``args`` until Ctrl-C; 2 when the host is not loopback and not allowed."""
    if not args.allow_external and not _is_loopback(args.host):
        print(
            f"Refusing to serve on {args.host}: the emulator has no real authentication. "
            "Use a loopback host, or --allow-external.",
            file=sys.stderr,
        )
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            serve(
                args.host,
                args.port,
                args.cdn_port,
                credits=args.credits,
                chat_delay=args.chat_delay,
            )
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m nemovideo.testing [options]``."""
    parser = argparse.ArgumentParser(
        prog="python -m nemovideo.testing", description="Serve the NemoVideo emulator."
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
