"""Retry coverage users expect, and every request on the wire one the policy chose: 408 and 425
are retried for calls safe to repeat; ``Retry-After`` is honoured on 503 as on 429; an envelope
code in the 500s on HTTP 200 is a ``ServerError`` (a render submit refused so is sent once more
with a new id); aiohttp never re-sends a request behind the policy's back when a reused
keep-alive connection drops."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

import nemovideo
from nemovideo.testing.drafts import example_draft

from ._hostile import (
    CHAT,
    SESSION_ID,
    Hostile,
    chat,
    client_for,
    envelope,
    expect_error,
    json_text,
    outcome,
    reply,
    sequence,
    sse,
)

CREDITS = "/api/credits/balance/simple"
SUBMIT = "/api/render/proxy/lambda"
BALANCE = {"available": 7, "frozen": 0, "total": 7}


def status(code: int, headers: dict[str, str] | None = None) -> Any:
    return reply(code, b'{"detail": "try again"}', {"Content-Type": "application/json",
                                                     **(headers or {})})  # fmt: skip


@pytest.mark.parametrize("code", [408, 425])
async def test_408_and_425_are_retried_for_calls_safe_to_repeat(
    hostile: Hostile, tmp_path: Path, secret: str, code: int
) -> None:
    hostile.on("GET", CREDITS, sequence(status(code), envelope(BALANCE)))
    seen: list[tuple[str, float]] = []
    async with client_for(hostile, tmp_path, secret,
                          on_retry=lambda c, e, w: seen.append((c.path, w))) as client:  # fmt: skip
        result = await outcome(client.credits())
    assert isinstance(result, nemovideo.Credits), repr(result)
    assert hostile.count("GET", CREDITS) == 2 and len(seen) == 1


@pytest.mark.parametrize("code", [408, 425, 503])
async def test_a_chat_message_is_never_resent_on_408_425_or_503(
    hostile: Hostile, tmp_path: Path, secret: str, code: int
) -> None:
    answer = sequence(status(code, {"Retry-After": "0"}), sse([]))
    error = await chat(hostile, tmp_path, secret, answer)
    assert isinstance(error, nemovideo.APIError), repr(error)
    assert hostile.count("POST", CHAT) == 1


async def test_retry_after_on_503_is_honoured(
    hostile: Hostile, tmp_path: Path, secret: str
) -> None:
    hostile.on("GET", CREDITS, sequence(status(503, {"Retry-After": "0.05"}), envelope(BALANCE)))
    waits: list[float] = []
    async with client_for(hostile, tmp_path, secret,
                          on_retry=lambda c, e, w: waits.append(w)) as client:  # fmt: skip
        loop = asyncio.get_running_loop()
        started = loop.time()
        result = await outcome(client.credits())
        elapsed = loop.time() - started
    assert isinstance(result, nemovideo.Credits), repr(result)
    assert waits == [0.05] and elapsed >= 0.05
    assert hostile.count("GET", CREDITS) == 2


async def test_a_long_retry_after_on_503_raises_at_once(
    hostile: Hostile, tmp_path: Path, secret: str
) -> None:
    hostile.on("GET", CREDITS, status(503, {"Retry-After": "3600"}))
    async with client_for(hostile, tmp_path, secret) as client:
        error = await expect_error(client.credits(), limit=3.0)
    assert isinstance(error, nemovideo.ServerError), repr(error)
    assert error.retry_after == 3600.0
    assert hostile.count("GET", CREDITS) == 1


@pytest.mark.parametrize("code", [500, 502, 503, "503", 599.0])
async def test_an_envelope_code_in_the_500s_on_http_200_is_a_server_error(
    hostile: Hostile, tmp_path: Path, secret: str, code: Any
) -> None:
    hostile.on("GET", CREDITS, sequence(envelope(None, code, message="busy"), envelope(BALANCE)))
    async with client_for(hostile, tmp_path, secret, max_retries=0) as client:
        error = await expect_error(client.credits())
        assert isinstance(error, nemovideo.ServerError), repr(error)
        assert error.http_status == 200 and error.code == int(float(code))
        hostile.seen.clear()
        result = await outcome(client.with_options(max_retries=1).credits())
    assert isinstance(result, nemovideo.Credits), repr(result)
    assert hostile.count("GET", CREDITS) == 1


@pytest.mark.parametrize("code", [7777, 600, 499, 1])
async def test_other_unknown_codes_stay_api_errors(
    hostile: Hostile, tmp_path: Path, secret: str, code: int
) -> None:
    hostile.on("GET", CREDITS, envelope(None, code, message="odd"))
    async with client_for(hostile, tmp_path, secret) as client:
        error = await expect_error(client.credits())
    assert type(error) is nemovideo.APIError, repr(error)
    assert hostile.count("GET", CREDITS) == 1


async def test_a_render_submit_refused_with_a_500s_code_is_sent_once_more_with_a_new_id(
    hostile: Hostile, tmp_path: Path, secret: str
) -> None:
    hostile.on("POST", SUBMIT, sequence(
        envelope(None, 500, message="render farm busy"),
        json_text('{"success": true, "data": {"status": "pending", "progress": 5}}')))  # fmt: skip
    async with client_for(hostile, tmp_path, secret) as client:
        job = await outcome(client.session(SESSION_ID).export(draft=example_draft()))
    assert isinstance(job, nemovideo.RenderJob), repr(job)
    ids = [json.loads(s.body)["id"] for s in hostile.requests("POST", SUBMIT)]
    assert len(ids) == 2 and ids[0] != ids[1] and job.id == ids[1]


async def test_a_render_submit_refused_twice_raises(
    hostile: Hostile, tmp_path: Path, secret: str
) -> None:
    hostile.on("POST", SUBMIT, envelope(None, 503, message="render farm busy"))
    async with client_for(hostile, tmp_path, secret) as client:
        error = await expect_error(client.session(SESSION_ID).export(draft=example_draft()))
    assert isinstance(error, nemovideo.ServerError), repr(error)
    assert hostile.count("POST", SUBMIT) == 2


# -- a reused keep-alive connection that drops ------------------------------------------------


class DropOnReuse:
    """A raw-socket HTTP/1.1 server: the first request of each connection gets a keep-alive
    answer; a second request on the same connection is read whole, then the socket is closed
    without a byte of answer (what a server does when its idle timeout races the request)."""

    def __init__(self) -> None:
        self.requests: list[bytes] = []
        self._server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> DropOnReuse:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        body = json.dumps({"code": 0, "data": BALANCE}).encode()
        try:
            for index in range(2):
                head = await reader.readuntil(b"\r\n\r\n")
                self.requests.append(head)
                if index == 1:
                    break
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Connection: keep-alive\r\nContent-Length: %d\r\n\r\n%s"
                             % (len(body), body))  # fmt: skip
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.mark.parametrize("max_retries", [0, 1])
async def test_a_dropped_reused_connection_is_resent_only_by_the_policy(
    tmp_path: Path, secret: str, max_retries: int
) -> None:
    retries: list[str] = []
    async with DropOnReuse() as srv:
        options: dict[str, Any] = {"base_url": srv.url, "trust_env": False,
                                   "config_dir": tmp_path / "cfg", "max_retries": max_retries,
                                   "retry_backoff": 0.001, "request_timeout": 2}  # fmt: skip
        async with nemovideo.NemoClient(token=secret, **options,
                                        on_retry=lambda c, e, w: retries.append(c.path)) as client:  # fmt: skip
            first = await outcome(client.credits())
            assert isinstance(first, nemovideo.Credits), repr(first)
            second = await outcome(client.credits())
    if max_retries == 0:
        assert isinstance(second, nemovideo.TransportError), repr(second)
        assert len(srv.requests) == 2, "the request reached the server once (no hidden re-send)"
        assert retries == []
    else:
        assert isinstance(second, nemovideo.Credits), repr(second)
        assert len(srv.requests) == 3, "one re-send, and the policy made it"
        assert retries == [CREDITS]
