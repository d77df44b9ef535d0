"""Connection limits and an injected session (issue 21): ``max_connections`` bounds the pool
like httpx's ``Limits``; a ``SyncNemoClient`` takes the session a function makes on its loop."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest

import nemovideo
from nemovideo.sync import SyncNemoClient
from nemovideo.testing import Emulator

from ..conftest import FAST


def counting() -> tuple[aiohttp.TraceConfig, dict[str, int]]:
    """A trace config counting new connections and requests."""
    seen = {"connections": 0, "requests": 0}
    trace = aiohttp.TraceConfig()

    async def opened(*_: Any) -> None:
        seen["connections"] += 1

    async def requested(*_: Any) -> None:
        seen["requests"] += 1

    trace.on_connection_create_end.append(opened)
    trace.on_request_start.append(requested)
    return trace, seen


@pytest.mark.parametrize("option", ["max_connections", "max_connections_per_host"])
async def test_max_connections_bounds_the_pool(
    emulator: Emulator, tmp_path: Path, option: str
) -> None:
    trace, seen = counting()
    emulator.faults.delay(0.05, times=16, path="/api/credits")  # all 16 in flight at once
    config = nemovideo.ClientConfig(base_url=emulator.url, config_dir=tmp_path, **FAST)
    client = nemovideo.NemoClient(config=config.evolve(**{option: 2}), trace_configs=[trace])
    async with client:
        await client.credits()  # the token first
        seen["connections"] = 0
        results = await asyncio.gather(*(client.credits() for _ in range(16)))
    assert {r.available for r in results} == {100}
    assert 1 <= seen["connections"] <= 2


async def test_without_a_limit_concurrent_calls_open_their_own_connections(
    emulator: Emulator, tmp_path: Path
) -> None:
    trace, seen = counting()
    emulator.faults.delay(0.05, times=8, path="/api/credits")
    config = nemovideo.ClientConfig(base_url=emulator.url, config_dir=tmp_path, **FAST)
    async with nemovideo.NemoClient(config=config, trace_configs=[trace]) as client:
        await client.credits()
        seen["connections"] = 0
        await asyncio.gather(*(client.credits() for _ in range(8)))
    assert seen["connections"] == 7, "one kept-alive connection reused, seven new ones"


def test_max_connections_must_be_a_count(tmp_path: Path) -> None:
    with pytest.raises(nemovideo.ValidationError, match="max_connections"):
        nemovideo.ClientConfig(config_dir=tmp_path, max_connections=-1)


def test_a_sync_client_uses_the_session_its_function_makes(
    threaded_emulator: Emulator, tmp_path: Path
) -> None:
    trace, seen = counting()
    made: list[aiohttp.ClientSession] = []

    def session() -> aiohttp.ClientSession:
        made.append(aiohttp.ClientSession(trace_configs=[trace]))
        return made[-1]

    options: dict[str, Any] = {**FAST, "http_session": session}
    with SyncNemoClient(base_url=threaded_emulator.url, config_dir=tmp_path, **options) as c:
        assert c.credits().available == 100
    assert len(made) == 1 and seen["requests"] == 2, "token and credits went through it"
    assert made[0].closed, "close() closed the session it made"


def test_a_sync_client_refuses_a_session_made_elsewhere(tmp_path: Path) -> None:
    async def make() -> aiohttp.ClientSession:
        return aiohttp.ClientSession()

    loop = asyncio.new_event_loop()
    try:
        session = loop.run_until_complete(make())
        with pytest.raises(nemovideo.ValidationError, match="lambda"):
            SyncNemoClient(config_dir=tmp_path, http_session=session)
        loop.run_until_complete(session.close())
    finally:
        loop.close()
    bad = SimpleNamespace()
    with pytest.raises(nemovideo.ValidationError, match="http_session"):
        SyncNemoClient(config_dir=tmp_path, http_session=lambda: bad)  # type: ignore[arg-type]


async def test_the_client_fixture_still_opens_freely(nemo_client: nemovideo.NemoClient) -> None:
    assert nemo_client.config.max_connections == 0 == nemo_client.config.limits.max_connections
