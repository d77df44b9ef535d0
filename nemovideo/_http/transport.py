"""The one place that talks HTTP: one request pipeline, one retry policy, one error boundary.

Every request - a JSON call, a chat stream, a file download - is a frozen :class:`~._retry.Call`
run by :meth:`Transport._run`: build the URL from a path template and safe segments, set the
headers (token, attribution, a fresh ``X-Request-Id``), send, read the answer, and on failure ask
the :class:`~._retry.RetryPolicy` whether to try again. What leaves this module is the decoded
answer or a :class:`~nemovideo.errors.NemoError` whose text holds no secret: aiohttp's own
exceptions, ``OSError``, ``ValueError``, ``RecursionError`` and friends stop here.

    data = await transport.call(Call("GET", "/api/render/proxy/lambda/{id}", segments={"id": job},
                                     envelope="render"))

Paths are templates filled with ``segments``; each value is percent-encoded as exactly one path
segment, so an id can never walk the URL to another endpoint (``"../../credits"``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import aiohttp
import attrs
from yarl import URL

from nemovideo._config.config import ClientConfig
from nemovideo._http import endpoints as api
from nemovideo._http.auth import TokenProvider
from nemovideo._http.envelope import check_event_stream, decode_response
from nemovideo._http.exchange import Exchange, Reader, last_request_id
from nemovideo._http.paths import build_path, is_safe_id
from nemovideo._http.pool import Pool
from nemovideo._http.redact import register_secret
from nemovideo._http.retry import Call, RetryPolicy
from nemovideo.errors import APIError, NemoError, Subject

__all__ = ["ANONYMOUS_TOKEN_PATH", "OpenStream", "RetryHook", "Transport"]

log = logging.getLogger("nemovideo.transport")

T = TypeVar("T")
RetryHook = Callable[[Call, NemoError, float], Any]

ANONYMOUS_TOKEN_PATH = api.ANONYMOUS_TOKEN.path


class Transport:
    """HTTP for one client. Not public: reach the API through ``NemoClient``."""

    def __init__(
        self,
        config: ClientConfig,
        *,
        session: aiohttp.ClientSession | None = None,
        trace_configs: Sequence[aiohttp.TraceConfig] = (),
        on_retry: RetryHook | None = None,
        _shared: tuple[Pool, TokenProvider] | None = None,
    ) -> None:
        self.config = config
        self.policy = RetryPolicy.from_config(config)
        self.on_retry = on_retry
        self._api = URL(config.base_url)
        self._urls: dict[str, URL] = {}
        self.is_view = _shared is not None
        if _shared is None:
            timeout = aiohttp.ClientTimeout(
                total=config.request_timeout, connect=config.connect_timeout
            )
            pool = Pool(
                session,
                trace_configs,
                timeout,
                limit=config.max_connections,
                limit_per_host=config.max_connections_per_host,
            )
            self.pool, self.auth = pool, TokenProvider(config)
            register_secret(config.token)
        else:
            self.pool, self.auth = _shared
        self._exchange = Exchange(config, self.pool, self._api, self._answer)

    def __repr__(self) -> str:
        return f"<Transport {self.config.base_url} closed={self.closed}>"

    def with_config(self, config: ClientConfig, on_retry: RetryHook | None = None) -> Transport:
        """A view with other options that shares this one's pool and token provider.

        ``NemoClient.with_options`` builds on this: the view's requests use ``config``'s
        timeouts, retries and waits, while the connection pool, the token provider (so one
        renewal serves both) and the lifecycle stay the parent's.
        """
        hook = on_retry if on_retry is not None else self.on_retry
        return Transport(config, on_retry=hook, _shared=(self.pool, self.auth))

    # -- lifecycle ----------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self.pool.closed

    @property
    def owns_session(self) -> bool:
        return self.pool.owns_session

    @property
    def has_open_session(self) -> bool:
        return self.pool.has_open_session

    def _http(self) -> aiohttp.ClientSession:
        return self.pool.http()

    async def aclose(self) -> None:
        if not self.is_view:  # a view closes nothing: the pool is its parent's
            await self.pool.aclose()

    def chat_lock(self, session_id: str) -> asyncio.Lock:
        return self.pool.chat_lock(session_id)

    # -- URLs and headers ---------------------------------------------------------------------

    def url(self, template: str, segments: Mapping[str, object] | None = None) -> URL:
        """The API URL for ``template`` filled with ``segments`` (see ``build_path``)."""
        return self._url(build_path(template, segments))

    def _url(self, path: str) -> URL:
        url = self._urls.get(path)
        if url is None:
            url = self._api.with_path(self._api.raw_path.rstrip("/") + path, encoded=True)
            if len(self._urls) < 256:
                self._urls[path] = url
        return url

    def is_api_url(self, url: URL) -> bool:
        return self._exchange.is_api_url(url)

    @property
    def user_id(self) -> str | None:
        return self.auth.user_id or self.pool.user_id

    def note_user_id(self, user_id: Any) -> None:
        if is_safe_id(user_id):  # no surrogate or control character: it goes into a URL
            assert isinstance(user_id, str)
            self.pool.user_id = user_id
            self.auth.note_user_id(user_id)

    def registration_url(self) -> str | None:
        uid = self.user_id
        if uid and (uid.startswith("anon") or self.auth.renewable):
            return str(URL(self.config.web_url + "/register").with_query(bind=uid))
        return None

    @staticmethod
    def request_id() -> str | None:
        """The request id of the latest request this task made (the server's, else ours)."""
        return last_request_id.get()

    # -- the pipeline -------------------------------------------------------------------------

    def call(self, call: Call) -> Awaitable[Any]:
        """Run ``call`` through the pipeline; the answer's ``data``. The pipeline's own
        coroutine, and no reader made for it (``read=None``: :meth:`_answer`): a request
        waiting for its answer holds no frame or closure more than the pipeline's."""
        return self._run(call, None)

    def _answer(self, resp: aiohttp.ClientResponse, call: Call) -> Awaitable[Any]:
        """How an answer is read when the call brings no reader: an event stream (a chat)
        checked and handed back open; any other answer decoded through its envelope."""
        if call.stream:
            return self._opened(resp, call)
        return self._decode(resp, call)

    async def _run(
        self,
        call: Call,
        read: Reader[T] | None,
        *,
        url: URL | None = None,
        keep_open: bool = False,
    ) -> T:
        """One attempt; after a failure, the retry loop (``retrying``): the only place that
        retries. ``read`` None: the exchange's default (:meth:`_answer`)."""
        target = url if url is not None else self._url(build_path(call.path, call.segments))
        token = self.auth.ready() if call.auth else None  # no coroutine unless one is fetched
        if token is not None:
            register_secret(token)  # a renewed token is hidden from the first text it could reach
        elif call.auth:
            token = await self.token()
        try:
            return await self._exchange.attempt(call, target, token, read, keep_open)
        except NemoError as exc:
            first = exc
        return await self._retry(first, call, target, token, read, keep_open)

    async def _retry(
        self,
        first: NemoError,
        call: Call,
        target: URL,
        token: str | None,
        read: Reader[T] | None,
        keep_open: bool,
    ) -> T:
        """The retry loop after ``first`` failed. Apart from ``_run`` so that the closure it
        needs costs nothing on success: a function's variables that a nested function reads
        are cells, made on every call of it, whether the nested function is ever made or not."""
        from nemovideo._http.retrying import retry_after_failure  # tenacity: on failure only

        def send(token: str | None) -> Awaitable[T]:
            return self._exchange.attempt(call, target, token, read, keep_open)

        return await retry_after_failure(first, call, token, send, self)

    # -- what the retry loop needs (RetryHooks) -------------------------------------------------

    def renewable(self) -> bool:
        return self.auth.renewable

    def rejected(self, http_status: int | None) -> NemoError:
        return self.auth.explicit_rejected(http_status)

    async def renew(self, token: str) -> str:
        return await self.auth.refresh(token, self._fetch_anonymous)

    def _decode(self, resp: aiohttp.ClientResponse, call: Call) -> Awaitable[Any]:
        return decode_response(
            resp,
            call.envelope,
            max_bytes=self.config.max_response_bytes,
            max_upload_bytes=self.config.max_upload_bytes,
            registration_url=self.registration_url,
            subject=_subject_of(call),
            job_id=_job_id_of(call),
        )

    # -- tokens -------------------------------------------------------------------------------

    async def token(self) -> str:
        """The bearer token this client sends (fetching an anonymous one if it has none)."""
        token = await self.auth.token(self._fetch_anonymous)
        register_secret(token)
        return token

    async def _fetch_anonymous(self, client_id: str, patient: bool = True) -> Mapping[str, Any]:
        """POST for an anonymous token. Not ``patient``: a 429 raises at once, since the caller
        still holds a valid token and the API only refuses while that one is valid."""
        from nemovideo.errors import MissingClientIdError

        def call_for(cid: str) -> Call:
            ep = api.ANONYMOUS_TOKEN
            return Call(
                ep.method,
                ep.path,
                headers={"X-Client-Id": cid},
                auth=ep.auth,
                resend=ep.resend,
                envelope=ep.envelope,
                patient=patient,
            )

        try:
            data = await self.call(call_for(client_id))
        except MissingClientIdError:
            data = await self.call(call_for(self.auth.client_ids.renew()))
        if not isinstance(data, Mapping):
            raise APIError("The anonymous-token answer was not an object.", http_status=200)
        return data

    # -- streams and downloads ----------------------------------------------------------------

    def stream(self, call: Call) -> OpenStream:
        """Open an event stream (chat): ``async with transport.stream(call) as resp``;
        pre-stream failures raise typed errors (the call is built by ``Api.stream``)."""
        return OpenStream(self, call)

    def open_stream(self, call: Call) -> Awaitable[aiohttp.ClientResponse]:
        """Send the stream ``call``; its answer once it is known to be an event stream (body
        unread; the caller releases it). The pipeline's own coroutine, not one more around it:
        a thousand streams waiting for their headers each hold one frame less."""
        return self._run(call, None, keep_open=True)

    async def _opened(self, resp: aiohttp.ClientResponse, call: Call) -> aiohttp.ClientResponse:
        await check_event_stream(resp, lambda answer: self._decode(answer, call))
        return resp

    async def download(
        self,
        url: str | URL,
        consume: Reader[T],
        *,
        timeout: float | None = None,
        start: int = 0,
    ) -> T:
        """GET a file and hand the answer to ``consume``; retried whole on network failures.

        The token and attribution headers go only to the API's own origin, also across
        redirects (followed here, at most five). Every wait for the next bytes is bounded by
        ``request_timeout``; ``timeout`` (else ``config.download_timeout``, else none) bounds
        the whole download. Only a 2xx answer with a body reaches ``consume``: any other is a
        typed error and nothing is saved. ``consume`` must start over on each call (a retry
        after a broken transfer).

        ``start`` > 0 asks for the bytes from that offset on (``Range: bytes=<start>-``, sent to
        any host): ``consume`` then also gets a 206 answer, and must read its ``Content-Range``
        (a server that ignores ranges answers 200 with the whole file), and a 416 (nothing
        from ``start`` on: ``Content-Range: bytes */<size>`` says whether the caller's bytes
        are the whole file or more than it).
        """
        target = URL(url) if isinstance(url, str) else url
        if not target.is_absolute():
            target = self._url(str(target))
        deadline = self.config.download_timeout if timeout is None else timeout
        ranged = {"Range": f"bytes={start}-"} if start > 0 else None
        call = Call(
            "GET",
            target.path if self.is_api_url(target) else "<download>",
            headers=ranged,
            envelope="none",
            stream=True,
            timeout=deadline,
            idle_timeout=self.config.request_timeout,
            follow_redirects=True,
        )

        async def checked(resp: aiohttp.ClientResponse) -> T:
            # 206 is the asked-for part of a ranged download, 416 says there is nothing after
            # ``start`` (``consume`` reads its Content-Range); 204 (nothing) is never the video
            if resp.status != 200 and not (ranged and resp.status in (206, 416)):
                await self._decode(resp, attrs.evolve(call, envelope="code"))
                raise APIError(
                    f"The download answered {resp.status} {resp.reason or ''}".rstrip()
                    + "; nothing was saved.",
                    http_status=resp.status,
                )
            return await consume(resp)

        return await self._run(call, checked, url=target)


class OpenStream:
    """What ``Transport.stream`` returns: entering sends the call and checks that the answer is
    an event stream; leaving releases the connection.

    A small class rather than an ``asynccontextmanager``: a chat stream lives for the whole
    answer, and a generator-based manager would keep a generator, its frame and two closures
    alive (and tracked by the garbage collector) for every open stream.
    """

    __slots__ = ("_call", "_resp", "_transport")

    def __init__(self, transport: Transport, call: Call) -> None:
        self._transport = transport
        self._call: Call | None = call
        self._resp: aiohttp.ClientResponse | None = None

    async def __aenter__(self) -> aiohttp.ClientResponse:
        call, self._call = self._call, None  # sent once; not held (with its body) while open
        if call is None:
            raise RuntimeError("an event stream is opened once")
        self._resp = await self._transport.open_stream(call)
        return self._resp

    async def __aexit__(self, *exc_info: object) -> None:
        resp, self._resp = self._resp, None
        if resp is not None:
            resp.release()


def _subject_of(call: Call) -> Subject | None:
    """What ``call`` is about, for what a bare 400 or a 404 means (``errors.error_for``)."""
    if call.path == ANONYMOUS_TOKEN_PATH:
        return "client_id"
    if call.envelope == "render":
        return "job"
    if "{sid}" in call.path or call.path == api.CHAT.path:
        return "session"
    return None


def _job_id_of(call: Call) -> str | None:
    """The render job a call is about, for a render failure's message."""
    if call.envelope != "render":
        return None
    if call.segments and isinstance(call.segments.get("id"), str):
        return str(call.segments["id"])
    body = call.json_body
    return str(body["id"]) if isinstance(body, Mapping) and "id" in body else None
