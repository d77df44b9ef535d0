"""The pytest plugin (entry point ``nemovideo``): the ``emulator`` and ``nemo_client`` fixtures.

Installed with the package, so every test can name them::

    async def test_credits(nemo_client: nemovideo.NemoClient) -> None:
        assert (await nemo_client.credits()).available == 100

    async def test_retry(emulator: Emulator, nemo_client: nemovideo.NemoClient) -> None:
        emulator.faults.rate_limit(times=1, path="/api/credits")
        await nemo_client.credits()
        assert len(emulator.requests_to("/api/credits")) == 2

``emulator`` is a fresh, started :class:`~nemovideo.testing.Emulator`, closed after the test.
``nemo_client`` is an open ``NemoClient`` for that emulator (the same one the test's
``emulator`` names) with millisecond waits (:data:`~nemovideo.testing.FAST_SETTINGS`) and its
own config dir under ``tmp_path``; for other settings, build one with
:func:`~nemovideo.testing.fast_client`. Both are async fixtures: they need pytest-asyncio.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

import nemovideo
from nemovideo.testing._fast import fast_client
from nemovideo.testing._server.app import Emulator

__all__ = ["emulator", "nemo_client"]


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """A fresh emulator on loopback (free ports, temporary data dir) for one test."""
    async with Emulator() as emu:
        yield emu


@pytest_asyncio.fixture
async def nemo_client(emulator: Emulator, tmp_path: Path) -> AsyncIterator[nemovideo.NemoClient]:
    """An open client for the test's ``emulator``, with millisecond waits and its own config dir."""
    async with fast_client(emulator, tmp_path / "nemo-client-config") as client:
        yield client
