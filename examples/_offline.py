"""What every example shares: the real API when ``NEMO_API_URL`` is set, else the local emulator.

The examples hold their logic in ``run(client, out_dir)``; this module only decides which server
that client talks to, so the same script works offline on a fresh clone and against NemoVideo::

    python examples/quickstart.py                 # offline: an emulator on 127.0.0.1
    NEMO_API_URL=https://mega-api-prod.nemovideo.ai python examples/quickstart.py

Offline, the client gets a throw-away config dir (no token is cached in your home) and polls the
emulator's fast renders every 0.25 s instead of backing off towards the real service's 30 s.
Videos go to ``./out/`` (created; ignored by git), or to the directory given as the first argument.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

import nemovideo

if TYPE_CHECKING:
    from nemovideo.testing import Emulator

__all__ = ["connect", "main", "output_dir"]


@contextlib.asynccontextmanager
async def connect() -> AsyncIterator[tuple[nemovideo.NemoClient, Emulator | None]]:
    """A client, and the emulator behind it (``None`` when talking to the real API)."""
    if os.environ.get("NEMO_API_URL"):
        async with nemovideo.NemoClient() as client:
            yield client, None
        return
    from nemovideo.testing import Emulator

    with tempfile.TemporaryDirectory(prefix="nemovideo-example-") as tmp:
        async with Emulator(data_dir=Path(tmp) / "emulator") as emu:
            print(f"[offline: NemoVideo emulator at {emu.url}; set NEMO_API_URL for the real API]")
            config = nemovideo.ClientConfig(
                base_url=emu.url,
                config_dir=Path(tmp) / "config",
                poll_interval=0.25,
                poll_initial_interval=0.25,
            )
            async with nemovideo.NemoClient(config=config) as client:
                yield client, emu


def output_dir() -> Path:
    """Where the example writes its videos, created if missing: the first command-line argument,
    else ``./out`` (so running an example never scatters MP4s over the working tree)."""
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("out")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def main(run: Callable[[nemovideo.NemoClient, Path], Awaitable[object]]) -> None:
    """``asyncio.run`` an example's ``run(client, out_dir)`` with the client from :func:`connect`.

    An SDK error (an API that cannot be reached, no credits) ends the script with its message on
    stderr and exit 1, not a traceback; Ctrl-C with exit 130.
    """

    async def go() -> None:
        async with connect() as (client, _):
            await run(client, output_dir())

    try:
        asyncio.run(go())
    except nemovideo.NemoError as exc:
        print(f"Failed: {exc}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
