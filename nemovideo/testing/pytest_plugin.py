"""The pytest plugin (entry point ``nemovideo``): an ``emulator`` fixture.

    async def test_credits(emulator: Emulator) -> None:
        async with aiohttp.ClientSession() as http:
            ...  # talk to emulator.url

Each test gets a fresh, started :class:`~nemovideo.testing.Emulator` that is closed afterwards.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from ._app import Emulator

__all__ = ["emulator"]


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """A fresh emulator on loopback (free ports, temporary data dir) for one test."""
    async with Emulator() as emu:
        yield emu
