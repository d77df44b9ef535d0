"""Crash-safe file writes: a reader sees the old file or the new one, never half of either."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import time
from pathlib import Path

datasync = getattr(os, "fdatasync", os.fsync)
"""``os.fdatasync`` where the system has it (the data, not the times), else ``os.fsync``."""


def _temp_beside(path: Path, data: bytes, mode: int) -> str:
    """A new temp file beside ``path`` holding ``data`` (created with ``mode``), on disk; its name.

    The caller renames or links it into place, and removes it if that does not happen.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp


def atomic_write_bytes(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Write ``data`` to a temp file beside ``path`` (created with ``mode``), fsync, then rename."""
    tmp = _temp_beside(path, data, mode)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def create_once(path: Path, data: bytes, *, mode: int = 0o600) -> bytes:
    """Create ``path`` with ``data`` unless it exists; return what the file holds afterwards.

    Two processes racing here agree on one value: the loser reads the winner's file.
    """
    tmp = _temp_beside(path, data, mode)
    try:
        try:
            os.link(tmp, path)
        except FileExistsError:
            return path.read_bytes()
        return data
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


class FileLock:
    """An exclusive lock between processes sharing a config dir (``flock`` on ``path``).

    Two notebooks that both find the cached token stale must not both ask for a new one: the API
    issues one token per client id at a time and refuses the second. ``acquire`` polls a
    non-blocking ``flock`` between short sleeps instead of blocking a thread, so cancelling the
    waiting task leaves nothing behind: a thread stuck in ``flock`` would take the lock after its
    caller gave up, hold it forever (the descriptor is never closed) and keep the interpreter
    from exiting. Where ``fcntl`` does not exist the lock only covers this process's callers,
    which the asyncio lock in ``_auth`` already does::

        lock = FileLock(path)
        await lock.acquire(timeout=30)   # TimeoutError if another process holds it that long
        try:
            ...
        finally:
            lock.release()
    """

    _FIRST_POLL = 0.002
    _MAX_POLL = 0.05

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None

    @property
    def path(self) -> Path:
        return self._path

    @property
    def held(self) -> bool:
        return self._fd is not None

    async def acquire(self, *, timeout: float) -> None:
        """Take the lock, waiting at most ``timeout`` seconds (then ``TimeoutError``)."""
        if self._fd is not None:
            raise RuntimeError(f"{self._path} is already locked by this FileLock")
        fd = self._open()
        try:
            deadline = time.monotonic() + timeout
            pause = self._FIRST_POLL
            while not _try_lock(fd):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{self._path} stayed locked for {timeout:g} s")
                await asyncio.sleep(min(pause, left))
                pause = min(pause * 2, self._MAX_POLL)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor drops the flock

    def _open(self) -> int:
        self._path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        return os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)


def _try_lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def sync_and_close(fd: int) -> None:
    """``fsync`` then close ``fd`` (in a worker thread: the thread owns the descriptor, so a
    cancelled caller never closes it under the sync)."""
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BackgroundFlusher:
    """Flush a file that is being streamed to disk while it is written, so the closing fsync is short.

    A download that only fsyncs at the end keeps every byte dirty in the page cache and then waits
    for the disk to take the whole file after the last byte has arrived (a 200 MB render: a fifth
    of the download time on loopback, seconds on a slow disk). Here, once ``every`` bytes are
    unflushed and no flush is running, one ``fdatasync`` starts in a worker thread, so the disk
    works while the network does and the event loop never waits on it. The thread gets its own
    duplicate descriptor and closes it, so the caller may close the file at any time (an
    abandoned download does not wait). A flush's disk error is kept and raised by the next
    ``wrote`` or by ``sync``: the kernel reports it once per open file, so the final fsync would
    not see it again::

        flusher = BackgroundFlusher(fd)
        async for chunk in chunks:
            os.write(fd, chunk)
            flusher.wrote(len(chunk))
        await flusher.sync()  # every byte is on disk
    """

    def __init__(self, fd: int, *, every: int = 8 << 20) -> None:
        self._fd = fd
        self._every = every
        self._unflushed = 0
        self._running: asyncio.Future[None] | None = None
        self._error: OSError | None = None

    def wrote(self, size: int) -> None:
        """Count ``size`` more bytes written; start a background flush when enough are pending."""
        self._unflushed += size
        if self._unflushed < self._every:
            return
        running = self._running
        if running is not None:
            if not running.done():
                return
            self._running = None
            running.result()
        self._raise_error()
        dup = os.dup(self._fd)
        try:
            self._running = asyncio.get_running_loop().run_in_executor(None, self._flush, dup)
        except BaseException:
            os.close(dup)
            raise
        self._unflushed = 0

    async def sync(self) -> None:
        """Wait for the running flush, then fsync the rest in a thread; raise any flush error."""
        running, self._running = self._running, None
        if running is not None:
            await running
        self._raise_error()
        # on a descriptor of the thread's own: the caller may close the file as soon as this
        # returns or is cancelled, while the thread still syncs
        await asyncio.to_thread(sync_and_close, os.dup(self._fd))

    def _flush(self, fd: int) -> None:
        try:
            datasync(fd)
        except OSError as exc:
            self._error = exc
        finally:
            with contextlib.suppress(OSError):
                os.close(fd)

    def _raise_error(self) -> None:
        error, self._error = self._error, None
        if error is not None:
            raise error
