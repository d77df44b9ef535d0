"""A chat stream's deadlines: overall, idle (time without content), and the next waiting notice."""

from __future__ import annotations

import asyncio

from nemovideo.errors import StreamTimeoutError

__all__ = ["Clock"]


class Clock:
    """The stream's deadlines: overall, idle (time without content), and the next waiting notice."""

    def __init__(self, total: float, idle: float, notice: float) -> None:
        self._loop = asyncio.get_running_loop()
        self.started = self._loop.time()
        self.total, self.idle, self.notice = total, idle, notice
        self.last_content = self.started
        self.next_notice = self.started + notice

    def elapsed(self) -> float:
        return self._loop.time() - self.started

    def content(self) -> None:
        self.last_content = self._loop.time()
        self.next_notice = self.last_content + self.notice

    def wait(self) -> float:
        deadline = min(self.started + self.total, self.last_content + self.idle, self.next_notice)
        return max(deadline - self._loop.time(), 0.0)

    def check(self) -> None:
        now = self._loop.time()
        if now >= self.started + self.total:
            raise StreamTimeoutError(
                f"The chat stream ran past stream_timeout={self.total:g}s; it was closed."
            )
        if now >= self.last_content + self.idle:
            raise StreamTimeoutError(
                f"The chat stream sent no content (heartbeats only) for "
                f"stream_idle_timeout={self.idle:g}s; it was closed."
            )

    def notice_due(self) -> bool:
        if self._loop.time() < self.next_notice:
            return False
        self.next_notice += self.notice
        return True
