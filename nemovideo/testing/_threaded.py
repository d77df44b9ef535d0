"""An emulator served from an event loop in a thread of its own, for blocking (sync) code.

A ``SyncNemoClient`` blocks the thread that calls it. When that thread also runs the loop that
serves the emulator (an ``async def`` test with the ``emulator`` fixture, an ``Emulator``
started in a notebook's kernel loop), nothing can answer; the client refuses such a call at once.
Serve the emulator from its own thread instead::

    from nemovideo.sync import SyncNemoClient
    from nemovideo.testing import threaded_emulator

    with threaded_emulator() as emu:
        with SyncNemoClient(base_url=emu.url, config_dir="/tmp/nemo-cfg") as client:
            print(client.credits().available)

With pytest, the plugin's ``threaded_emulator`` fixture does this for one test. The emulator's
controls (``emu.faults``, ``emu.render``...) may be set from the test's thread as usual.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from nemovideo.testing._server.app import Emulator

__all__ = ["EmulatorThread", "threaded_emulator"]

_WAIT = 60.0


class EmulatorThread:
    """Owns one :class:`Emulator` and the loop thread that serves it (see the module doc).

    ``start()`` returns the started emulator; ``close()`` closes it and ends the thread. A
    notebook keeps the object and calls ``close()`` when done; code uses ``with``.
    """

    def __init__(self, **options: Any) -> None:
        self.emulator = Emulator(**options)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="nemovideo-emulator", daemon=True
        )

    def start(self) -> Emulator:
        """Start the thread and the emulator on it; the started emulator (``.url`` is set)."""
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self.emulator.start(), self._loop)
        try:
            return future.result(_WAIT)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Close the emulator (its temp dir goes) and end the thread; idempotent."""
        if self._loop.is_closed():
            return
        if self._thread.is_alive():
            done = asyncio.run_coroutine_threadsafe(self.emulator.close(), self._loop)
            try:
                done.result(_WAIT)
            finally:
                self._loop.call_soon_threadsafe(self._loop.stop)
                self._thread.join(_WAIT)
        self._loop.close()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def threaded_emulator(**options: Any) -> EmulatorThread:
    """An emulator (``Emulator(**options)``) to serve from its own thread: ``with
    threaded_emulator() as emu:``, or ``.start()`` now and ``.close()`` later."""
    return EmulatorThread(**options)
