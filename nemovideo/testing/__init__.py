"""``nemovideo.testing``: a local NemoVideo emulator for offline development and tests.

    from nemovideo.testing import Emulator, fast_client

    async with Emulator() as emu:
        emu.faults.rate_limit(times=1, path="/api/credits")
        async with fast_client(emu, config_dir) as client:   # millisecond waits
            await client.credits()            # retried once after the advertised wait
        assert len(emu.requests_to("/api/credits")) == 2

With pytest, this package's plugin gives each test a fresh started ``emulator`` and a
``nemo_client`` for it, and ``threaded_emulator`` (served from its own thread) for tests of
blocking code (``SyncNemoClient``); outside pytest, ``with threaded_emulator() as emu:``. From a shell: ``python -m nemovideo.testing --port 8765``.
"""

from __future__ import annotations

from nemovideo.testing._chat.controls import ChatControls
from nemovideo.testing._fast import FAST_SETTINGS, fast_client, offline_client
from nemovideo.testing._render.controls import RenderControls
from nemovideo.testing._render.ffmpeg import make_sample_image
from nemovideo.testing._render.job import RenderRecord
from nemovideo.testing._server.app import Emulator
from nemovideo.testing._server.store import RecordedRequest
from nemovideo.testing._threaded import EmulatorThread, threaded_emulator
from nemovideo.testing._upload.samples import sample_images
from nemovideo.testing.faults import Faults

__all__ = [
    "FAST_SETTINGS",
    "ChatControls",
    "Emulator",
    "EmulatorThread",
    "Faults",
    "RecordedRequest",
    "RenderControls",
    "RenderRecord",
    "fast_client",
    "make_sample_image",
    "offline_client",
    "sample_images",
    "threaded_emulator",
]
