"""``python -m nemovideo.testing``: serve the emulator until Ctrl-C.

    $ python -m nemovideo.testing --port 8765
    NemoVideo emulator API: http://127.0.0.1:8765
    NemoVideo emulator CDN: http://127.0.0.1:41234
    $ NEMO_API_URL=http://127.0.0.1:8765 nemovideo credits

It answers without real authentication, so it binds to loopback only unless ``--allow-external``.
SIGTERM and SIGINT stop it cleanly: its temporary data dir (uploads, rendered MP4s) is removed.
For load tests, ``--render-size 320x180`` keeps renders small, and the fault flags make a share
of requests fail the way the service can::

    $ python -m nemovideo.testing --port 0 --render-size 320x180 --fault server_error:3:/api/credits
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import re
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nemovideo.testing._server.app import Emulator

__all__ = ["FAULT_KINDS", "add_arguments", "main", "run", "serve"]

FAULT_KINDS = ("rate_limit", "server_error", "reset_connection", "lose_answer", "delay")
"""The ``--fault`` kinds: each is the ``emu.faults`` method of that name."""


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
    render_size: tuple[int, int] | None = None,
    faults: Sequence[str] = (),
    fail_renders: int = 0,
) -> None:
    """Run an emulator on ``host:port`` (CDN on ``cdn_port``) until cancelled, SIGTERM or SIGINT.

    ``credits`` is every new user's balance; ``chat_delay`` the pause between chat frames;
    ``render_size`` the output's ``(width, height)``; ``faults`` are ``--fault`` specs
    (``kind[:times[:path]]``, :func:`parse_fault`); ``fail_renders`` jobs fail. Either signal
    ends the block, so the temporary data dir is removed.
    """
    from nemovideo.testing._server.app import Emulator

    async with Emulator(host=host, port=port, cdn_port=cdn_port, initial_credits=credits) as emu:
        if chat_delay is not None:
            emu.chat.delay = chat_delay
        if render_size is not None:
            emu.render.width, emu.render.height = render_size
        for spec in faults:
            _add_fault(emu, spec)
        for _ in range(fail_renders):
            emu.render.fail_next()
        print(f"NemoVideo emulator API: {emu.url}", flush=True)
        print(f"NemoVideo emulator CDN: {emu.cdn_url}", flush=True)
        print(f"NemoVideo emulator data: {emu.data_dir}", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signum, stop.set)
        try:
            await stop.wait()
        finally:
            for signum in (signal.SIGTERM, signal.SIGINT):
                with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                    loop.remove_signal_handler(signum)


def parse_size(text: str) -> tuple[int, int]:
    """``"320x180"`` -> ``(320, 180)``; sides from 2 to 7680, even (as H.264 wants)."""
    match = re.fullmatch(r"\s*(\d{1,4})\s*[xX]\s*(\d{1,4})\s*", text)
    if match is None:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 320x180, got {text!r}")
    width, height = int(match.group(1)), int(match.group(2))
    if not (2 <= width <= 7680 and 2 <= height <= 7680) or width % 2 or height % 2:
        raise argparse.ArgumentTypeError(
            f"{text!r}: width and height must be even numbers from 2 to 7680"
        )
    return width, height


def parse_fault(text: str) -> str:
    """Check a ``--fault`` spec, ``kind[:times[:path]]`` (``delay`` takes ``delay=SECONDS``)."""
    kind, _, rest = text.partition(":")
    name, _, seconds = kind.partition("=")
    if name not in FAULT_KINDS:
        raise argparse.ArgumentTypeError(f"unknown fault {name!r}; one of {', '.join(FAULT_KINDS)}")
    times, _, path = rest.partition(":")
    try:
        if times and int(times) < 1:
            raise ValueError
        if name == "delay" and not 0 < float(seconds) <= 600:
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected kind[:times[:path]] with times >= 1 "
            "(delay=SECONDS with 0 < SECONDS <= 600)"
        ) from None
    if path and not path.startswith("/"):
        raise argparse.ArgumentTypeError(f"{text!r}: the path must start with /")
    return text


def _add_fault(emu: Emulator, spec: str) -> None:
    kind, _, rest = parse_fault(spec).partition(":")
    name, _, seconds = kind.partition("=")
    times, _, path = rest.partition(":")
    count = int(times) if times else 1
    if name == "delay":
        emu.faults.delay(float(seconds), times=count, path=path or None)
    else:
        getattr(emu.faults, name)(times=count, path=path or None)


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
        "--render-size",
        type=parse_size,
        default=None,
        metavar="WxH",
        help="size of every rendered video, e.g. 320x180 for fast load tests",
    )
    parser.add_argument(
        "--fault",
        type=parse_fault,
        action="append",
        default=[],
        metavar="KIND[:TIMES[:PATH]]",
        help=f"inject a fault ({', '.join(FAULT_KINDS)}; delay=SECONDS), e.g. "
        "server_error:3:/api/credits; repeatable",
    )
    parser.add_argument(
        "--fail-renders", type=int, default=0, metavar="N", help="the next N renders fail"
    )
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
                render_size=getattr(args, "render_size", None),
                faults=getattr(args, "fault", ()),
                fail_renders=getattr(args, "fail_renders", 0),
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
