"""A pause switch tests flip to look at the emulator mid-operation, without timing guesses."""

from __future__ import annotations

import asyncio

import attrs

__all__ = ["Hold"]


@attrs.define
class Hold:
    """``hold()`` pauses the operation at its checkpoint until ``release()``::

    emu.render.hold()          # jobs stay "processing"
    ...                        # look at the state mid-render
    emu.render.release()
    """

    _release: asyncio.Event | None = attrs.field(default=None, kw_only=True)

    def hold(self) -> None:
        """Pause the operation at its next checkpoint until :meth:`release`."""
        self._release = asyncio.Event()

    def release(self) -> None:
        """Let paused operations go on (see :meth:`hold`)."""
        if self._release is not None:
            self._release.set()
        self._release = None

    async def wait_released(self) -> None:
        """Wait (in the emulator's handler) until no hold is in place."""
        while self._release is not None:
            await self._release.wait()
