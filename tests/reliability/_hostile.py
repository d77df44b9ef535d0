"""A loopback HTTP server that misbehaves on purpose, and the checks and drivers (``chat``,
``download``) the hostile suite shares.

Each test says what the server answers on which path; the server records every request it saw, so a
test can prove what was (not) sent::

    async with Hostile() as srv:
        srv.on("GET", "/api/credits", html(502, "<h1>Bad gateway for {auth}</h1>"))
        async with client_for(srv, tmp_path, token) as client:
            error = await expect_error(client.credits())
        assert srv.count("GET", "/api/credits") == 2          # retried once (max_retries=1)

Answers are small factories (``envelope``, ``json_text``, ``html``, ``raw``, ``hang``, ``lost``,
``sequence``...). ``{auth}`` in a body is replaced by the request's ``Authorization`` header and
``{token}`` by the bare token, so a page echoes the token the way real gateways do. Raw answers are written straight to the socket, for
what aiohttp's own responses cannot express (no ``Content-Type``, a ``Content-Length`` longer than
the body).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import traceback
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import attrs
from aiohttp import web

import nemovideo

T = TypeVar("T")
Handler = Callable[[web.Request, bytes], Awaitable[web.StreamResponse]]

#: The house settings for a hostile server: every wait in milliseconds, one retry.
FAST: dict[str, Any] = {
    "request_timeout": 0.5,
    "connect_timeout": 0.5,
    "stream_idle_timeout": 0.3,
    "stream_timeout": 2.0,
    "poll_interval": 0.01,
    "poll_initial_interval": 0.01,
    "render_timeout": 0.5,
    "retry_backoff": 0.001,
    "retry_backoff_max": 0.01,
    "rate_limit_wait": 0.01,
    "max_retries": 1,
    "recovery_first_wait": 0.01,
    "recovery_wait": 0.01,
    "recovery_max_polls": 2,
    "settle_wait": 0.01,
    "heartbeat_notice_interval": 0.05,
    "trust_env": False,
}

#: No call against a loopback server with ``FAST`` settings may take longer than this.
HANG_LIMIT = 8.0


SERVER: web.AppKey[Hostile] = web.AppKey("hostile")


@attrs.frozen
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    raw_path: str
    headers: Mapping[str, str]
    body: bytes
    port: int


class Hostile:
    """A loopback aiohttp server; ``on(method, path_prefix, answer)`` sets what it answers.

    The longest matching prefix wins; unmatched requests get a JSON 404. ``read_body=False`` leaves
    the body unread for answers that read it themselves (a slow reader).
    """

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.closing = asyncio.Event()
        self._routes: dict[tuple[str, str], tuple[Handler, bool]] = {}
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self) -> None:
        """Forget every route and every request seen (one server, many cases)."""
        self._routes.clear()
        self.seen.clear()

    def on(self, method: str, prefix: str, answer: Handler, *, read_body: bool = True) -> None:
        self._routes[(method.upper(), prefix)] = (answer, read_body)

    def requests(self, method: str | None = None, prefix: str = "") -> list[Seen]:
        return [
            s
            for s in self.seen
            if (method is None or s.method == method.upper()) and s.path.startswith(prefix)
        ]

    def count(self, method: str | None = None, prefix: str = "") -> int:
        return len(self.requests(method, prefix))

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        best: tuple[Handler, bool] | None = None
        length = -1
        for (method, prefix), route in self._routes.items():
            matches = method in (request.method, "*") and request.path.startswith(prefix)
            if matches and len(prefix) > length:
                best, length = route, len(prefix)
        answer, read_body = best if best is not None else (_not_found, True)
        body = await request.read() if read_body else b""
        self.seen.append(
            Seen(
                request.method,
                request.path,
                request.raw_path,
                dict(request.headers),
                body,
                self.port,
            )
        )
        return await answer(request, body)

    async def start(self) -> Hostile:
        app = web.Application(client_max_size=64 << 20)
        app[SERVER] = self
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        self.closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Hostile:
        return await self.start()

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()


# -- answers ----------------------------------------------------------------------------------


def _fill(text: str, request: web.Request) -> str:
    auth = request.headers.get("Authorization", "")
    return text.replace("{auth}", auth).replace("{token}", auth.removeprefix("Bearer "))


async def _not_found(request: web.Request, body: bytes) -> web.StreamResponse:
    return web.json_response({"detail": f"no route for {request.path}"}, status=404)


def reply(
    status: int = 200,
    body: bytes | str = b"",
    headers: Mapping[str, str] | None = None,
) -> Handler:
    """A fixed answer; ``{auth}`` in a text body echoes the request's Authorization header."""

    async def answer(request: web.Request, _body: bytes) -> web.StreamResponse:
        data = _fill(body, request).encode() if isinstance(body, str) else body
        filled = {k: _fill(v, request) for k, v in (headers or {}).items()}
        return web.Response(status=status, body=data, headers=filled)

    return answer


def json_text(text: str, status: int = 200, headers: Mapping[str, str] | None = None) -> Handler:
    """JSON written as given (so ``NaN``, ``1e999`` and deep nesting reach the client verbatim)."""
    return reply(status, text, {"Content-Type": "application/json", **(headers or {})})


def envelope(data: Any, code: Any = 0, status: int = 200, **extra: Any) -> Handler:
    return json_text(json.dumps({"code": code, "data": data, **extra}), status)


def html(
    status: int, text: str = "<html><body>Bad gateway; you sent {auth}</body></html>"
) -> Handler:
    return reply(status, text, {"Content-Type": "text/html; charset=utf-8"})


def gzipped(payload: bytes, status: int = 200, content_type: str = "application/json") -> Handler:
    """``payload`` gzip-compressed on the wire (small), announced with its compressed length."""
    packed = gzip.compress(payload, compresslevel=9)
    return reply(status, packed, {"Content-Type": content_type, "Content-Encoding": "gzip"})


def raw(data: bytes | str, *, close: bool = True) -> Handler:
    """Write ``data`` to the socket as the whole answer (status line and headers included), then
    close it, or (``close=False``) keep it open and silent until the server stops."""

    async def answer(request: web.Request, _body: bytes) -> web.StreamResponse:
        text = _fill(data, request).encode() if isinstance(data, str) else data
        transport = request.transport
        assert transport is not None
        transport.write(text)
        if close:
            transport.close()
        else:
            await request.app[SERVER].closing.wait()
        raise asyncio.CancelledError

    return answer


def lost() -> Handler:
    """Read the request, then close the socket without a byte of answer."""

    async def answer(request: web.Request, _body: bytes) -> web.StreamResponse:
        assert request.transport is not None
        request.transport.close()
        raise asyncio.CancelledError

    return answer


def hang() -> Handler:
    """Read the request and never answer (not even the headers) until the server stops."""

    async def answer(request: web.Request, _body: bytes) -> web.StreamResponse:
        await request.app[SERVER].closing.wait()
        raise asyncio.CancelledError

    return answer


def sequence(*answers: Handler) -> Handler:
    """The first request gets the first answer, the next the second...; the last one repeats."""
    calls = [0]

    async def answer(request: web.Request, body: bytes) -> web.StreamResponse:
        index = min(calls[0], len(answers) - 1)
        calls[0] += 1
        return await answers[index](request, body)

    return answer


def sse(frames: Iterable[bytes | str], content_type: str = "text/event-stream") -> Handler:
    """An event stream of ``frames`` (each written as given, ``{auth}`` filled), then the close."""

    async def answer(request: web.Request, _body: bytes) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": content_type})
        await resp.prepare(request)
        for frame in frames:
            await resp.write(_fill(frame, request).encode() if isinstance(frame, str) else frame)
        await resp.write_eof()
        return resp

    return answer


def nested(depth: int, leaf: str = "0") -> str:
    """JSON text of ``depth`` nested lists around ``leaf``."""
    return "[" * depth + leaf + "]" * depth


SESSION_ID = "5529798706024415232"
STATE_PATH = f"/api/state/nemo_agent/me/{SESSION_ID}/latest"


def state_answer(draft: Mapping[str, Any] | None = None) -> Handler:
    from nemovideo.testing.drafts import example_draft

    return envelope({"session_id": SESSION_ID, "task_id": "task_1",
                     "state": {"draft": dict(draft or example_draft())}})  # fmt: skip


# -- clients and checks -----------------------------------------------------------------------


def client_for(
    srv: Hostile, tmp_path: Path, token: str | None, **overrides: Any
) -> nemovideo.NemoClient:
    """A client of ``srv`` with the house's millisecond settings and its own config dir."""
    options: dict[str, Any] = {**FAST, "base_url": srv.url, **overrides}
    options.setdefault("config_dir", tmp_path / "config")
    return nemovideo.NemoClient(token=token, **options)


async def bounded(aw: Awaitable[T], limit: float = HANG_LIMIT) -> T:
    """``await aw``, failing the test (not hanging it) if it runs past ``limit`` seconds.

    Not ``asyncio.wait_for``: its ``TimeoutError`` is the one the SDK's own timeout errors
    derive from, and a ``RenderTimeoutError`` must not read as a hang.
    """
    task = asyncio.ensure_future(aw)
    done, _ = await asyncio.wait({task}, timeout=limit)
    if not done:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        raise AssertionError(f"the call hung for more than {limit:g} s")
    return task.result()


async def outcome(aw: Awaitable[T], limit: float = HANG_LIMIT) -> T | nemovideo.NemoError:
    """The call's value, or the ``NemoError`` it raised; anything else fails the test loudly."""
    try:
        return await bounded(aw, limit)
    except nemovideo.NemoError as exc:
        return exc
    except AssertionError:
        raise
    except Exception as exc:
        text = "".join(traceback.format_exception(exc))
        raise AssertionError(f"a raw {type(exc).__name__} escaped the SDK:\n{text}") from None


async def expect_error(aw: Awaitable[Any], limit: float = HANG_LIMIT) -> nemovideo.NemoError:
    result = await outcome(aw, limit)
    assert isinstance(result, nemovideo.NemoError), f"expected a NemoError, got {result!r}"
    return result


def error_texts(error: BaseException) -> list[str]:
    """Everything a user may see of ``error``: its traceback, and the text and repr of it and of
    each exception the traceback shows (causes, unsuppressed contexts)."""
    texts = ["".join(traceback.format_exception(error))]
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        texts += [str(current), repr(current), repr(current.args)]
        suppressed = current.__suppress_context__
        current = current.__cause__ or (None if suppressed else current.__context__)
    return texts


def record_texts(records: Iterable[logging.LogRecord]) -> list[str]:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    texts = []
    for record in records:
        texts.append(formatter.format(record))
        texts += [str(v) for v in record.__dict__.values() if isinstance(v, (str, tuple, dict))]
    return texts


def assert_no_secret(
    secrets: Iterable[str | None],
    *,
    error: BaseException | None = None,
    records: Iterable[logging.LogRecord] = (),
    values: Iterable[object] = (),
) -> None:
    """No secret in the error's texts, the log records, or the ``repr`` of ``values``."""
    texts = error_texts(error) if error is not None else []
    texts += record_texts(records)
    texts += [repr(v) for v in values]
    for secret in secrets:
        if not secret:
            continue
        for text in texts:
            assert secret not in text, f"the secret {secret!r} leaked into:\n{text[:2000]}"


def leftovers(directory: Path) -> list[str]:
    """Files in ``directory`` (recursively) other than what the test put there itself."""
    if not directory.exists():
        return []
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*"))


# -- chat -------------------------------------------------------------------------------------

CHAT = "/run_sse"


async def chat(
    srv: Hostile, tmp_path: Path, secret: str, answer: Handler, how: str = "send", **options: Any
) -> Any:
    """Serve the state and ``answer`` on ``/run_sse``, then ``send()`` a message (``how="send"``)
    or iterate a ``ChatStream`` (``"stream"``): the reply or the events, or the ``NemoError``."""
    srv.on("GET", STATE_PATH, state_answer())
    srv.on("POST", CHAT, answer)
    async with client_for(srv, tmp_path, secret, **options) as client:
        session = client.session(SESSION_ID)
        if how == "send":
            return await outcome(session.send("add lo-fi BGM"))

        async def iterate() -> list[Any]:
            async with session.chat("add lo-fi BGM") as stream:
                return [event async for event in stream]

        return await outcome(iterate())


# -- downloads --------------------------------------------------------------------------------

POLL = "/api/render/proxy/lambda/"
FALLBACK = "/api/render/proxy/render_1/download"
VIDEO = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 16
"""A small body that begins as an MP4 container, so the client saves it as a video."""


async def download(
    srv: Hostile, tmp_path: Path, secret: str, url: str, target: Path, **options: Any
) -> Any:
    """Resume a completed job whose output is at ``url`` and download it to ``target``: the saved
    path, or the ``NemoError`` raised."""
    srv.on("GET", POLL, json_text(json.dumps({"status": "completed", "outputUrl": url})))
    async with client_for(srv, tmp_path, secret, **options) as client:

        async def go() -> Path:
            job = await client.renderer.resume("render_1")
            return await job.download(target)

        return await outcome(go())


def prepared(tmp_path: Path) -> Path:
    """A download directory holding an older ``out.mp4`` that a failure must not touch."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "out.mp4").write_bytes(b"the old video")
    return out


def untouched(out: Path) -> None:
    """``prepared``'s directory as it was: the old ``out.mp4`` alone, unchanged."""
    assert leftovers(out) == ["out.mp4"], f"stray files: {leftovers(out)}"
    assert (out / "out.mp4").read_bytes() == b"the old video"
