"""A chat stream's waits, for its headers and then for each chunk, are bounded by a timer on the
task itself (``_util.deadline``, not a task of its own), so their two endings must stay apart:
the timer ends in ``StreamTimeoutError`` (or a waiting notice) and leaves the task uncancelled; a
cancellation from outside passes through as ``CancelledError``. Either way the message was
POSTed once."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

import nemovideo
from nemovideo._http import endpoints as api
from nemovideo.testing import FAST_SETTINGS

from ..conftest import serving


class Silent:
    """A server that reads the chat message and never answers it (no headers, ever), or with
    ``speak=True`` answers one text frame and then says nothing more."""

    def __init__(self, speak: bool = False) -> None:
        self.speak = speak
        self.posts = 0
        self.posted = asyncio.Event()
        self.stop = asyncio.Event()
        self.app = web.Application()
        self.app.router.add_get(api.STATE.path, self.state)
        self.app.router.add_post(api.CHAT.path, self.chat)

    async def state(self, request: web.Request) -> web.Response:
        return web.json_response({"code": 0, "data": {"state": {"draft": {"t": []}}}})

    async def chat(self, request: web.Request) -> web.StreamResponse:
        await request.read()
        self.posts += 1
        if not self.speak:
            self.posted.set()
            await self.stop.wait()  # past the client's patience: set when the test ends
            return web.Response(status=503)
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(b'data: {"content": {"parts": [{"text": "Working on it"}]}}\n\n')
        self.posted.set()
        await self.stop.wait()
        return resp


@pytest.fixture(params=[False, True], ids=["no headers", "one frame then silence"])
async def silent(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Silent, str]]:
    server = Silent(speak=request.param)
    async with serving(server.app) as url:
        try:
            yield server, url
        finally:
            server.stop.set()  # lets the held handler end, so the server stops at once


def client_for(url: str, tmp_path: Path, **options: Any) -> nemovideo.NemoClient:
    settings = {**FAST_SETTINGS, **options}
    config = nemovideo.ClientConfig(
        base_url=url, token="nmv_usr_scaletest123", config_dir=tmp_path, **settings
    )
    return nemovideo.NemoClient(config=config)


async def read_all(session: nemovideo.Session) -> list[Any]:
    async with session.chat("add lo-fi BGM") as stream:
        return [event async for event in stream]


async def test_silence_past_the_bound_is_a_stream_timeout_and_the_task_is_not_left_cancelled(
    silent: tuple[Silent, str], tmp_path: Path
) -> None:
    server, url = silent
    notices: list[float] = []
    options = {"stream_idle_timeout": 0.3, "heartbeat_notice_interval": 0.05}
    async with client_for(url, tmp_path, **options) as client:
        expected = "no content" if server.speak else "NOT re-sent"
        with pytest.raises(nemovideo.StreamTimeoutError, match=expected):
            async with client.session("5529798706024415232").chat(
                "add lo-fi BGM", on_waiting=notices.append
            ) as stream:
                async for _ in stream:
                    pass
        if server.speak:
            assert stream.text == "Working on it"
            assert len(notices) >= 2, "each quiet notice interval was a waiting notice"
        task = asyncio.current_task()
        assert task is not None
        if sys.version_info >= (3, 11):
            assert task.cancelling() == 0, "the timer's own cancellation was withdrawn"
        await asyncio.sleep(0)  # a cancellation left pending would raise here
        assert (await client.session("5529798706024415232").state()).draft.tracks == ()
    assert server.posts == 1, "never re-sent"


async def test_a_cancellation_from_outside_passes_through_while_waiting(
    silent: tuple[Silent, str], tmp_path: Path
) -> None:
    server, url = silent
    async with client_for(url, tmp_path, stream_idle_timeout=30.0) as client:
        task = asyncio.ensure_future(read_all(client.session("5529798706024415232")))
        await server.posted.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert task.cancelled(), "a cancellation, not a StreamTimeoutError"
    assert server.posts == 1
