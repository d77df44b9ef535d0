"""Fixtures for the interop tests: real ADK servers (one per major version, started once per test
run and stopped by pid) and ``peer``, an emulator whose ``/run_sse`` is forwarded to one of them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

import nemovideo
from nemovideo.testing import Emulator, fast_client

from ._peer import Peer
from ._server import AdkServer, start


@pytest.fixture(scope="session")
def adk_servers() -> Iterator[dict[str, AdkServer]]:
    servers: dict[str, AdkServer] = {}
    yield servers
    for server in servers.values():
        server.stop()


@pytest.fixture(params=["2", "1"], ids=["adk2", "adk1"])
def adk(request: pytest.FixtureRequest, adk_servers: dict[str, AdkServer]) -> AdkServer:
    """A running ``adk api_server``: google-adk 2.x, then 1.20."""
    major: str = request.param
    if major not in adk_servers:
        adk_servers[major] = start(major)
    return adk_servers[major]


@pytest.fixture
async def peer(adk: AdkServer, emulator: Emulator, tmp_path: Path) -> AsyncIterator[Peer]:
    emulator.chat.upstream = adk.url
    async with fast_client(emulator, tmp_path / "config") as client:
        session = await client.create_session()
        yield Peer(emulator, client, session, adk.version)


@pytest.fixture
async def session(nemo_client: nemovideo.NemoClient) -> nemovideo.Session:
    return await nemo_client.create_session()
