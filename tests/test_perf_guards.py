"""Guards for the performance work of issue 9, checked by behaviour, never by time.

- ``import nemovideo`` loads what a client needs and defers chat streaming, export and the
  conversation layer, while every name in ``__all__`` still imports (``benchmarks/bench_import.py``).
- Downloads flush to disk in the background while bytes arrive (``BackgroundFlusher``), so the
  closing fsync is short (``benchmarks/bench_download.py``); the file is still whole, atomic and
  verified, no descriptor is leaked, and a flush's disk error is raised rather than swallowed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import nemovideo
from nemovideo._util.files import BackgroundFlusher
from nemovideo.render import _download as dl
from nemovideo.testing import Emulator
from nemovideo.testing._server.store import iso_time

from .conftest import FAST

DEFERRED = (
    "nemovideo.chat._events",
    "nemovideo.render._download",
    "nemovideo.chat._sse",
    "nemovideo.assistant",
    "nemovideo.chat",
    "nemovideo.intents",
    "nemovideo.render",
    "tenacity",
    "ctypes",
)

PROBE = """
import json, sys
import nemovideo
loaded = sorted(m for m in sys.modules if m.startswith(("nemovideo", "tenacity", "ctypes")))
names = {}
for name in nemovideo.__all__:
    exec(f"from nemovideo import {name} as value")
    names[name] = value is getattr(nemovideo, name) and name in dir(nemovideo)
print(json.dumps({"loaded": loaded, "names": names}))
"""


def test_import_defers_chat_export_and_assistant_yet_every_public_name_imports() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True
    ).stdout
    report = json.loads(out)
    assert not set(DEFERRED) & set(report["loaded"]), report["loaded"]
    assert "nemovideo.client" in report["loaded"]
    assert report["names"] == {name: True for name in nemovideo.__all__}


def _open_under(directory: Path) -> list[str]:
    """This process's descriptors open on files under ``directory`` (deleted ones included)."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.startswith(f"{directory}{os.sep}"):
                found.append(target)
    return found


needs_proc = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc/self/fd")


class _Counting(BackgroundFlusher):
    def __init__(self, fd: int, *, every: int) -> None:
        super().__init__(fd, every=every)
        self.flushes = 0

    def _flush(self, fd: int) -> None:
        self.flushes += 1
        super()._flush(fd)


@needs_proc
async def test_flusher_flushes_while_writing_and_closes_its_descriptors(tmp_path: Path) -> None:
    fd = os.open(tmp_path / "f", os.O_WRONLY | os.O_CREAT, 0o600)
    flusher = _Counting(fd, every=8192)
    blocks = [os.urandom(4096) for _ in range(64)]
    for block in blocks:
        os.write(fd, block)
        flusher.wrote(len(block))
        await asyncio.sleep(0.001)
    await flusher.sync()
    os.close(fd)
    assert flusher.flushes > 1
    assert (tmp_path / "f").read_bytes() == b"".join(blocks)
    assert _open_under(tmp_path) == []


async def test_a_flush_error_is_raised_not_swallowed() -> None:
    read, write = os.pipe()  # fdatasync on a pipe fails (EINVAL), standing in for a disk error
    try:
        flusher = BackgroundFlusher(write, every=1)
        flusher.wrote(1)
        with pytest.raises(OSError):
            await flusher.sync()
        flusher = BackgroundFlusher(write, every=1)
        deadline = time.monotonic() + 5
        with pytest.raises(OSError):
            while time.monotonic() < deadline:
                flusher.wrote(1)  # starts a flush, then raises its error once it has finished
                await asyncio.sleep(0.001)
    finally:
        os.close(read)
        os.close(write)


@pytest.fixture
async def owned(emulator: Emulator, tmp_path: Path) -> AsyncIterator[nemovideo.NemoClient]:
    """A client whose user owns the completed render job ``render_guard`` (an MP4 header, then
    3 MB of noise: a download must start like a video)."""
    user = emulator.store.new_user()
    token = emulator.store.issue_token(user.user_id, 3600).token
    path = emulator.files_dir / "render_guard.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(3 << 20))
    emulator.store.render_jobs["render_guard"] = {
        "id": "render_guard", "user_id": user.user_id, "session_id": "s", "draft": {},
        "file": path.name, "status": "completed", "progress": 100,
        "outputUrl": emulator.cdn_file_url(path.name), "createdAt": iso_time(time.time()),
        "completedAt": iso_time(time.time()), "path": str(path),
    }  # fmt: skip
    config = nemovideo.ClientConfig(
        base_url=emulator.url, token=token, config_dir=tmp_path / "config", **FAST
    )
    async with nemovideo.NemoClient(config=config) as client:
        yield client


@needs_proc
async def test_download_with_background_flushes_is_whole_atomic_and_leak_free(
    owned: nemovideo.NemoClient, emulator: Emulator, tmp_path: Path
) -> None:
    served = (emulator.files_dir / "render_guard.mp4").read_bytes()
    out = tmp_path / "out"
    out.mkdir()
    emulator.render.truncate_downloads = 1 + owned.config.max_retries  # every attempt is cut
    with pytest.raises(nemovideo.TransportError, match=r"incomplete|broke"):
        await dl.stream_to_file(
            owned.api, "/api/render/proxy/render_guard/download", out / "v.mp4", None,
            flush_every=64 << 10,
        )  # fmt: skip
    assert emulator.render.truncate_downloads == 0, "the pipeline retried the broken transfer"
    assert list(out.iterdir()) == [], "no partial file, no temp file"

    seen: list[tuple[int, int]] = []
    size = await dl.stream_to_file(
        owned.api, emulator.cdn_file_url("render_guard.mp4"), out / "v.mp4",
        lambda done, total: seen.append((done, total)), flush_every=64 << 10,
    )  # fmt: skip
    assert size == len(served) and (out / "v.mp4").read_bytes() == served
    assert seen[0] == (0, len(served)) and seen[-1] == (len(served), len(served))
    assert [p.name for p in out.iterdir()] == ["v.mp4"]
    for _ in range(1000):  # a flush abandoned by the failed attempt closes its own descriptor
        if not _open_under(out):
            break
        await asyncio.sleep(0.001)
    assert _open_under(out) == []
