"""Client settings for tests: every wait in milliseconds, so a suite against the emulator is quick.

The client's defaults wait as the real service needs (2 s between render polls, 30 s before
looking at a dropped chat's state, a second before a retry). Against the emulator those waits
only make tests slow, and a test must never sleep to make time pass::

    async with fast_client(emu, tmp_path / "config") as client:
        job = await (await client.create_session()).export()

    config = nemovideo.ClientConfig(base_url=emu.url, config_dir=tmp_path, **FAST_SETTINGS)

Outside a test (a notebook, a doctest, a script trying the SDK) ``offline_client()`` brings its
own emulator and configuration folder, and removes both on the way out.

With pytest, the plugin's ``nemo_client`` fixture is ``fast_client(emulator, tmp_path / ...)``.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import nemovideo

if TYPE_CHECKING:
    from nemovideo.testing._server.app import Emulator

__all__ = ["FAST_SETTINGS", "fast_client", "offline_client"]

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


@contextlib.asynccontextmanager
async def offline_client(**overrides: Any) -> AsyncIterator[nemovideo.NemoClient]:
    """A started emulator and a :func:`fast_client` for it in a temporary configuration folder,
    all stopped and removed on exit: the SDK end to end in one line, with no account and no
    network (what the reference's examples use)::

        >>> import asyncio
        >>> from nemovideo.testing import offline_client
        >>> async def main() -> int:
        ...     async with offline_client(max_retries=0) as client:
        ...         return (await client.credits()).available
        >>> asyncio.run(main()) > 0
        True

    ``overrides`` are ``ClientConfig`` fields, as for :func:`fast_client`; a bad one raises
    ``ValidationError`` before anything is started.
    """
    from nemovideo.testing._server.app import Emulator

    nemovideo.ClientConfig(base_url="http://127.0.0.1:1", **{**FAST_SETTINGS, **overrides})
    with tempfile.TemporaryDirectory(prefix="nemovideo-offline-") as tmp:
        async with Emulator() as emu, fast_client(emu, tmp, **overrides) as client:
            yield client
