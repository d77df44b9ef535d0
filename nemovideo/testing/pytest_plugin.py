"""The pytest plugin (entry point ``nemovideo``): the ``emulator`` and ``nemo_client`` fixtures.

Installed with the package, so every test can name them::

    async def test_credits(nemo_client: nemovideo.NemoClient) -> None:
        assert (await nemo_client.credits()).available == 100

    async def test_retry(emulator: Emulator, nemo_client: nemovideo.NemoClient) -> None:
        emulator.faults.rate_limit(times=1, path="/api/credits")
        await nemo_client.credits()
        assert len(emulator.requests_to("/api/credits")) == 2

``emulator`` is a fresh, started :class:`~nemovideo.testing.Emulator`, closed after the test.
It is served by the test's own event loop, so blocking code cannot use it: a test of a
``SyncNemoClient`` takes ``threaded_emulator`` instead, the same emulator served from a thread of
its own (a plain ``def`` test, no pytest-asyncio needed)::

    def test_sync_credits(threaded_emulator: Emulator, tmp_path: Path) -> None:
        with SyncNemoClient(base_url=threaded_emulator.url, config_dir=tmp_path) as client:
            assert client.credits().available == 100

``nemo_client`` is an open ``NemoClient`` for that emulator (the same one the test's
``emulator`` names) with millisecond waits (:data:`~nemovideo.testing.FAST_SETTINGS`) and its
own config dir under ``tmp_path``; for other settings, build one with
:func:`~nemovideo.testing.fast_client`. Both are async fixtures: they need pytest-asyncio.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

import nemovideo
from nemovideo.testing._fast import fast_client
from nemovideo.testing._server.app import Emulator
from nemovideo.testing._threaded import EmulatorThread

__all__ = ["emulator", "nemo_client", "threaded_emulator"]


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


@pytest.fixture
def threaded_emulator() -> Iterator[Emulator]:
    """A fresh emulator served from a loop thread of its own, free while the test's thread
    blocks in a ``SyncNemoClient`` call (also from an ``async def`` test)."""
    with EmulatorThread() as emu:
        yield emu
