"""Waiting for another process's token renewal can be cancelled or time out without leaving the
cross-process lock held, a descriptor open, or a thread blocked in ``flock``."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import nemovideo
from nemovideo._util.files import FileLock
from nemovideo.testing import Emulator

fcntl = pytest.importorskip("fcntl")
pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")

CHILD = """
import asyncio, fcntl, os, sys
import nemovideo

async def main():
    url, cfg, cid, lock = sys.argv[1:5]
    async with nemovideo.NemoClient(base_url=url, config_dir=cfg, client_id=cid,
                                    rate_limit_wait=0.01, retry_backoff=0.001) as client:
        try:
            await asyncio.wait_for(client.credits(), 0.3)
        except asyncio.TimeoutError:
            print("cancelled", flush=True)
        else:
            print("was not blocked", flush=True)
            return
        sys.stdin.readline()
        balance = await asyncio.wait_for(client.credits(), 5)
        held = [fd for fd in os.listdir("/proc/self/fd")
                if os.path.realpath(f"/proc/self/fd/{fd}") == lock]
        probe = os.open(lock, os.O_RDWR)
        fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.close(probe)
        print(f"credits {balance.available}, lock descriptors {len(held)}", flush=True)

asyncio.run(main())
print("exited", flush=True)
"""


async def _lock_path(emu: Emulator, config_dir: Path, client_id: str) -> Path:
    """The lock file clients with these settings take to renew their token, found as a user
    would: a first client fetches a token, which leaves the cache file and its lock in
    ``config_dir``. The cache is then deleted, the emulator's tokens expired and its request log
    cleared, so the next client starts from nothing, as if the first had never run."""
    async with nemovideo.NemoClient(base_url=emu.url, config_dir=config_dir, client_id=client_id,
                                    rate_limit_wait=0.01, retry_backoff=0.001) as first:  # fmt: skip
        await first.credits()
    lock = _forget_all_but_the_lock(config_dir)
    emu.faults.expire_tokens()
    emu.requests.clear()
    return lock


def _forget_all_but_the_lock(config_dir: Path) -> Path:
    (lock,) = config_dir.glob("*.lock")
    cached = [p for p in config_dir.iterdir() if p != lock]
    assert cached, "the first client cached its token beside the lock"
    for path in cached:
        path.unlink()
    return lock


def _open_descriptors(path: Path) -> int:
    fds = os.listdir("/proc/self/fd")
    return sum(1 for fd in fds if os.path.realpath(f"/proc/self/fd/{fd}") == str(path))


@contextmanager
def _held_elsewhere(path: Path) -> Iterator[None]:
    """Hold ``path``'s flock through a descriptor of our own, as another process would."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


async def test_cancelled_wait_for_the_lock_leaks_nothing(tmp_path: Path) -> None:
    """The audit's repro: a caller's ``wait_for`` gives up while another process holds the lock.
    Once that process lets go, the next ``credits()`` must go through and the process must exit
    (a thread still blocked in ``flock`` would hang both)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEMO_")}
    cfg, client_id = tmp_path / "cfg", str(uuid.uuid4())
    async with Emulator() as emu:
        lock = await _lock_path(emu, cfg, client_id)
        with _held_elsewhere(lock):
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-c", CHILD, emu.url, str(cfg), client_id, str(lock), env=env,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            assert proc.stdout is not None
            try:
                first = await asyncio.wait_for(proc.stdout.readline(), 15)
            except asyncio.TimeoutError:
                proc.kill()
                raise
        try:
            out, err = await asyncio.wait_for(proc.communicate(b"released\n"), 8)
        except asyncio.TimeoutError:
            proc.kill()
            out, err = await proc.communicate()
            pytest.fail(f"the client hung after the lock was released: {out!r} {err!r}")
        assert first == b"cancelled\n", err.decode()
        assert proc.returncode == 0, err.decode()
        assert out.decode().splitlines() == ["credits 100, lock descriptors 0", "exited"]
        assert len(emu.requests_to("/api/auth/anonymous-token")) == 1


async def test_lock_held_too_long_is_a_transport_error_and_then_recovers(tmp_path: Path) -> None:
    async with Emulator() as emu:
        client_id = str(uuid.uuid4())
        lock = await _lock_path(emu, tmp_path, client_id)
        client = nemovideo.NemoClient(
            base_url=emu.url, config_dir=tmp_path, client_id=client_id,
            request_timeout=0.3, rate_limit_wait=0,
        )  # fmt: skip
        async with client:
            assert client._transport.auth.lock_wait() == pytest.approx(1.2)  # noqa: SLF001
            with _held_elsewhere(lock):
                with pytest.raises(nemovideo.TransportError) as caught:
                    await asyncio.wait_for(client.credits(), 10)
                assert str(lock) in str(caught.value)
                assert "another process" in str(caught.value)
                assert _open_descriptors(lock) == 1, "only the holder's own descriptor is open"
            assert _open_descriptors(lock) == 0
            assert (await asyncio.wait_for(client.credits(), 10)).available == 100


async def test_file_lock_cancel_and_timeout_close_the_descriptor(tmp_path: Path) -> None:
    """Two ``FileLock``s on one path exclude each other even inside one process."""
    path = tmp_path / "sub" / "x.lock"
    first, second = FileLock(path), FileLock(path)
    await first.acquire(timeout=1)
    assert first.held and _open_descriptors(path) == 1

    with pytest.raises(TimeoutError):
        await second.acquire(timeout=0.05)
    assert not second.held and _open_descriptors(path) == 1

    waiting = asyncio.ensure_future(second.acquire(timeout=30))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert not second.held and _open_descriptors(path) == 1

    waiting = asyncio.ensure_future(second.acquire(timeout=30))
    await asyncio.sleep(0.02)
    first.release()
    await asyncio.wait_for(waiting, 5)
    assert second.held and not first.held and _open_descriptors(path) == 1
    with pytest.raises(RuntimeError, match="already locked"):
        await second.acquire(timeout=0)
    second.release()
    second.release()
    assert _open_descriptors(path) == 0
    assert (path.stat().st_mode & 0o777) == 0o600
