"""Hostile chat endpoints: silence before the headers, pages that are not event streams, frames
nested 100,000 deep, pre-stream failures in ADK's shapes. The message is POSTed exactly once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import nemovideo

from ._hostile import (
    CHAT,
    Handler,
    Hostile,
    assert_no_secret,
    chat,
    hang,
    html,
    json_text,
    nested,
    raw,
    reply,
    sse,
)

HOW = ["send", "stream"]


@pytest.mark.parametrize("how", HOW)
async def test_a_server_that_never_sends_headers_times_out_and_posts_once(
    hostile: Hostile, tmp_path: Path, secret: str, how: str
) -> None:
    result = await chat(hostile, tmp_path, secret, hang(), how, stream_idle_timeout=0.3)
    assert isinstance(result, nemovideo.StreamTimeoutError), repr(result)
    assert hostile.count("POST", CHAT) == 1, "never re-sent"


@pytest.mark.parametrize("how", HOW)
async def test_a_stream_that_goes_silent_after_the_headers_times_out_and_posts_once(
    hostile: Hostile, tmp_path: Path, secret: str, how: str
) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"
    answer = raw(head + b'data: {"type": "text", "content": "working"}\n\n', close=False)
    result = await chat(hostile, tmp_path, secret, answer, how)
    assert isinstance(result, nemovideo.StreamTimeoutError), repr(result)
    assert hostile.count("POST", CHAT) == 1


@pytest.mark.parametrize(
    "answer",
    [
        html(200, "<html><body>Sign in, {auth}</body></html>"),
        reply(200, "plain words for {token}", {"Content-Type": "text/plain"}),
        reply(200, b"\xff\xfe\x00garbage", {"Content-Type": "application/octet-stream"}),
        json_text('{"code": 0, "data": {"echo": "{token}"}}'),
    ],
    ids=["html", "text", "binary", "json-envelope"],
)
@pytest.mark.parametrize("how", HOW)
async def test_a_200_that_is_not_an_event_stream_is_a_typed_error(
    hostile: Hostile, tmp_path: Path, secret: str, caplog: pytest.LogCaptureFixture,
    answer: Handler, how: str,
) -> None:  # fmt: skip
    result = await chat(hostile, tmp_path, secret, answer, how)
    assert isinstance(result, nemovideo.APIError), repr(result)
    assert hostile.count("POST", CHAT) == 1
    assert_no_secret([secret], error=result, records=caplog.records)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (json_text('{"detail": "Session not found: 5529798706024415232"}', 404),
         nemovideo.SessionNotFoundError),
        (json_text('{"detail": [{"loc": ["body", "session_id"], "msg": "Field required"}]}', 422),
         nemovideo.APIError),
        (reply(500, "Internal Server Error", {"Content-Type": "text/plain"}), nemovideo.ServerError),
        (html(502), nemovideo.ServerError),
        (json_text('{"code": 1002, "message": "no session"}'), nemovideo.SessionNotFoundError),
        (json_text('{"code": "2001", "message": "no credits"}'), nemovideo.InsufficientCreditsError),
    ],
    ids=["404-detail", "422-list", "500-text", "502-html", "1002", "2001-string"],
)  # fmt: skip
@pytest.mark.parametrize("how", HOW)
async def test_a_pre_stream_failure_is_typed_and_never_resent(
    hostile: Hostile, tmp_path: Path, secret: str, caplog: pytest.LogCaptureFixture,
    answer: Handler, expected: type[Exception], how: str,
) -> None:  # fmt: skip
    result = await chat(hostile, tmp_path, secret, answer, how)
    assert isinstance(result, expected), repr(result)
    assert hostile.count("POST", CHAT) == 1
    assert_no_secret([secret], error=result, records=caplog.records)


DEEP = 100_000


@pytest.mark.parametrize(
    "frame",
    [
        "data: " + nested(DEEP) + "\n\n",
        'data: {"content": {"parts": ' + nested(DEEP) + "}}\n\n",
        'data: {"error": ' + '{"error":' * DEEP + '"x"' + "}" * DEEP + "}\n\n",
        "event: error\ndata: " + nested(DEEP) + "\n\n",
        "data: " + nested(900) + "\n\n",
        'data: {"content": {"parts": [{"text": "hi", "x": ' + nested(900) + "}]}}\n\n",
        'data: {"content": {"parts": [{"functionCall": {"name": "edit", "args": '
        + nested(900)
        + "}}]}}\n\n",
        'data: {"error": ' + '{"message":' * 900 + '"x"' + "}" * 900 + "}\n\n",
    ],
    ids=["bare", "parts", "error", "event-error", "bare-900", "text-900", "args-900", "error-900"],
)
@pytest.mark.parametrize("how", HOW)
async def test_an_sse_frame_nested_deep_is_an_event_or_a_typed_error(
    hostile: Hostile, tmp_path: Path, secret: str, frame: str, how: str
) -> None:
    frames = ['data: {"type": "text", "content": "before"}\n\n', frame]
    await chat(hostile, tmp_path, secret, sse(frames), how, sse_max_line_bytes=1 << 20)
    assert hostile.count("POST", CHAT) == 1


@pytest.mark.parametrize("how", HOW)
async def test_a_terminal_error_frame_is_an_agent_error_without_the_token(
    hostile: Hostile, tmp_path: Path, secret: str, caplog: pytest.LogCaptureFixture, how: str
) -> None:
    frames = ['data: {"type": "text", "content": "half"}\n\n',
              'data: {"error": "ValueError: bad header Authorization: {auth} / {token}"}\n\n']  # fmt: skip
    result = await chat(hostile, tmp_path, secret, sse(frames), how)
    assert isinstance(result, nemovideo.AgentError), repr(result)
    assert hostile.count("POST", CHAT) == 1
    assert_no_secret([secret], error=result, records=caplog.records,
                     values=[getattr(result, "reply", None)])  # fmt: skip


@pytest.mark.parametrize(
    "frames",
    [
        [b'data: {"type": "text", "content": "caf\xc3\xa9 \xff\xfe"}\n\n'],
        [b"data: \x00\x00\x00\n\n", b"\r\r\r"],
        ['data: {"type": "text", "content": 1e999, "partial": NaN}\n\n'],
        ['data: {"content": {"parts": [{"text": ' + json.dumps("x" * 1000) + '}]}, "id": NaN}\n\n'],
        [
            'data: {"content": {"parts": [{"functionCall": {"name": null, "args": "x", "id": []}}]}}\n\n'
        ],
        ["retry: 1e999\nid: \x00\nevent: \x1b[31m\ndata: {}\n\n"],
    ],
    ids=["bad-utf8", "nul", "numbers", "id-nan", "tool-junk", "fields"],
)
@pytest.mark.parametrize("how", HOW)
async def test_odd_frames_are_events_or_typed_errors(
    hostile: Hostile, tmp_path: Path, secret: str, frames: list[Any], how: str
) -> None:
    await chat(hostile, tmp_path, secret, sse(frames), how)
    assert hostile.count("POST", CHAT) == 1
