"""What users of other AI SDKs expect of the client itself, against the emulator over 127.0.0.1:
``with_options`` views over one pool, request ids on every request and every error, ``on_retry``
and ``trace_configs`` hooks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest

import nemovideo
from nemovideo.testing import Emulator, fast_client

CREDITS = "/api/credits/balance/simple"


def request_id(recorded: Any) -> str | None:
    """The ``X-Request-Id`` a recorded request carried (header names are case-insensitive)."""
    return {k.lower(): v for k, v in recorded.headers.items()}.get("x-request-id")


async def test_a_view_shares_the_pool_and_token_but_keeps_its_own_retries(
    emulator: Emulator, nemo_client: nemovideo.NemoClient
) -> None:
    await nemo_client.credits()
    strict = nemo_client.with_options(max_retries=0, request_timeout=5)
    mine, theirs = strict._transport, nemo_client._transport  # noqa: SLF001
    assert mine.pool is theirs.pool, "one connection pool"
    assert mine.auth is theirs.auth, "one token (one renewal serves both)"
    assert strict.config.max_retries == 0 and nemo_client.config.max_retries == 2
    emulator.faults.server_error(times=1, path=CREDITS)
    with pytest.raises(nemovideo.ServerError):
        await strict.credits()  # the view does not retry...
    emulator.faults.server_error(times=1, path=CREDITS)
    assert (await nemo_client.credits()).available is not None  # ...the client does
    token_calls = emulator.requests_to("/api/auth/anonymous-token")
    assert len(token_calls) == 1, "the view used the client's token"
    await strict.aclose()
    assert not nemo_client.closed, "closing a view closes nothing"
    await nemo_client.credits()
    await nemo_client.aclose()
    assert strict.closed
    with pytest.raises(nemovideo.ClientClosedError):
        await strict.credits()


async def test_a_view_cannot_change_the_connection_and_options_are_checked(
    nemo_client: nemovideo.NemoClient,
) -> None:
    with pytest.raises(nemovideo.ValidationError, match="base_url"):
        nemo_client.with_options(base_url="https://elsewhere.example")
    with pytest.raises(TypeError, match="request_timout"):
        nemo_client.with_options(request_timout=5)  # type: ignore[call-arg]
    with pytest.raises(nemovideo.ValidationError, match="max_retries"):
        nemo_client.with_options(max_retries=-1)


async def test_every_request_carries_a_request_id_and_errors_keep_it(
    emulator: Emulator, nemo_client: nemovideo.NemoClient
) -> None:
    await nemo_client.credits()
    await nemo_client.credits()
    ids = [request_id(r) for r in emulator.requests]
    assert all(ids) and len(set(ids)) == len(ids), "one fresh id per request"
    emulator.faults.error(2001, path=CREDITS)
    with pytest.raises(nemovideo.InsufficientCreditsError) as caught:
        await nemo_client.credits()
    assert caught.value.request_id == request_id(emulator.requests[-1])
    assert caught.value.request_id in repr(caught.value)


async def test_replies_and_results_carry_the_request_id(
    emulator: Emulator, nemo_client: nemovideo.NemoClient
) -> None:
    session = await nemo_client.create_session()
    await session.upload(nemovideo.testing.sample_images())
    reply = await session.send("turn these images into a 4-second video")
    chat = emulator.requests_to("/run_sse", "POST")[-1]
    assert reply.request_id == request_id(chat)
    emulator.render.width, emulator.render.height, emulator.render.fps = 320, 180, 10
    job = await session.export()
    result = await job.wait()
    poll = emulator.requests_to(f"/api/render/proxy/lambda/{job.id}", "GET")[-1]
    assert result.request_id == request_id(poll)


async def test_on_retry_sees_each_retry_with_its_wait(emulator: Emulator, tmp_path: Path) -> None:
    seen: list[tuple[str, type, float]] = []

    def on_retry(call: Any, error: nemovideo.NemoError, wait: float) -> None:
        seen.append((call.describe(), type(error), wait))

    config = nemovideo.ClientConfig(base_url=emulator.url, config_dir=tmp_path, max_retries=2,
                                    retry_backoff=0.001, retry_backoff_max=0.01)  # fmt: skip
    async with nemovideo.NemoClient(config=config, on_retry=on_retry) as client:
        await client.credits()
        emulator.faults.server_error(times=2, path=CREDITS)
        await client.credits()
    assert [(d, t) for d, t, _ in seen] == [(f"GET {CREDITS}", nemovideo.ServerError)] * 2
    assert all(0 <= wait <= 0.01 for _, _, wait in seen)


async def test_trace_configs_see_every_request(emulator: Emulator, tmp_path: Path) -> None:
    started: list[str] = []

    async def on_start(_session: Any, _ctx: Any, params: aiohttp.TraceRequestStartParams) -> None:
        started.append(f"{params.method} {params.url.path}")

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    config = nemovideo.ClientConfig(base_url=emulator.url, config_dir=tmp_path)
    async with nemovideo.NemoClient(config=config, trace_configs=[trace]) as client:
        await client.credits()
    assert started == ["POST /api/auth/anonymous-token", f"GET {CREDITS}"]


async def test_a_typo_in_an_option_is_refused(emulator: Emulator, tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="request_timout"):
        fast_client(emulator, tmp_path, request_timout=5)
