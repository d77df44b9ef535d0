"""Cancelling an upload at any point closes every file and connection it opened.

The server reads part of the body (or all of it) and stops answering; or the next file turns out to
block when opened (a FIFO swapped in after the checks). The upload task is cancelled there, and
then: no ``ResourceWarning``, and this process's open file descriptors return to their count
before the client was made.
"""

from __future__ import annotations

import asyncio
import gc
import glob
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from ._hostile import SERVER, SESSION_ID, Hostile, bounded, client_for, envelope

UPLOAD = "/api/upload-video/"
MP4_HEAD = b"\x00\x00\x00\x18ftypmp42"


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def fd_targets() -> set[str]:
    out = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            out.add(f"{fd} -> {os.readlink(f'/proc/self/fd/{fd}')}")
        except OSError:
            continue
    return out


async def settled_fds(target: int) -> int:
    """The fd count once the server has seen the client's sockets close (bounded by polls)."""
    count = open_fds()
    for _ in range(200):
        if count <= target:
            break
        await asyncio.sleep(0.01)
        count = open_fds()
    return count


def resource_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]


def reader(limit: int | None, reached: asyncio.Event) -> Any:
    """Signal once ``limit`` bytes of the body arrived (all of it for ``None``) and never answer.

    The rest is drained, not left unread: a server that stops reading stops noticing that the
    client hung up, and its own socket would count as the client's leak.
    """

    async def answer(request: web.Request, _body: bytes) -> web.StreamResponse:
        got = 0
        async for chunk in request.content.iter_any():
            got += len(chunk)
            if limit is not None and got >= limit:
                reached.set()
        reached.set()
        await request.app[SERVER].closing.wait()
        raise asyncio.CancelledError

    return answer


@pytest.mark.parametrize("limit", [256 << 10, None], ids=["after-256KiB", "after-whole-body"])
async def test_cancelling_an_upload_mid_body_closes_every_file_and_connection(
    hostile: Hostile, tmp_path: Path, secret: str, limit: int | None
) -> None:
    big = tmp_path / "big.mp4"
    big.write_bytes(MP4_HEAD + os.urandom((8 << 20) if limit else (1 << 20)))
    reached = asyncio.Event()
    hostile.on("POST", UPLOAD, reader(limit, reached), read_body=False)
    before, targets = open_fds(), fd_targets()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with client_for(hostile, tmp_path, secret, request_timeout=30.0) as client:
            task = asyncio.ensure_future(client.session(SESSION_ID).upload([big]))
            await bounded(reached.wait())
            task.cancel()
            (result,) = await asyncio.gather(task, return_exceptions=True)
        del client, task
        gc.collect()
        after = await settled_fds(before)
        gc.collect()
    assert isinstance(result, asyncio.CancelledError), repr(result)
    assert resource_warnings(caught) == []
    assert after == before, f"{after - before} descriptors left open: {fd_targets() - targets}"


def threads_opening_a_fifo() -> int:
    count = 0
    for path in glob.glob(f"/proc/{os.getpid()}/task/*/wchan"):
        try:
            with open(path) as fh:
                count += "wait_for_partner" in fh.read() or "fifo" in fh.read()
        except OSError:
            continue
    return count


@pytest.fixture
def fifo_release() -> Iterator[list[str]]:
    """Paths of FIFOs to unblock at the end, so no thread stays parked in ``open()``."""
    paths: list[str] = []
    yield paths
    for path in paths:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            continue
        os.close(fd)


async def test_cancelling_an_upload_while_its_file_is_being_opened_closes_it(
    hostile: Hostile, tmp_path: Path, secret: str, fifo_release: list[str]
) -> None:
    first, second = tmp_path / "first.mp4", tmp_path / "second.mp4"
    for path in (first, second):
        path.write_bytes(MP4_HEAD + b"\x00" * 4096)
    second_started = asyncio.Event()
    calls = [0]

    async def answer(request: web.Request, _body: bytes) -> web.StreamResponse:
        calls[0] += 1
        if calls[0] == 1:
            await request.read()
            second.unlink()
            os.mkfifo(second)  # the checks saw a file; the upload's open() now blocks
            fifo_release.append(str(second))
            return await envelope({"files": [{"filename": "first.mp4", "cdn_url": "https://c/1"}]})(
                request, b""
            )
        second_started.set()
        await request.app[SERVER].closing.wait()
        raise asyncio.CancelledError

    hostile.on("POST", UPLOAD, answer, read_body=False)
    before, targets = open_fds(), fd_targets()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with client_for(hostile, tmp_path, secret, request_timeout=30.0) as client:
            task = asyncio.ensure_future(client.session(SESSION_ID).upload([first, second]))
            await bounded(second_started.wait())
            for _ in range(200):
                if threads_opening_a_fifo():
                    break
                await asyncio.sleep(0.01)
            else:
                task.cancel()
                pytest.skip("cannot see a thread blocked opening the FIFO (no /proc wchan)")
            task.cancel()
            (result,) = await asyncio.gather(task, return_exceptions=True)
            fd = os.open(second, os.O_WRONLY | os.O_NONBLOCK)  # let the blocked open() return
            for _ in range(200):
                if not threads_opening_a_fifo():
                    break
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.05)
            os.close(fd)
        del client, task
        gc.collect()
        after = await settled_fds(before)
        gc.collect()
    assert isinstance(result, asyncio.CancelledError), repr(result)
    assert resource_warnings(caught) == [], "the file opened after the cancel was never closed"
    assert after == before, f"{after - before} descriptors left open: {fd_targets() - targets}"
