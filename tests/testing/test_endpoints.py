"""One endpoint table for client and emulator: every documented call served, nothing beside it."""

from __future__ import annotations

import aiohttp
import attrs
import pytest

from nemovideo._http import endpoints as api
from nemovideo.testing import Emulator

from ..conftest import modules_loaded_by


def test_the_table_names_each_documented_call_once() -> None:
    assert len({e.name for e in api.ALL}) == len(api.ALL) == 11
    assert len({(e.method, e.path) for e in api.ALL}) == len(api.ALL)
    assert dict(api.BY_NAME) == {e.name: e for e in api.ALL}
    for e in api.ALL:
        assert e.method in ("GET", "POST") and e.path.startswith("/") and "//" not in e.path
        assert e.envelope in ("code", "render", "none")
    assert [e.name for e in api.ALL if not e.auth] == ["anonymous_token"]
    assert [e.name for e in api.ALL if e.envelope == "render"] == [
        "render_submit", "render_poll", "render_cancel",
    ]  # fmt: skip
    assert not api.CHAT.resend, "a chat message is never re-sent"
    assert api.RENDER_SUBMIT.resend, "a render submit is re-sent with its id"
    assert (api.UPLOAD.placeholders, api.RENDER_CANCEL.placeholders, api.CREDITS.placeholders) == (
        ("sid",), ("id",), (),
    )  # fmt: skip
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        api.CREDITS.path = "/elsewhere"  # type: ignore[misc]


def test_the_emulator_serves_exactly_the_table() -> None:
    """Both directions: each endpoint is a route with its method, each API route is an endpoint."""
    assert Emulator().api_routes == {(e.method, e.path) for e in api.ALL}


async def test_each_endpoint_answers_with_its_method(emulator: Emulator) -> None:
    """Over the socket: the route answers in the service's envelope (not the router's 404),
    and another method on the same path is the router's 405."""
    assert emulator.api_routes == {(e.method, e.path) for e in api.ALL}
    async with aiohttp.ClientSession() as http:
        for e in api.ALL:
            url = emulator.url + e.path.format(**{name: "x1" for name in e.placeholders})
            async with http.request(e.method, url) as resp:
                body = await resp.json()
                assert resp.content_type == "application/json", e.name
                assert body["code"] == (400 if e is api.ANONYMOUS_TOKEN else 1001), e.name
            other = "POST" if e.method == "GET" else "GET"
            if (other, e.path) not in emulator.api_routes:
                async with http.request(other, url) as resp:
                    assert resp.status == 405, e.name


def test_the_table_needs_no_aiohttp_web() -> None:
    loaded = modules_loaded_by("from nemovideo._http import endpoints")
    assert "aiohttp.web" not in loaded, "aiohttp.web imported"
    assert not [m for m in loaded if m.startswith("nemovideo.testing")]
