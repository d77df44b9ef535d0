"""``nemovideo.testing``: a local NemoVideo emulator for offline development and tests.

    from nemovideo.testing import Emulator

    async with Emulator() as emu:
        emu.faults.rate_limit(times=1, path="/api/credits")
        async with nemovideo.NemoClient(config=nemovideo.ClientConfig(base_url=emu.url)) as c:
            await c.credits()                 # retried once after the advertised wait
        assert len(emu.requests_to("/api/credits")) == 2

With pytest, the ``emulator`` fixture (this package's pytest plugin) yields a fresh started one per
test. From a shell: ``python -m nemovideo.testing --port 8765``.
"""

from __future__ import annotations

from ._app import Emulator
from ._chat_controls import ChatControls
from ._render import RenderControls
from ._samples import sample_images
from ._store import RecordedRequest
from .faults import Faults

__all__ = [
    "ChatControls",
    "Emulator",
    "Faults",
    "RecordedRequest",
    "RenderControls",
    "sample_images",
]
