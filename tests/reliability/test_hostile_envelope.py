"""Hostile answers to the JSON calls: every public call ends in a documented value or a typed error.

Each case serves one misbehaviour on the path of one public call (``credits``, ``create_session``,
``state``, ``claim_link``, ``upload``, ``upload_urls``, ``export``, ``renderer.resume``) and checks
the error class, how many requests the server saw (retried or not), and that the token the server
echoes back appears in no exception text, repr or log record.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

import nemovideo
from nemovideo.testing.drafts import example_draft

from ._hostile import (
    SESSION_ID,
    STATE_PATH,
    Handler,
    Hostile,
    assert_no_secret,
    client_for,
    expect_error,
    gzipped,
    html,
    json_text,
    nested,
    outcome,
    raw,
    reply,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
Driver = Callable[[nemovideo.NemoClient], Awaitable[Any]]

# name: (method, path prefix on the server, how the public call is made, requests on a 5xx)
CALLS: dict[str, tuple[str, str, Driver, int]] = {
    "credits": ("GET", "/api/credits/balance/simple", lambda c: c.credits(), 2),
    "create_session": ("POST", "/api/tasks/me/with-session", lambda c: c.create_session(), 1),
    "state": ("GET", STATE_PATH, lambda c: c.session(SESSION_ID).state(), 2),
    "claim_link": ("POST", "/api/auth/claim-token", lambda c: c.session(SESSION_ID).claim_link(), 1),
    "upload": ("POST", "/api/upload-video/",
               lambda c: c.session(SESSION_ID).upload([("a.png", PNG)]), 2),
    "upload_urls": ("POST", "/api/upload-video/",
                    lambda c: c.session(SESSION_ID).upload_urls(["https://cdn.example.com/a.jpg"]), 2),
    "export": ("POST", "/api/render/proxy/lambda",
               lambda c: c.session(SESSION_ID).export(draft=nemovideo.Draft.from_json(example_draft())), 2),
    "resume": ("GET", "/api/render/proxy/lambda/", lambda c: c.renderer.resume("render_1"), 2),
}  # fmt: skip


async def run(
    srv: Hostile, tmp_path: Path, secret: str, name: str, answer: Handler, **options: Any
) -> Any:
    """Serve ``answer`` on call ``name``'s path and make the call: its value or its NemoError."""
    method, path, drive, _ = CALLS[name]
    srv.on(method, path, answer)
    async with client_for(srv, tmp_path, secret, **options) as client:
        return await outcome(drive(client))


Check = Callable[[str, Any, Hostile], None]


async def every_call(
    srv: Hostile, tmp_path: Path, secret: str, answer: Handler, check: Check,
    names: Any = CALLS, **options: Any,
) -> None:  # fmt: skip
    """Serve ``answer`` to each public call in turn (one client) and ``check`` each outcome; the
    failures of all calls are reported together, by call name."""
    failures: list[str] = []
    async with client_for(srv, tmp_path, secret, **options) as client:
        for name in names:
            method, path, drive, _ = CALLS[name]
            srv.reset()
            srv.on(method, path, answer)
            try:
                check(name, await outcome(drive(client)), srv)
            except AssertionError as exc:
                failures.append(f"[{name}] {exc}")
    assert not failures, "\n".join(failures)


def one_request(srv: Hostile, name: str) -> int:
    method, path, _, _ = CALLS[name]
    return srv.count(method, path)


NO_CREDITS = (
    '{{"code": {}, "message": "No credits left for {{token}}", "data": null}}',
    nemovideo.InsufficientCreditsError,
    "No credits left",
)
STRANGE = (
    '{{"code": {}, "message": "strange failure (you sent {{auth}})"}}',
    nemovideo.APIError,
    "strange failure",
)
FAILED_CODES = [
    *[(code, *NO_CREDITS) for code in ["2001", "2001.0", '"2001"', '" 2001 "']],
    *[(code, *STRANGE) for code in ["7777", "7777.0", '"7777"', "600", "-3"]],
]
"""A failing code in any JSON form (number, float, string, padded string), the body around it, the
error it is (a known code its class; an unknown one, outside 500-599 too, a plain ``APIError``)
and what the error says."""


@pytest.mark.parametrize(("code", "body", "kind", "said"), FAILED_CODES,
                         ids=[row[0] for row in FAILED_CODES])  # fmt: skip
async def test_a_code_in_any_json_form_is_its_error_and_not_retried(
    hostile: Hostile, tmp_path: Path, secret: str, caplog: pytest.LogCaptureFixture,
    code: str, body: str, kind: type[nemovideo.APIError], said: str,
) -> None:  # fmt: skip
    def check(name: str, error: Any, srv: Hostile) -> None:
        assert isinstance(error, kind), repr(error)
        assert not isinstance(error, nemovideo.ServerError), "a code outside 500-599 is no 5xx"
        assert error.code == int(float(json.loads(code))), repr(error)
        assert error.http_status == 200 and said in str(error), repr(error)
        assert one_request(srv, name) == 1, "an envelope failure is not retried"
        assert_no_secret([secret], error=error, records=caplog.records)

    await every_call(hostile, tmp_path, secret, json_text(body.format(code)), check)


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_http_5xx_is_a_server_error_and_retried_only_where_safe(
    hostile: Hostile, tmp_path: Path, secret: str, caplog: pytest.LogCaptureFixture, status: int
) -> None:
    def check(name: str, error: Any, srv: Hostile) -> None:
        assert isinstance(error, nemovideo.ServerError), repr(error)
        assert error.http_status == status
        assert one_request(srv, name) == CALLS[name][3]
        assert_no_secret([secret], error=error, records=caplog.records)

    await every_call(hostile, tmp_path, secret, html(status), check)


@pytest.mark.parametrize(
    "answer",
    [
        reply(400),
        html(400, "<h1>400 Bad Request</h1>{auth}"),
        json_text('{"message": "bad request body"}', 400),
        json_text('{"detail": [{"loc": ["body", "x"], "msg": "Field required"}]}', 400),
    ],
    ids=["empty", "html", "json", "detail-list"],
)
async def test_a_bare_400_is_an_api_error_not_a_missing_client_id(
    hostile: Hostile, tmp_path: Path, secret: str, caplog: pytest.LogCaptureFixture,
    answer: Handler,
) -> None:  # fmt: skip
    def check(name: str, error: Any, srv: Hostile) -> None:
        assert isinstance(error, nemovideo.APIError), repr(error)
        assert not isinstance(error, nemovideo.MissingClientIdError), repr(error)
        assert error.http_status == 400 and error.code == 400, repr(error)
        assert_no_secret([secret], error=error, records=caplog.records)

    await every_call(hostile, tmp_path, secret, answer, check)


async def test_a_bare_400_on_the_token_call_renews_the_client_id_once(
    hostile: Hostile, tmp_path: Path
) -> None:
    hostile.on("POST", "/api/auth/anonymous-token", reply(400))
    async with client_for(hostile, tmp_path, None) as client:
        error = await expect_error(client.credits())
    assert isinstance(error, nemovideo.MissingClientIdError)
    ids = [s.headers.get("X-Client-Id") for s in hostile.requests("POST", "/api/auth")]
    assert len(ids) == 2 and ids[0] != ids[1], ids
    assert hostile.count("GET") == 0


@pytest.mark.parametrize("status", [200, 201])
async def test_an_html_page_on_success_is_a_typed_error(
    hostile: Hostile, tmp_path: Path, secret: str, caplog: pytest.LogCaptureFixture, status: int
) -> None:
    def check(name: str, error: Any, srv: Hostile) -> None:
        assert isinstance(error, nemovideo.APIError), repr(error)
        assert_no_secret([secret], error=error, records=caplog.records)

    answer = html(status, "<html>Login for {auth}</html>")
    await every_call(hostile, tmp_path, secret, answer, check)


@pytest.mark.parametrize("answer", [reply(200), reply(204), json_text("  \n")],
                         ids=["200", "204", "whitespace"])  # fmt: skip
async def test_an_empty_body_is_a_value_or_a_typed_error(
    hostile: Hostile, tmp_path: Path, secret: str, answer: Handler
) -> None:
    def check(name: str, result: Any, srv: Hostile) -> None:
        if name not in ("state", "export"):  # no draft yet; a job by the id the client chose
            assert isinstance(result, nemovideo.APIError), f"made up a value: {result!r}"

    await every_call(hostile, tmp_path, secret, answer, check)


DEPTH = 100_000


@pytest.mark.parametrize(
    "body",
    [
        nested(DEPTH),
        '{"code": 0, "data": ' + nested(DEPTH) + "}",
        '{"code": 0, "data": ' + '{"a":' * DEPTH + "1" + "}" * DEPTH + "}",
        '{"code": 1, "message": ' + '{"message":' * DEPTH + '"x"' + "}" * DEPTH + "}",
    ],
    ids=["bare", "data-lists", "data-objects", "message"],
)
async def test_json_nested_100000_deep_is_a_typed_error(
    hostile: Hostile, tmp_path: Path, secret: str, body: str
) -> None:
    def check(name: str, result: Any, srv: Hostile) -> None:
        assert isinstance(result, nemovideo.APIError), repr(result)

    await every_call(hostile, tmp_path, secret, json_text(body), check)


@pytest.mark.parametrize("depth", [700, 900])
@pytest.mark.parametrize(
    "shape",
    [
        '{{"code": 0, "data": {nest}}}',
        '{{"code": 0, "data": {{"available": {nest}, "status": {nest}, "files": [{nest}]}}}}',
        '{{"code": 7, "message": {msg}}}',
        '{{"success": true, "data": {{"status": "processing", "progress": {nest}, "id": {nest}}}}}',
        '{{"code": 0, "data": {{"state": {{"draft": {{"t": {nest}}}, "video_infos": {nest}}}}}}}',
    ],
    ids=["data", "fields", "message", "render", "state"],
)
async def test_json_nested_just_under_the_parser_limit_is_a_value_or_a_typed_error(
    hostile: Hostile, tmp_path: Path, secret: str, shape: str, depth: int
) -> None:
    """Deep enough to pass ``json.loads`` yet break any recursive walk or ``repr`` after it."""
    body = shape.format(nest=nested(depth), msg='{"message":' * depth + '"x"' + "}" * depth)
    try:
        json.loads(body)
    except RecursionError:
        pytest.skip(f"json.loads refuses depth {depth} here")
    await every_call(hostile, tmp_path, secret, json_text(body), lambda *_: None)


HOSTILE_NUMBERS = ["1e999", "-1e999", "NaN", "Infinity", "-Infinity", '"NaN"', '"inf"', "1" * 400,
                   "true", '"lots"', "[]"]  # fmt: skip


def credit_bodies(value: str) -> list[tuple[str, str]]:
    out = []
    for field in ("available", "frozen", "total"):
        counts = {"available": "7", "frozen": "2", "total": "9", field: value}
        text = ", ".join(f'"{k}": {v}' for k, v in counts.items())
        out.append((field, '{"code": 0, "data": {' + text + "}}"))
    return out


@pytest.mark.parametrize("value", HOSTILE_NUMBERS)
async def test_unreadable_numbers_are_read_as_unknown(
    hostile: Hostile, tmp_path: Path, secret: str, value: str
) -> None:
    """Credits, render progress/size/duration, media numbers and a draft's numbers."""
    failures: list[str] = []
    async with client_for(hostile, tmp_path, secret) as client:

        async def served(name: str, body: str) -> Any:
            hostile.reset()
            method, path, drive, _ = CALLS[name]
            hostile.on(method, path, json_text(body))
            return await outcome(drive(client))

        for field, body in credit_bodies(value):
            credits = await served("credits", body)
            if not isinstance(credits, nemovideo.Credits) or getattr(credits, field) is not None:
                failures.append(f"credits {field}={value}: {credits!r}")
            elif field != "available" and credits.available != 7:
                failures.append(f"credits {field}={value} changed available: {credits!r}")

        body = (f'{{"success": true, "data": {{"status": "completed", "progress": {value}, '
                f'"outputUrl": "https://cdn.example.com/a.mp4", "size": {value}, "duration": {value}}}}}')  # fmt: skip
        job = await served("resume", body)
        last = job.last if isinstance(job, nemovideo.RenderJob) else None
        if last is None or (last.progress, last.size, last.duration) != (None, None, None):
            failures.append(f"render poll: {job!r} {last!r}")

        entry = ('{"filename": "a.jpg", "cdn_url": "https://cdn.example.com/a.jpg", '
                 '"duration": %s, "width": %s, "height": %s, "fps": %s}' % ((value,) * 4))  # fmt: skip
        media = await served("upload_urls", '{"code": 0, "data": {"files": [' + entry + "]}}")
        if not isinstance(media, list) or (media[0].duration, media[0].width) != (None, None):
            failures.append(f"upload answer: {media!r}")

        body = ('{"code": 0, "data": {"state": {"draft": {"t": [{"tt": %s, "sg": [{"d": %s, '
                '"st": %s, "m": {"volume": %s}}]}], "d": %s}, "video_infos": [{"duration": %s, '
                '"width": %s}], "canvas_config": {"width": %s, "height": %s}}}}' % ((value,) * 9))  # fmt: skip
        state = await served("state", body)
        if not isinstance(state, nemovideo.SessionState):
            failures.append(f"state: {state!r}")
        else:
            try:
                state.draft.summary()
            except Exception as exc:  # the summary is a public call too
                failures.append(f"draft.summary(): {type(exc).__name__}: {exc}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("code", ["NaN", "1e999", "2001.5", "true", '"abc"', "{}"])
async def test_an_unreadable_code_is_not_a_success(
    hostile: Hostile, tmp_path: Path, secret: str, code: str
) -> None:
    """A ``code`` that is there but is no number cannot say "success": the answer is unreadable."""
    body = (f'{{"code": {code}, "message": "boom", "data": {{"available": 5, "session_id": "1", '
            '"claim_token": "clm_x"}}')  # fmt: skip

    def check(name: str, result: Any, srv: Hostile) -> None:
        assert isinstance(result, nemovideo.APIError), f"read as a success: {result!r}"

    await every_call(hostile, tmp_path, secret, json_text(body), check,
                     ["credits", "create_session", "claim_link", "state"])  # fmt: skip


BOMB = b'{"code": 0, "data": {"available": 1, "pad": "' + b"0" * (4 << 20) + b'"}}'


async def test_a_gzip_body_over_the_cap_after_decompression_is_refused(
    hostile: Hostile, tmp_path: Path, secret: str
) -> None:
    def check(name: str, error: Any, srv: Hostile) -> None:
        assert isinstance(error, nemovideo.APIError), repr(error)
        assert "cap" in str(error) or "exceeds" in str(error), str(error)

    await every_call(hostile, tmp_path, secret, gzipped(BOMB), check, max_response_bytes=64 << 10)


async def test_a_chunked_gzip_body_over_the_cap_is_refused(
    hostile: Hostile, tmp_path: Path, secret: str
) -> None:
    import gzip

    packed = gzip.compress(BOMB)
    head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")  # fmt: skip
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(part), part)
                       for part in (packed[i : i + 4096] for i in range(0, len(packed), 4096)))  # fmt: skip
    answer = raw(head + chunked + b"0\r\n\r\n")
    error = await run(hostile, tmp_path, secret, "credits", answer, max_response_bytes=64 << 10)
    assert isinstance(error, nemovideo.APIError), repr(error)


async def test_an_answer_without_content_type_is_read_as_json(
    hostile: Hostile, tmp_path: Path, secret: str
) -> None:
    body = b'{"code": 0, "data": {"available": 5, "frozen": 1}}'
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
    credits = await run(hostile, tmp_path, secret, "credits", raw(head + body))
    assert credits == nemovideo.Credits(available=5, frozen=1, total=6)


@pytest.mark.parametrize("retry_after", ["86400", "Fri, 31 Dec 2099 23:59:59 GMT", "1e999", "121"])
async def test_a_retry_after_far_in_the_future_raises_at_once(
    hostile: Hostile, tmp_path: Path, secret: str, retry_after: str
) -> None:
    answer = reply(429, '{"code": 429, "message": "slow down"}',
                   {"Content-Type": "application/json", "Retry-After": retry_after})  # fmt: skip

    def check(name: str, error: Any, srv: Hostile) -> None:
        assert isinstance(error, nemovideo.RateLimitError), repr(error)
        assert error.retry_after is not None and error.retry_after > 120
        assert one_request(srv, name) == 1, "no sleep and no second try"

    await every_call(hostile, tmp_path, secret, answer, check)


@pytest.mark.parametrize(
    "answer",
    [
        json_text('{"code": 1001, "message": "token {token} is expired"}'),
        json_text('{"code": 9, "message": "bad"}', 200, {"X-Request-Id": "{token}"}),
        reply(401, "Unauthorized: {auth}", {"Content-Type": "text/plain"}),
        reply(500, "Internal error. Headers: Authorization={auth}", {"Content-Type": "text/plain"}),
        json_text('{"code": 9, "message": "echo", "data": {"token": "{token}"}}'),
        json_text('{"code": 9, "detail": [{"loc": ["header", "{token}"], "msg": "{auth}"}]}', 422),
    ],
    ids=["1001-message", "request-id-header", "401-text", "500-text", "data", "detail"],
)
async def test_a_token_the_server_echoes_appears_nowhere(
    hostile: Hostile, tmp_path: Path, secret: str, caplog: pytest.LogCaptureFixture,
    answer: Handler,
) -> None:  # fmt: skip
    caplog.set_level(logging.DEBUG)

    def check(name: str, error: Any, srv: Hostile) -> None:
        assert isinstance(error, nemovideo.APIError), repr(error)
        assert_no_secret([secret], error=error, records=caplog.records)

    await every_call(hostile, tmp_path, secret, answer, check)
