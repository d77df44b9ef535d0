"""The request pipeline against the emulator over 127.0.0.1: headers, retries, timeouts."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

import nemovideo
from nemovideo import errors
from nemovideo._http import endpoints as api
from nemovideo.testing import Emulator, fast_client

from ..conftest import serving

ATTRIBUTION = ("X-Skill-Source", "X-Skill-Version", "X-Skill-Platform")


@pytest.fixture
async def signed_in(nemo_client: nemovideo.NemoClient) -> nemovideo.NemoClient:
    """``client`` once it holds its token (one ``credits()`` made), so the requests a test counts
    and the faults it arms next meet only the calls under test."""
    await nemo_client.credits()
    return nemo_client


def _api_requests(emu: Emulator) -> list[object]:
    return list(emu.requests)


async def test_every_request_carries_attribution_headers(
    emulator: Emulator, nemo_client: nemovideo.NemoClient
) -> None:
    await nemo_client.credits()
    session = await nemo_client.create_session(language="en")
    await session.state()
    await session.claim_link()
    assert len(emulator.requests) >= 5
    for req in emulator.requests:
        headers = {k.lower(): v for k, v in req.headers.items()}
        for name in ATTRIBUTION:
            assert headers.get(name.lower()), f"{req.method} {req.path} lacks {name}"
        assert headers["x-skill-source"] == "free-image-to-video-generator"
        assert headers["x-skill-version"] == "1.0.0"
        if "anonymous-token" not in req.path:
            assert headers["authorization"].startswith("Bearer nmv_usr_")


async def test_http_error_without_json_body(
    emulator: Emulator, signed_in: nemovideo.NemoClient
) -> None:
    emulator.faults.server_error(times=10, status=502, body=False, path="/api/credits")
    with pytest.raises(nemovideo.ServerError) as info:
        await signed_in.credits()
    assert info.value.http_status == 502


async def test_429_retried_once_after_advertised_wait(
    emulator: Emulator, signed_in: nemovideo.NemoClient
) -> None:
    emulator.faults.rate_limit(times=1, retry_after=0.2, path="/api/credits")
    assert (await signed_in.credits()).available == 100
    hits = emulator.requests_to("/api/credits")[-2:]
    assert hits[1].time - hits[0].time >= 0.2


async def test_429_without_retry_after_uses_configured_wait(
    emulator: Emulator, tmp_path: Path
) -> None:
    async with fast_client(emulator, tmp_path, rate_limit_wait=0.15) as client:
        await client.credits()
        emulator.error_style = "status"
        emulator.faults.error(429, times=1, path="/api/credits")
        await client.credits()
        hits = emulator.requests_to("/api/credits")[-2:]
        assert hits[1].time - hits[0].time >= 0.15


async def test_get_retried_on_5xx_and_reset_but_post_is_not(
    emulator: Emulator, signed_in: nemovideo.NemoClient
) -> None:
    emulator.faults.server_error(times=2, status=503, path="/api/credits")
    assert (await signed_in.credits()).total == 100
    emulator.faults.reset_connection(times=1, path="/api/credits")
    assert (await signed_in.credits()).total == 100

    emulator.faults.server_error(times=1, status=503, path="/with-session")
    with pytest.raises(nemovideo.ServerError):
        await signed_in.create_session()
    emulator.faults.reset_connection(times=1, path="/with-session")
    with pytest.raises(nemovideo.TransportError):
        await signed_in.create_session()
    assert len(emulator.requests_to("/with-session")) == 2


async def test_unreachable_host_is_a_transport_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = nemovideo.ClientConfig(
        base_url=f"http://127.0.0.1:{port}", config_dir=tmp_path, token="nmv_usr_x",
        max_retries=1, retry_backoff=0.001,
    )  # fmt: skip
    async with nemovideo.NemoClient(config=cfg) as client:
        with pytest.raises(nemovideo.TransportError) as info:
            await client.credits()
    assert "nmv_usr_x" not in str(info.value)
    assert f"cannot connect to 127.0.0.1:{port}" in str(info.value)
    assert "ssl:default" not in str(info.value), "aiohttp's connection details stay out"


async def test_request_timeout_holds_with_the_callers_own_http_session(
    emulator: Emulator, tmp_path: Path
) -> None:
    """An app's ``aiohttp.ClientSession`` (default: 5 minutes) does not lift ``request_timeout``."""
    async with aiohttp.ClientSession() as shared:
        config = nemovideo.ClientConfig(
            base_url=emulator.url, config_dir=tmp_path, request_timeout=0.2, max_retries=0
        )
        async with nemovideo.NemoClient(config=config, http_session=shared) as client:
            await client.credits()
            emulator.faults.delay(2.0, path="/api/credits")
            with pytest.raises(nemovideo.TransportError, match=r"GET /api/credits\S* timed out"):
                await client.credits()
            assert [f.kind for f in emulator.faults.fired] == ["delay"]
            assert (await client.credits()).total >= 0, "the next request is unaffected"
        assert not shared.closed, "the caller's session stays open"


def test_retry_after_parsing() -> None:
    assert errors.parse_retry_after("2.5") == 2.5
    assert errors.parse_retry_after(None) is None
    assert errors.parse_retry_after("soon") is None
    when = errors.parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0)
    assert when == 10.0


@pytest.mark.parametrize(
    ("encoding", "boms"),
    [("utf-8", 0), ("utf-8", 1), ("utf-16", 0), ("utf-16-le", 0), ("utf-32-le", 0), ("utf-8", 2)],
    ids=[
        "UTF-8",
        "one UTF-8 BOM",
        "UTF-16 with its BOM",
        "UTF-16-LE without a BOM",
        "UTF-32-LE without a BOM",
        "two UTF-8 BOMs",
    ],
)
async def test_an_answer_is_read_as_json_loads_reads_its_bytes(
    tmp_path: Path, encoding: str, boms: int
) -> None:
    """json.loads(bytes) takes one BOM and UTF-16/32, with a BOM or without (an object whose
    second byte is NUL); a second BOM makes the body not JSON."""
    body = '{"code": 0, "data": {"available": 5, "frozen": 1}}'.encode(encoding)
    body = b"\xef\xbb\xbf" * boms + body

    async def credits(_: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_get(api.CREDITS.path, credits)
    async with serving(app) as url:
        client = nemovideo.NemoClient(base_url=url, token="nmv_usr_bomtest", config_dir=tmp_path)
        async with client:
            if boms < 2:
                assert (await client.credits()).total == 6
            else:
                with pytest.raises(nemovideo.APIError, match="not JSON"):
                    await client.credits()
