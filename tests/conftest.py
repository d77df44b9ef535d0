from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

import nemovideo
from nemovideo.testing import FAST_SETTINGS, Emulator

FAST: dict[str, Any] = dict(FAST_SETTINGS)
"""The shipped test-speed settings (``nemovideo.testing.FAST_SETTINGS``), as a plain dict."""
SAMPLES = Path(nemovideo.__file__).parent / "samples"


def add_media(emu: Emulator, sid: str, count: int = 3) -> list[dict[str, Any]]:
    """Put ``count`` sample images in session ``sid`` where the upload routes would (their
    ``video_infos`` entries, returned), without an upload."""
    entries = []
    for n in range(1, count + 1):
        media_id = f"m_{n:012x}"
        shutil.copy(SAMPLES / f"city_{n}.jpg", emu.files_dir / f"{media_id}.jpg")
        entry = {"media_id": media_id, "name": f"city_{n}.jpg", "kind": "image", "size": 1,
                 "url": emu.cdn_file_url(f"{media_id}.jpg"), "width": 1920, "height": 1080,
                 "duration_ms": 0}  # fmt: skip
        emu.session(sid).state["video_infos"].append(entry)
        entries.append(entry)
    return entries


async def media_session(
    client: nemovideo.NemoClient, emu: Emulator, count: int = 3
) -> nemovideo.Session:
    """A new session of ``client`` already holding ``count`` sample images (``add_media``)."""
    session = await client.create_session()
    add_media(emu, session.id, count)
    return session


@contextlib.asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    """Serve ``app`` on a free loopback port for the block; yields ``http://127.0.0.1:<port>``.

    For a test that needs a server answering what the emulator never would (a made-up job id,
    fuzzed bodies, redirects off loopback); the server is stopped when the block ends.
    """
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def communicate(
    proc: asyncio.subprocess.Process, timeout: float, stdin: bytes | None = None
) -> tuple[bytes, bytes]:
    """``proc.communicate(stdin)`` bounded by ``timeout`` seconds; a process that outlives it (or
    a test that fails meanwhile) is killed by its own pid and reaped."""
    try:
        return await asyncio.wait_for(proc.communicate(stdin), timeout)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def modules_loaded_by(statement: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``statement`` (``sys.modules``), to
    check what an import drags in without this process's own imports in the way."""
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.splitlines()[-1]))


_SLOW = ("adk/", "newcomer/", "test_examples.py", "test_notebook.py")
"""Tests that start whole processes (an ADK server, the CLI under a terminal, a Jupyter kernel):
marked ``slow``, so ``pytest -m "not slow"`` runs the rest in a fraction of the time."""


def pytest_configure(config: pytest.Config) -> None:
    """Give Ctrl-C back to the processes the tests start when the suite itself was started with
    SIGINT ignored (``make test &`` from a script, ``nohup``): an ignored signal stays ignored
    across ``exec``, so a CLI child would never see the Ctrl-C a test sends it, as it always
    does from a terminal. A handler, unlike ``SIG_IGN``, is reset to the default by ``exec``."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        where = item.path.relative_to(Path(__file__).parent).as_posix()
        if where.startswith(_SLOW) or where in _SLOW:
            item.add_marker(pytest.mark.slow)
