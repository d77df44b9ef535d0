"""The one place that talks HTTP.

Everything that reaches the network goes through :class:`Transport`: it owns the
``aiohttp.ClientSession``, sets the ``Authorization`` and attribution headers, decodes both response
envelopes, maps failures to typed errors (``errors.error_for``) and retries what is safe to retry:

- 429: wait ``Retry-After`` (else ``rate_limit_wait``), then once more;
- 5xx and network errors: idempotent requests only, exponential backoff with jitter, up to
  ``max_retries``; a connection that could not be opened is retried for any request (nothing was sent);
- 1001: renew an anonymous token once and replay.

Chat (``/run_sse``) is sent with ``send_once=True``: after the request may have reached the server
it is never sent again, because a second message is a second charge.

Paths are templates filled with ``segments``: ``request("GET", "/x/{id}", segments={"id": job})``.
Each value is percent-encoded as exactly one path segment; empty, ``.``/``..`` and control-character
values are refused with ``ValidationError`` before anything is sent, so an id can never walk the
URL to another endpoint (``"../../credits"``) with the caller's token.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any

import aiohttp
from yarl import URL

from ._auth import TokenProvider
from ._config import ClientConfig
from ._envelope import Envelope, decode_response
from ._paths import build_path, describe_error, own_error
from ._version import __version__
from .errors import (
    APIError,
    AuthenticationError,
    ClientClosedError,
    MissingClientIdError,
    NemoError,
    RateLimitError,
    ServerError,
    TransportError,
)

if TYPE_CHECKING:
    from tenacity import RetryCallState

log = logging.getLogger("nemovideo.transport")

BodyFactory = Callable[[], Any]

ANONYMOUS_TOKEN_PATH = "/api/auth/anonymous-token"
_MAX_RATE_LIMIT_WAIT = 120.0
_MAX_REDIRECTS = 5
_CONNECT_ERRORS = (aiohttp.ClientConnectorError,)
_NETWORK_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, OSError)


class Transport:
    """HTTP for one client. Not public: reach the API through ``NemoClient``."""

    def __init__(
        self, config: ClientConfig, *, session: aiohttp.ClientSession | None = None
    ) -> None:
        self.config = config
        self.auth = TokenProvider(config)
        self._api = URL(config.base_url)
        self._session = session
        self._urls: dict[str, URL] = {}
        self._attribution = self.attribution_headers()
        self._owns_session = session is None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._session_user_id: str | None = None
        self._timeout = aiohttp.ClientTimeout(
            total=config.request_timeout, connect=config.connect_timeout
        )

    def __repr__(self) -> str:
        return f"<Transport {self.config.base_url} closed={self._closed}>"

    # -- lifecycle ----------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    def _http(self) -> aiohttp.ClientSession:
        if self._closed:
            raise ClientClosedError("This NemoClient is closed; create a new one.")
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        elif loop is not self._loop:
            raise ClientClosedError(
                "This NemoClient was opened on another event loop (each asyncio.run() starts a "
                "new one). Create the client inside the loop that uses it, e.g. in `async def "
                "main()` with `async with NemoClient() as client:`."
            )
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=300),
                timeout=aiohttp.ClientTimeout(
                    total=self.config.request_timeout, connect=self.config.connect_timeout
                ),
                headers={"User-Agent": f"nemovideo-python/{__version__}"},
            )
        return self._session

    async def aclose(self) -> None:
        self._closed = True
        session, self._session = self._session, None
        if session is not None and self._owns_session:
            await session.close()

    # -- URLs and headers ---------------------------------------------------------------------

    def url(self, template: str, segments: Mapping[str, object] | None = None) -> URL:
        """The API URL for ``template`` filled with ``segments`` (see ``build_path``)."""
        return self._url(build_path(template, segments))

    def _url(self, path: str) -> URL:
        """The API URL for an already encoded ``path`` (from ``build_path``)."""
        url = self._urls.get(path)
        if url is None:
            url = self._api.with_path(self._api.raw_path.rstrip("/") + path, encoded=True)
            if len(self._urls) < 256:
                self._urls[path] = url
        return url

    def is_api_url(self, url: URL) -> bool:
        return (url.scheme, url.host, url.port) == (
            self._api.scheme,
            self._api.host,
            self._api.port,
        )

    def attribution_headers(self) -> dict[str, str]:
        return {
            "X-Skill-Source": self.config.skill_name,
            "X-Skill-Version": self.config.skill_version,
            "X-Skill-Platform": self.config.skill_platform,
        }

    @property
    def user_id(self) -> str | None:
        return self.auth.user_id or self._session_user_id

    def note_user_id(self, user_id: Any) -> None:
        if isinstance(user_id, str) and user_id:
            self._session_user_id = user_id
            self.auth.note_user_id(user_id)

    def registration_url(self) -> str | None:
        uid = self.user_id
        if uid and (uid.startswith("anon") or self.auth.renewable):
            return str(URL(self.config.web_url + "/register").with_query(bind=uid))
        return None

    # -- JSON requests ------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        segments: Mapping[str, object] | None = None,
        json_body: Any = None,
        body: BodyFactory | None = None,
        headers: Mapping[str, str] | None = None,
        auth: bool = True,
        idempotent: bool | None = None,
        envelope: Envelope = "code",
        timeout: float | None = None,
    ) -> Any:
        """Send one API request and return the envelope's ``data``.

        ``path`` is a template whose ``{name}`` segments are filled from ``segments``, each value
        percent-encoded (``build_path``). ``body`` is a factory so a retry sends a fresh payload (a
        file reopened from its start), never a half-consumed stream. ``timeout`` (seconds, default
        ``config.request_timeout``) bounds the whole request, whatever the aiohttp session's own
        default is.
        """
        path = build_path(path, segments)
        if idempotent is None:
            idempotent = method.upper() in ("GET", "HEAD", "OPTIONS", "PUT", "DELETE")
        token = await self._token() if auth else None
        try:
            return await self._retrying(
                method, path, token, json_body, body, headers, idempotent, envelope, timeout
            )
        except AuthenticationError as exc:
            if token is None:
                raise
            if not self.auth.renewable:
                raise self.auth.explicit_rejected(exc.http_status) from None
            log.info("Token rejected (1001); renewing the anonymous token once")
            token = await self.auth.refresh(token, self._fetch_anonymous)
            return await self._retrying(
                method, path, token, json_body, body, headers, idempotent, envelope, timeout
            )

    async def _token(self) -> str:
        return await self.auth.token(self._fetch_anonymous)

    async def _fetch_anonymous(self, client_id: str, patient: bool = True) -> Mapping[str, Any]:
        """POST for an anonymous token. Not ``patient``: a 429 raises at once, since the caller
        still holds a valid token and the API only refuses while that one is valid."""
        try:
            data = await self._retrying(
                "POST", ANONYMOUS_TOKEN_PATH, None, None, None,
                {"X-Client-Id": client_id}, False, "code", None, patient,
            )  # fmt: skip
        except MissingClientIdError:
            client_id = self.auth.client_ids.renew()
            data = await self._retrying(
                "POST", ANONYMOUS_TOKEN_PATH, None, None, None,
                {"X-Client-Id": client_id}, False, "code", None, patient,
            )  # fmt: skip
        if not isinstance(data, Mapping):
            raise APIError("The anonymous-token answer was not an object.", http_status=200)
        return data

    async def _retrying(
        self,
        method: str,
        path: str,
        token: str | None,
        json_body: Any,
        body: BodyFactory | None,
        headers: Mapping[str, str] | None,
        idempotent: bool,
        envelope: Envelope,
        timeout: float | None,
        wait_on_429: bool = True,
    ) -> Any:
        rate_limited = 0
        failures = 0

        def should_retry(exc: BaseException) -> bool:
            nonlocal rate_limited, failures
            if isinstance(exc, RateLimitError):
                rate_limited += 1
                return wait_on_429 and rate_limited <= 1 and self._rate_limit_wait(exc) is not None
            never_sent = isinstance(exc, TransportError) and isinstance(
                exc.__cause__, _CONNECT_ERRORS
            )
            if never_sent or (idempotent and isinstance(exc, (ServerError, TransportError))):
                failures += 1
                return failures <= self.config.max_retries
            return False

        try:
            return await self._send(
                method, path, token, json_body, body, headers, envelope, timeout
            )
        except NemoError as exc:
            if not should_retry(exc):
                raise
            await asyncio.sleep(self._delay(exc, 1))
        # The first attempt runs outside tenacity: building a retry controller per call cost ~30%
        # of calls/s at concurrency 100 (benchmarks/bench_requests.py), and importing it only
        # here keeps ~15 ms off `import nemovideo` (benchmarks/bench_import.py).
        from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt

        async for attempt in AsyncRetrying(
            retry=retry_if_exception(should_retry),
            wait=self._wait,
            stop=stop_after_attempt(self.config.max_retries + 1),
            reraise=True,
        ):
            with attempt:
                return await self._send(
                    method, path, token, json_body, body, headers, envelope, timeout
                )
        raise AssertionError("unreachable")  # pragma: no cover

    def _rate_limit_wait(self, exc: RateLimitError) -> float | None:
        wait = self.config.rate_limit_wait if exc.retry_after is None else exc.retry_after
        return wait if wait <= max(_MAX_RATE_LIMIT_WAIT, self.config.rate_limit_wait) else None

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        return self._delay(exc, state.attempt_number + 1)

    def _delay(self, exc: BaseException | None, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based) failed with ``exc``."""
        if isinstance(exc, RateLimitError):
            return self._rate_limit_wait(exc) or 0.0
        ceiling = min(self.config.retry_backoff_max, self.config.retry_backoff * 2**attempt)
        return random.uniform(0, ceiling)  # "full jitter", as tenacity's wait_random_exponential

    def _headers(self, token: str | None, extra: Mapping[str, str] | None) -> dict[str, str]:
        headers = dict(self._attribution)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if extra:
            headers.update(extra)
        return headers

    async def _send(
        self,
        method: str,
        path: str,
        token: str | None,
        json_body: Any,
        body: BodyFactory | None,
        headers: Mapping[str, str] | None,
        envelope: Envelope,
        timeout: float | None,
    ) -> Any:
        started = time.perf_counter()
        kwargs: dict[str, Any] = {"headers": self._headers(token, headers),
                                  "allow_redirects": False}  # fmt: skip
        if json_body is not None:
            kwargs["json"] = json_body
        elif body is not None:
            kwargs["data"] = body()
        kwargs["timeout"] = (
            self._timeout
            if timeout is None
            else aiohttp.ClientTimeout(total=timeout, connect=self.config.connect_timeout)
        )
        try:
            async with self._http().request(method, self._url(path), **kwargs) as resp:
                result = await self._decode(resp, envelope)
        except NemoError:
            raise
        except _NETWORK_ERRORS as exc:
            own = own_error(exc)
            if own is not None:
                raise own from None
            raise self._network_error(method, path, exc) from exc
        finally:
            log.debug("%s %s in %.0f ms", method, path, (time.perf_counter() - started) * 1000)
        return result

    @staticmethod
    def _network_error(method: str, path: str, exc: BaseException) -> TransportError:
        if isinstance(exc, asyncio.TimeoutError):
            return TransportError(f"{method} {path} timed out")
        return TransportError(f"{method} {path} failed: {describe_error(exc)}")

    async def _decode(self, resp: aiohttp.ClientResponse, envelope: Envelope) -> Any:
        return await decode_response(
            resp,
            envelope,
            max_bytes=self.config.max_response_bytes,
            max_upload_bytes=self.config.max_upload_bytes,
            registration_url=self.registration_url,
        )

    # -- streams ------------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def stream(
        self,
        method: str,
        path: str,
        *,
        segments: Mapping[str, object] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        send_once: bool = True,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """Open a streaming API response (chat). Pre-stream failures raise typed errors.

        With ``send_once`` the request is repeated only on answers proving the server refused it
        (429, 1001) or a connection that never opened; never after it may have been processed.
        There is no total timeout (the caller keeps its own deadlines); the connect is bounded.
        """
        path = build_path(path, segments)
        token = await self._token()
        for attempt in range(3):
            try:
                resp = await self._open_stream(method, path, token, json_body, headers)
            except AuthenticationError as exc:
                if not self.auth.renewable:
                    raise self.auth.explicit_rejected(exc.http_status) from None
                if attempt:
                    raise
                token = await self.auth.refresh(token, self._fetch_anonymous)
                continue
            except RateLimitError as exc:
                wait = self._rate_limit_wait(exc)
                if attempt or wait is None:
                    raise
                await asyncio.sleep(wait)
                continue
            except TransportError as exc:
                if attempt or not isinstance(exc.__cause__, _CONNECT_ERRORS) or not send_once:
                    raise
                await asyncio.sleep(self.config.retry_backoff)
                continue
            try:
                yield resp
            finally:
                resp.release()
            return

    async def _open_stream(
        self,
        method: str,
        path: str,
        token: str,
        json_body: Any,
        headers: Mapping[str, str] | None,
    ) -> aiohttp.ClientResponse:
        timeout = aiohttp.ClientTimeout(
            total=None, connect=self.config.connect_timeout, sock_read=None
        )
        try:
            resp = await self._http().request(
                method, self._url(path), json=json_body, headers=self._headers(token, headers),
                timeout=timeout, allow_redirects=False,
            )  # fmt: skip
        except _NETWORK_ERRORS as exc:
            raise self._network_error(method, path, exc) from exc
        if resp.status >= 300 or "json" in (resp.content_type or ""):
            try:
                data = await self._decode(resp, "code")
            except _NETWORK_ERRORS as exc:
                raise self._network_error(method, path, exc) from exc
            finally:
                resp.release()
            raise APIError(
                f"Expected an event stream, got JSON: {str(data)[:200]}", http_status=resp.status
            )
        return resp

    @contextlib.asynccontextmanager
    async def download(self, url: str | URL) -> AsyncIterator[aiohttp.ClientResponse]:
        """GET a file, following redirects by hand: the token goes only to the API's own origin.

        No total timeout (a 200 MB file takes what it takes), but the connect is bounded and so is
        every wait for the next bytes (``config.request_timeout``). A relative ``url`` is an API
        path, already encoded (build it with ``url()``).
        """
        target = URL(url) if isinstance(url, str) else url
        if not target.is_absolute():
            target = self._url(str(target))
        token = await self._token()
        timeout = aiohttp.ClientTimeout(
            total=None, connect=self.config.connect_timeout, sock_read=self.config.request_timeout
        )
        for _ in range(_MAX_REDIRECTS + 1):
            headers = self._headers(token if self.is_api_url(target) else None, None)
            if not self.is_api_url(target):
                headers = {}
            try:
                resp = await self._http().get(
                    target, headers=headers, timeout=timeout, allow_redirects=False
                )
            except _NETWORK_ERRORS as exc:
                raise self._network_error("GET", target.raw_path, exc) from exc
            if resp.status in (301, 302, 303, 307, 308) and "Location" in resp.headers:
                resp.release()
                target = target.join(URL(resp.headers["Location"]))
                continue
            if resp.status >= 400:
                try:
                    await self._decode(resp, "code")
                finally:
                    resp.release()
            try:
                yield resp
            finally:
                resp.release()
            return
        raise TransportError(f"Too many redirects downloading {target.raw_path}")
