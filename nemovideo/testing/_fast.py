"""Client settings for tests: every wait in milliseconds, so a suite against the emulator is quick.

The client's defaults wait as the real service needs (2 s between render polls, 30 s before
looking at a dropped chat's state, a second before a retry). Against the emulator those waits
only make tests slow, and a test must never sleep to make time pass::

    async with fast_client(emu, tmp_path / "config") as client:
        job = await (await client.create_session()).export()

    config = nemovideo.ClientConfig(base_url=emu.url, config_dir=tmp_path, **FAST_SETTINGS)

With pytest, the plugin's ``nemo_client`` fixture is ``fast_client(emulator, tmp_path / ...)``.
"""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import nemovideo

if TYPE_CHECKING:
    from nemovideo.testing._server.app import Emulator

__all__ = ["FAST_SETTINGS", "fast_client"]

FAST_SETTINGS = MappingProxyType(
    {
        "rate_limit_wait": 0.01,
        "retry_backoff": 0.001,
        "retry_backoff_max": 0.01,
        "poll_interval": 0.01,
        "poll_initial_interval": 0.01,
        "max_polls": 3000,
        "recovery_first_wait": 0.01,
        "settle_wait": 0.01,
        "recovery_wait": 0.02,
        "heartbeat_notice_interval": 0.05,
        "request_timeout": 20.0,
    }
)
"""``ClientConfig`` fields for tests: millisecond waits, and a request bound a slow CI survives."""


def fast_client(emu: Emulator, config_dir: str | Path, **overrides: Any) -> nemovideo.NemoClient:
    """A ``NemoClient`` for ``emu`` with :data:`FAST_SETTINGS` and its own ``config_dir``.

    Give each test its own ``config_dir``: the client caches its anonymous token there.
    ``overrides`` are further ``ClientConfig`` fields and win over the fast settings::

        >>> import asyncio, tempfile
        >>> from nemovideo.testing import FAST_SETTINGS, Emulator, fast_client
        >>> async def main() -> tuple[float, int]:
        ...     with tempfile.TemporaryDirectory() as tmp:
        ...         async with Emulator() as emu, fast_client(emu, tmp, max_retries=0) as client:
        ...             return client.config.poll_interval, client.config.max_retries
        >>> asyncio.run(main())
        (0.01, 0)
        >>> FAST_SETTINGS["poll_interval"] == 0.01
        True
    """
    options = {**FAST_SETTINGS, **overrides}
    config = nemovideo.ClientConfig(base_url=emu.url, config_dir=Path(config_dir), **options)
    return nemovideo.NemoClient(config=config)
