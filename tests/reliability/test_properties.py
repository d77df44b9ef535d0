"""Generated hostile answers: whatever the server says, a public call returns its documented value
or raises a ``NemoError``, within its bound, and the token appears in no error text or log record.

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
    SESSION_ID,
    STATE_PATH,
    Hostile,
    _fill,
    assert_no_secret,
    client_for,
    outcome,
    sse,
    state_answer,
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
scalars = st.one_of(numbers, st.text(max_size=12), st.just("{token}"), st.just("../../credits"))
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
    },
)  # fmt: skip
envelopes = st.fixed_dictionaries(
    {},
    optional={
        "code": st.one_of(st.sampled_from([0, 0, 0, 1001, 1002, 2001, 4001, 4002, 7777, "2001",
                                           2001.0, "0"]), numbers),
        "message": st.one_of(st.text(max_size=20), st.just("echo {auth} {token}"), values),
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
    else:
        assert isinstance(result, documented), f"{name} returned {result!r}"
        assert_no_secret([secret], records=caplog.records, values=[result])


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
    hostile.on("GET", STATE_PATH, state_answer())
    hostile.on("POST", "/run_sse", sse(stream, content_type))
    async with client_for(hostile, tmp_path, secret, sse_max_line_bytes=1 << 20) as client:
        result = await outcome(client.session(SESSION_ID).send("make it pop"))
    assert hostile.count("POST", "/run_sse") == 1
    if isinstance(result, nemovideo.NemoError):
        assert_no_secret([secret], error=result, records=caplog.records)
    else:
        assert isinstance(result, nemovideo.ChatReply), repr(result)
        assert_no_secret([secret], records=caplog.records, values=[result.text])
