"""Reading ``nemovideo chat``'s input: readline history at a terminal, a thread for pipes."""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import sys
import threading
from pathlib import Path
from typing import Any

__all__ = ["History", "Lines"]


class Lines:
    """Lines from stdin, read by a daemon thread so a pending read never blocks the exit.

    Used when stdin is not a terminal (a pipe, a file) or under ``--json``: ``os.read`` holds no
    Python lock, so the thread can be abandoned at exit.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        threading.Thread(target=self._pump, name="nemovideo-chat-stdin", daemon=True).start()

    def _pump(self) -> None:
        decoder = codecs.getincrementaldecoder(sys.stdin.encoding or "utf-8")(errors="replace")
        pending = ""
        while True:
            try:
                chunk = os.read(0, 65536)
            except OSError:
                chunk = b""
            pending += decoder.decode(chunk, final=not chunk)
            *lines, pending = pending.split("\n")
            for line in lines:
                self._put(line)
            if not chunk:
                if pending:
                    self._put(pending)
                self._put(None)
                return

    def _put(self, line: str | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is listening
            self._loop.call_soon_threadsafe(self._queue.put_nowait, line)

    async def get(self) -> str | None:
        """The next line (without its newline), or None at the end of input."""
        return await self._queue.get()


class History:
    """readline's line editing and a persistent history, where the platform has readline."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            import readline
        except ImportError:  # Windows without pyreadline: plain input()
            self._readline: Any = None
            return
        self._readline = readline
        readline.set_history_length(1000)
        with contextlib.suppress(OSError):
            readline.read_history_file(path)

    def save(self) -> None:
        if self._readline is not None:
            with contextlib.suppress(OSError):
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._readline.write_history_file(self.path)
