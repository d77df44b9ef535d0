"""Generated hostile answers: whatever the server says, a public call returns its documented value
or raises a ``NemoError``, within its bound, and the token appears in no error text or log record.
The answers cover server ids (lone surrogates, NULs, separators), times (``expires_at`` of any
size or shape), text (control characters, escape sequences, surrogates: every error prints) and
download bodies (error pages, envelopes, truncated or encoded videos); the caller's side covers
download paths and ``upload_urls`` URLs (a URL is sent exactly as given, or refused).

One loopback server per test answers with what the current example sets (status line, headers
and body written raw, so a missing ``Content-Type`` or a wrong ``Content-Length`` reach the
client as drawn).
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import nemovideo
from nemovideo.testing.drafts import example_draft

from ._hostile import (
    CHAT,
    SESSION_ID,
    Hostile,
    _fill,
    assert_no_secret,
    chat,
    client_for,
    outcome,
    sse,
)

# Bounded: a fixed seed, no shrinking (a failing example is reported as drawn), ~40 examples.
SETTINGS = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                    phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip

numbers = st.one_of(
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["NaN", "inf", "1e999", "35%", "", "lots", "-0"]),
    st.booleans(),
    st.none(),
)
#: Any code point, lone surrogates and controls included (hypothesis' default text has neither).
any_text = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, categories=None),
                   max_size=12)  # fmt: skip
hostile_ids = st.sampled_from(["55\ud800", "\udfff", "a\x00b", "a/b", " 1", "..", "\x1b[2J",
                               "5529798706024415232", "x" * 300])  # fmt: skip
times = st.one_of(numbers, st.just(10**400), st.just(-(10**400)),
                  st.sampled_from(["2020-01-01T00:00:00Z", "9999-12-31T23:59:59-23:59", "soon",
                                   "0000-01-01", "1700000000000"]))  # fmt: skip
scalars = st.one_of(numbers, st.text(max_size=12), st.just("{token}"), st.just("../../credits"),
                    any_text, hostile_ids)  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=10,
)


def deep(depth: int) -> Any:
    value: Any = 0
    for _ in range(depth):
        value = [value]
    return value


shaped = st.fixed_dictionaries(
    {},
    optional={
        "available": numbers, "frozen": numbers, "total": numbers,
        "session_id": scalars, "task_id": scalars, "user_id": scalars, "claim_token": scalars,
        "files": st.lists(st.dictionaries(st.sampled_from(["cdn_url", "duration", "width",
                                                           "filename"]), scalars), max_size=2),
        "state": st.fixed_dictionaries({}, optional={"draft": values, "video_infos": values}),
        "status": st.sampled_from(["completed", "failed", "processing", "", "?"]) | scalars,
        "progress": numbers, "id": scalars, "outputUrl": scalars, "error": values,
        "expires_at": times, "token": scalars,
    },
)  # fmt: skip
envelopes = st.fixed_dictionaries(
    {},
    optional={
        "code": st.one_of(st.sampled_from([0, 0, 0, 1001, 1002, 2001, 4001, 4002, 7777, "2001",
                                           2001.0, "0"]), numbers),
        "message": st.one_of(st.text(max_size=20), st.just("echo {auth} {token}"), values,
                             any_text, st.just("\x1b]0;pwned\x07\x1b[2J\ud800\r")),
        "data": st.one_of(shaped, values, st.integers(0, 1200).map(deep)),
        "success": st.booleans(),
        "error": st.one_of(st.text(max_size=10), values),
        "detail": st.one_of(st.text(max_size=10), values),
    },
)  # fmt: skip


def to_json(value: Any) -> str:
    return json.dumps(value, allow_nan=True)


bodies = st.one_of(
    envelopes.map(to_json),
    values.map(to_json),
    st.sampled_from(["", "<html>{auth}</html>", "[" * 100_000 + "]" * 100_000, "{", "null"]),
    st.binary(max_size=40).map(lambda b: b.decode("latin-1")),
)
statuses = st.sampled_from([200, 200, 200, 201, 204, 301, 302, 400, 401, 402, 403, 404, 422,
                            429, 500, 502, 503])  # fmt: skip
content_types = st.sampled_from([None, "application/json", "text/html", "text/plain",
                                 "application/json; charset=latin-1", "x/y"])  # fmt: skip
header_sets = st.fixed_dictionaries(
    {},
    optional={
        "Retry-After": st.sampled_from(["0", "1e999", "NaN", "-5", "x", "0.001",
                                        "Fri, 31 Dec 2099 23:59:59 GMT"]),
        "X-Request-Id": st.sampled_from(["{token}", "req_1", "x" * 200, "Bearer {token}"]),
        "Location": st.sampled_from(["", "/elsewhere", "http://[::1"]),
    },
)  # fmt: skip
lengths = st.sampled_from(["exact", "exact", "none", "longer", "shorter"])
encodings = st.sampled_from([None, None, "gzip", "bogus-gzip", "br"])


class Answer:
    """What the server says next: status, headers and body, written raw; ``{auth}`` filled."""

    def __init__(self) -> None:
        self.status, self.headers, self.body = 200, {}, b"{}"
        self.length, self.encoding = "exact", None

    def set(self, status: int, headers: dict[str, str], content_type: str | None, body: str,
            length: str, encoding: str | None) -> None:  # fmt: skip
        self.status, self.headers, self.length, self.encoding = (
            status,
            dict(headers),
            length,
            encoding,
        )
        if content_type:
            self.headers["Content-Type"] = content_type
        self.body = body.encode("utf-8", "surrogatepass")

    async def __call__(self, request: web.Request, _body: bytes) -> web.StreamResponse:
        body = _fill(self.body.decode("utf-8", "surrogatepass"), request).encode(
            "utf-8", "surrogatepass"
        )
        headers = {k: _fill(v, request) for k, v in self.headers.items()}
        if self.encoding == "gzip":
            body = gzip.compress(body)
        if self.encoding:
            headers["Content-Encoding"] = "gzip" if self.encoding == "bogus-gzip" else self.encoding
        size = {"exact": len(body), "longer": len(body) + 10, "shorter": max(0, len(body) - 1)}
        if self.length in size:
            headers["Content-Length"] = str(size[self.length])
        head = f"HTTP/1.1 {self.status} X\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in headers.items()
        )
        assert request.transport is not None
        request.transport.write(
            (head + "Connection: close\r\n\r\n").encode("latin-1", "replace") + body
        )
        request.transport.close()
        raise web.HTTPException()  # the answer is on the wire; aiohttp writes nothing more


DRAFT = nemovideo.Draft.from_json(example_draft())
CALLS: dict[str, tuple[str, Callable[[nemovideo.NemoClient], Any], type | tuple[type, ...]]] = {
    "credits": ("/api/credits", lambda c: c.credits(), nemovideo.Credits),
    "create_session": ("/api/tasks", lambda c: c.create_session(), nemovideo.Session),
    "state": ("/api/state", lambda c: c.session(SESSION_ID).state(), nemovideo.SessionState),
    "claim_link": ("/api/auth/claim", lambda c: c.session(SESSION_ID).claim_link(), str),
    "upload_urls": ("/api/upload-video", lambda c: c.session(SESSION_ID).upload_urls(
        ["https://cdn.example.com/a.jpg"]), list),
    "upload": ("/api/upload-video", lambda c: c.session(SESSION_ID).upload(
        [("a.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 16)]), list),
    "export": ("/api/render", lambda c: c.session(SESSION_ID).export(draft=DRAFT), nemovideo.RenderJob),
    "resume": ("/api/render", lambda c: c.renderer.resume("render_1"), nemovideo.RenderJob),
}  # fmt: skip


@SETTINGS
@given(name=st.sampled_from(sorted(CALLS)), status=statuses, headers=header_sets,
       content_type=content_types, body=bodies, length=lengths, encoding=encodings)  # fmt: skip
async def test_any_answer_to_any_call_is_a_value_or_a_nemo_error(
    hostile: Hostile, tmp_path: Path, secret: str, caplog: Any,
    name: str, status: int, headers: dict[str, str], content_type: str | None, body: str,
    length: str, encoding: str | None,
) -> None:  # fmt: skip
    caplog.clear()
    answer = Answer()
    answer.set(status, headers, content_type, body, length, encoding)
    hostile.reset()
    hostile.on("*", "/", answer)
    _path, drive, documented = CALLS[name]
    async with client_for(hostile, tmp_path, secret) as client:
        result = await outcome(drive(client))
    if isinstance(result, nemovideo.NemoError):
        assert_no_secret([secret], error=result, records=caplog.records)
        assert_printable(result)
    else:
        assert isinstance(result, documented), f"{name} returned {result!r}"
        assert_no_secret([secret], records=caplog.records, values=[result])


def assert_printable(error: nemovideo.NemoError) -> None:
    """An error's text prints on any stream: no lone surrogate, no escape or control character."""
    for text in (str(error), repr(error)):
        text.encode("utf-8")
        assert not any(c in text for c in "\x1b\x07\x00\r\x9b"), text


polls = st.fixed_dictionaries(
    {"status": st.sampled_from(["completed", "failed", "processing", "pending", "", "DONE",
                                "cancelled"]) | scalars},
    optional={"progress": numbers, "outputUrl": scalars, "output": values, "error": values,
              "size": numbers, "duration": numbers, "id": scalars, "errorMessage": scalars},
)  # fmt: skip
poll_bodies = st.one_of(
    polls.map(lambda p: to_json({"success": True, "data": p})),
    polls.map(to_json),
    st.builds(lambda e: to_json({"success": False, "error": e}), values),
    bodies,
)


@SETTINGS
@given(
    answers=st.lists(poll_bodies, min_size=1, max_size=3),
    status=st.sampled_from([200, 200, 404, 500]),
)
async def test_any_poll_answer_ends_a_wait_in_a_result_or_a_nemo_error(
    hostile: Hostile, tmp_path: Path, secret: str, caplog: Any, answers: list[str], status: int
) -> None:
    caplog.clear()
    hostile.reset()
    served = iter(answers)
    last = [answers[-1]]

    async def poll(request: web.Request, _body: bytes) -> web.StreamResponse:
        text = next(served, last[0])
        return web.Response(
            status=status, text=_fill(text, request), content_type="application/json"
        )

    hostile.on("GET", "/api/render/proxy/lambda/", poll)
    async with client_for(hostile, tmp_path, secret, render_timeout=0.2) as client:
        job = nemovideo.RenderJob(client.renderer, "render_1")
        result = await outcome(job.wait())
    if isinstance(result, nemovideo.NemoError):
        assert_no_secret([secret], error=result, records=caplog.records)
    else:
        assert isinstance(result, nemovideo.RenderResult), repr(result)
        assert result.size is None or (isinstance(result.size, int) and math.isfinite(result.size))


adk_events = st.fixed_dictionaries(
    {},
    optional={
        "content": st.fixed_dictionaries({}, optional={"parts": st.lists(st.one_of(
            st.fixed_dictionaries({"text": scalars}),
            st.fixed_dictionaries({"functionCall": st.fixed_dictionaries(
                {}, optional={"name": scalars, "args": values, "id": scalars})}),
            st.fixed_dictionaries({"functionResponse": values}),
            values), max_size=3), "role": scalars}),
        "partial": scalars, "id": scalars, "author": scalars, "errorCode": scalars,
        "errorMessage": scalars, "type": st.sampled_from(["text", "tool_call", "heartbeat", "x"]),
        "error": st.one_of(st.text(max_size=10), st.just("bad {auth}")),
    },
)  # fmt: skip
frames = st.one_of(
    adk_events.map(lambda e: f"data: {to_json(e)}\n\n"),
    values.map(lambda v: f"data: {to_json(v)}\n\n"),
    st.sampled_from([": keepalive\n\n", "event: heartbeat\ndata:\n\n", "data:\n\n",
                     'data: {"error": "Render "x" failed\n\nretry {token}"}\n\n',
                     "data: " + "[" * 100_000 + "]" * 100_000 + "\n\n", "\r\n\r\n", "id: \x00\n",
                     "retry: x\n", "event: error\ndata: {}\n\n"]),
    st.text(max_size=30),
)  # fmt: skip


@SETTINGS
@given(stream=st.lists(frames, max_size=5),
       content_type=st.sampled_from(["text/event-stream", "text/event-stream; charset=utf-8"]))  # fmt: skip
async def test_any_event_stream_ends_in_a_reply_or_a_nemo_error(
    hostile: Hostile, tmp_path: Path, secret: str, caplog: Any, stream: list[str], content_type: str
) -> None:
    caplog.clear()
    hostile.reset()
    answer = sse(stream, content_type)
    result = await chat(hostile, tmp_path, secret, answer, sse_max_line_bytes=1 << 20)
    assert hostile.count("POST", CHAT) == 1
    if isinstance(result, nemovideo.NemoError):
        assert_no_secret([secret], error=result, records=caplog.records)
        assert_printable(result)
    else:
        assert isinstance(result, nemovideo.ChatReply), repr(result)
        assert_no_secret([secret], records=caplog.records, values=[result.text])


token_answers = st.fixed_dictionaries(
    {}, optional={"token": scalars, "user_id": scalars, "expires_at": times}
).map(lambda d: to_json({"code": 0, "data": d}))  # fmt: skip


@SETTINGS
@given(first=token_answers | bodies, second=token_answers)
async def test_any_token_answer_and_cache_is_a_value_or_a_nemo_error(
    hostile: Hostile, tmp_path: Path, caplog: Any, first: str, second: str
) -> None:
    """An anonymous token answer of any shape (ids, times), then the same client id reading its
    cache in a second client: each call a value or a ``NemoError``, never ``OverflowError``."""
    hostile.reset()
    served = iter([first, second])

    async def token(request: web.Request, _body: bytes) -> web.StreamResponse:
        return web.Response(text=next(served, second), content_type="application/json")

    hostile.on("POST", "/api/auth/anonymous-token", token)
    hostile.on("GET", "/api/credits", json_answer({"code": 0, "data": {"available": 1}}))
    config = tmp_path / f"cfg-{abs(hash((first, second)))}"
    for _ in range(2):
        async with client_for(hostile, tmp_path, None, config_dir=config,
                              client_id="cid") as client:  # fmt: skip
            result = await outcome(client.credits())
        if isinstance(result, nemovideo.NemoError):
            assert_printable(result)
        else:
            assert isinstance(result, nemovideo.Credits), repr(result)


def json_answer(doc: Any) -> Any:
    async def answer(request: web.Request, _body: bytes) -> web.StreamResponse:
        return web.Response(text=to_json(doc), content_type="application/json")

    return answer


VIDEO_HEADS = [b"\x00\x00\x00\x18ftypmp42", b"\x1aE\xdf\xa3", b"GIF89a"]
download_bodies = st.one_of(
    st.builds(lambda head, rest: head + rest, st.sampled_from(VIDEO_HEADS), st.binary(max_size=64)),
    bodies.map(lambda b: b.encode("utf-8", "surrogatepass")),
    st.binary(max_size=64),
)
download_types = st.sampled_from([None, "video/mp4", "application/json", "text/html",
                                  "application/octet-stream", "video/webm"])  # fmt: skip


@SETTINGS
@given(cdn=st.tuples(statuses, download_types, download_bodies, lengths, encodings),
       api=st.tuples(statuses, download_types, download_bodies, lengths, encodings),
       url=st.sampled_from(["{cdn}/files/out.mp4", "http://127.0.0.1:99999/a.mp4",
                            "http://[::1", "", "{cdn}/files/"]))  # fmt: skip
async def test_any_download_answer_saves_a_video_or_raises(
    hostile: Hostile, tmp_path: Path, secret: str, caplog: Any,
    cdn: tuple[Any, ...], api: tuple[Any, ...], url: str,
) -> None:  # fmt: skip
    """Both sources answer anything: the result is a saved file that starts as a video
    container does, or a ``NemoError`` with nothing under the final name."""
    caplog.clear()
    hostile.reset()
    for prefix, (status, ctype, data, length, encoding) in (("/files/", cdn),
                                                            ("/api/render/proxy/render_1/", api)):  # fmt: skip
        answer = Answer()
        answer.set(status, {}, ctype, data.decode("latin-1"), length, encoding)
        answer.body = data
        hostile.on("GET", prefix, answer)
    output = url.replace("{cdn}", hostile.url)
    hostile.on("GET", "/api/render/proxy/lambda/",
               json_answer({"status": "completed", "outputUrl": output}))  # fmt: skip
    out = tmp_path / f"dl-{abs(hash((cdn, api, url)))}"
    async with client_for(hostile, tmp_path, secret) as client:

        async def go() -> Path:
            job = await client.renderer.resume("render_1")
            return await job.download(out / "v.mp4")

        result = await outcome(go())
    if isinstance(result, nemovideo.NemoError):
        assert_no_secret([secret], error=result, records=caplog.records)
        assert_printable(result)
        assert not (out / "v.mp4").exists()
    else:
        assert isinstance(result, Path), repr(result)
        head = result.read_bytes()[:16]
        assert head[4:8] == b"ftyp" or head.startswith((b"\x1aE\xdf\xa3", b"GIF8")), head
    assert not [p for p in (out.iterdir() if out.exists() else []) if p.suffix == ".part"]


caller_urls = st.one_of(
    st.builds(lambda p, t: p + t, st.sampled_from(["https://cdn.test/", "http://x.test:99999/",
                                                   "http://[::1", "ftp://x/", "https://", ""]),
              any_text),
    st.sampled_from(["https://cdn.test/a%2Fb.jpg?x=1#f", "https://EXAMPLE.test:443/./a/../b.jpg",
                     "https://bücher.test/写真.png"]),
)  # fmt: skip
caller_paths = st.one_of(any_text, st.sampled_from(["out\x00.mp4", "out\ud800.mp4", "a/b/",
                                                    "视频" * 41 + ".mp4", "🎬" * 70 + ".mp4"]))  # fmt: skip


@SETTINGS
@given(url=caller_urls, path=caller_paths)
async def test_any_caller_url_and_path_is_used_as_given_or_refused(
    hostile: Hostile, tmp_path: Path, secret: str, url: str, path: str
) -> None:
    """``upload_urls`` sends the URL exactly as given or raises ``ValidationError`` before
    sending; a download path of any text saves there or raises a ``NemoError``."""
    hostile.reset()
    hostile.on("POST", "/api/upload-video/", json_answer(
        {"code": 0, "data": {"files": [{"cdn_url": "https://cdn.test/a.jpg"}]}}))  # fmt: skip
    hostile.on("GET", "/files/", Answer())
    hostile.on("GET", "/api/render/proxy/lambda/", json_answer(
        {"status": "completed", "outputUrl": f"{hostile.url}/files/v.mp4"}))  # fmt: skip
    video = Answer()
    video.set(200, {}, "video/mp4", "", "exact", None)
    video.body = VIDEO_HEADS[0] + b"\x00" * 32
    hostile.on("GET", "/files/", video)
    async with client_for(hostile, tmp_path, secret) as client:
        sent = await outcome(client.session(SESSION_ID).upload_urls([url]))
        where = tmp_path / "dl" / str(abs(hash(path)))
        where.mkdir(parents=True, exist_ok=True)

        async def go() -> Path:
            job = await client.renderer.resume("render_1")
            return await job.download(where / path if path else where)

        saved = await outcome(go())
    posted = hostile.requests("POST", "/api/upload-video/")
    if isinstance(sent, nemovideo.NemoError):
        assert isinstance(sent, nemovideo.ValidationError), repr(sent)
        assert posted == [], "refused before sending"
    else:
        assert [json.loads(p.body)["urls"] for p in posted] == [[url]], "sent exactly as given"
    if isinstance(saved, nemovideo.NemoError):
        assert_printable(saved)
    else:
        assert isinstance(saved, Path) and saved.read_bytes().startswith(VIDEO_HEADS[0])
