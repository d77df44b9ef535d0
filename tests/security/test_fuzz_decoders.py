"""Hostile or broken server answers fail as typed ``NemoError``s, never as crashes.

A loopback aiohttp server answers with whatever status, headers and body hypothesis draws; the
client's envelope decoder (``credits()``) and chat event decoder must either return a value or raise
a ``NemoError`` subclass - no ``KeyError``/``TypeError``/``UnicodeDecodeError`` escapes, and a huge
body is cut off at ``max_response_bytes`` instead of being buffered.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nemovideo
from nemovideo.chat._events import decode_data

from ..conftest import serving

Answer = dict[str, Any]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
envelopes = st.fixed_dictionaries(
    {},
    optional={
        "code": st.one_of(st.integers(-5, 5000), st.text(max_size=5), st.none(), st.floats()),
        "data": json_values,
        "message": json_values,
        "msg": st.text(max_size=30),
    },
)
bodies = st.one_of(
    envelopes.map(lambda e: json.dumps(e).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=200),
    st.text(max_size=200).map(str.encode),
)
statuses = st.sampled_from([200, 200, 200, 201, 204, 301, 400, 401, 402, 404, 422, 429, 500, 503])


@pytest.fixture
async def hostile(tmp_path: Path) -> AsyncIterator[tuple[str, Answer]]:
    answer: Answer = {"status": 200, "body": b"{}", "headers": {}}

    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(status=answer["status"], body=answer["body"], headers=answer["headers"])

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    async with serving(app) as url:
        yield url, answer


FAST = {"max_retries": 0, "rate_limit_wait": 0.0, "retry_backoff": 0.0, "retry_backoff_max": 0.0}


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(status=statuses, body=bodies, retry_after=st.sampled_from(["", "0", "x", "-1", "1e9"]))
async def test_envelope_decoder_never_crashes(
    hostile: tuple[str, Answer], tmp_path: Path, status: int, body: bytes, retry_after: str
) -> None:
    url, answer = hostile
    answer.update(status=status, body=body,
                  headers={"Retry-After": retry_after} if retry_after else {})  # fmt: skip
    async with nemovideo.NemoClient(
        base_url=url, token="nmv_usr_fuzz", config_dir=tmp_path, **FAST
    ) as client:
        try:
            credits = await client.credits()
        except nemovideo.NemoError as exc:
            assert "nmv_usr_fuzz" not in str(exc)
        else:
            assert status < 300
            assert isinstance(credits.available, int)


async def test_oversized_answer_is_cut_off(hostile: tuple[str, Answer], tmp_path: Path) -> None:
    url, answer = hostile
    answer.update(body=b'{"code": 0, "data": "' + b"x" * 3_000_000 + b'"}')
    async with nemovideo.NemoClient(
        base_url=url, token="nmv_usr_fuzz", config_dir=tmp_path, max_response_bytes=1_000_000
    ) as client:
        with pytest.raises(nemovideo.APIError, match="exceeds"):
            await client.credits()


@given(data=st.text(max_size=300), event=st.sampled_from(["message", "heartbeat", "error", "x"]))
def test_chat_frame_decoder_never_crashes(data: str, event: str) -> None:
    events = decode_data(data, event)
    assert isinstance(events, list)


@given(obj=json_values)
def test_chat_frame_decoder_takes_any_json(obj: object) -> None:
    assert isinstance(decode_data(json.dumps(obj)), list)
