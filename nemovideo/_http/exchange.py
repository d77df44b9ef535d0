"""One attempt of one call: open the request (following redirects where asked), read the answer,
and turn whatever went wrong into a ``NemoError`` - the SDK's one error boundary.

:class:`Exchange` knows the wire: the headers (token and attribution only for the API's own origin,
a fresh ``X-Request-Id``), the proxy, the timeouts, and which failures are the network's. The retry
loop around it lives in ``_transport``; nothing here decides to try again.
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import aiohttp
from yarl import URL

from nemovideo._config.config import ClientConfig
from nemovideo._http.paths import describe_error, own_error
from nemovideo._http.pool import Pool
from nemovideo._http.redact import redact
from nemovideo._http.retry import Call
from nemovideo._util.deadline import Deadline
from nemovideo.errors import APIError, NemoError, StreamTimeoutError, TransportError

__all__ = ["REQUEST_ID_HEADER", "Exchange", "Reader", "last_request_id"]

log = logging.getLogger("nemovideo.transport")

T = TypeVar("T")
Reader = Callable[[aiohttp.ClientResponse], Awaitable[T]]
Answer = Callable[[aiohttp.ClientResponse, Call], Awaitable[Any]]

REQUEST_ID_HEADER = "X-Request-Id"
_MAX_REDIRECTS = 5
_REDIRECTS = frozenset((301, 302, 303, 307, 308))
_NETWORK_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, OSError)
_UNREADABLE = (ValueError, RecursionError, OverflowError, UnicodeError)

# Request ids: a random prefix per process and a counter (unique without a syscall per request).
_RID_PREFIX = f"req_{secrets.token_hex(8)}_"
_rid_counter = itertools.count(1)

#: The request id of the latest request made by the current task (the server's, else ours).
last_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "nemovideo_request_id", default=None
)


class Exchange:
    """Sends one attempt of a ``Call`` for one transport (its config, the shared pool).

    ``answer(resp, call)`` reads an answer when the attempt brings no reader of its own (the
    transport's decoding): one bound method for every call, not a closure made per call.
    """

    def __init__(self, config: ClientConfig, pool: Pool, api: URL, answer: Answer) -> None:
        self.config = config
        self.pool = pool
        self._api = api
        self._answer = answer
        self._attribution = {
            "X-Skill-Source": config.skill_name,
            "X-Skill-Version": config.skill_version,
            "X-Skill-Platform": config.skill_platform,
        }
        self._timeout = aiohttp.ClientTimeout(
            total=config.request_timeout, connect=config.connect_timeout
        )
        self._timeouts: dict[tuple[float | None, float | None], aiohttp.ClientTimeout] = {}
        self._api_route: tuple[bool, URL | None, aiohttp.BasicAuth | None] | None = None
        self._api_url: URL | None = None  # the latest URL found on the API's origin

    def is_api_url(self, url: URL) -> bool:
        return (url.scheme, url.host, url.port) == (
            self._api.scheme,
            self._api.host,
            self._api.port,
        )

    async def attempt(
        self, call: Call, url: URL, token: str | None, read: Reader[T] | None, keep_open: bool
    ) -> T:
        """One try: send, read (with ``read``, else ``answer``), and turn every failure into a
        ``NemoError``."""
        rid = f"{_RID_PREFIX}{next(_rid_counter):x}"
        last_request_id.set(rid)
        started = time.perf_counter()
        resp: aiohttp.ClientResponse | None = None
        try:
            resp = await self._send(call, url, token, rid)
            sent_rid = resp.headers.get(REQUEST_ID_HEADER, "")
            if sent_rid and len(sent_rid) <= 128 and sent_rid.isprintable():
                rid = redact(sent_rid)
                last_request_id.set(rid)
            value: T = await (self._answer(resp, call) if read is None else read(resp))
            if not keep_open:
                resp.release()
            return value
        except BaseException as exc:
            if resp is not None:
                resp.release()
            error = self._as_nemo_error(call, exc, resp)
            if error is None:
                raise
            if error.request_id is None:
                error.request_id = rid
            if error is exc:
                raise
            # Not chained: aiohttp's exceptions carry the request headers (the token) in repr.
            raise error from None
        finally:
            if log.isEnabledFor(logging.DEBUG):
                elapsed = (time.perf_counter() - started) * 1000
                status = resp.status if resp is not None else None
                log.debug(
                    "%s %s -> %s in %.0f ms [%s]",
                    call.method,
                    call.path,
                    status,
                    elapsed,
                    rid,
                    extra={
                        "method": call.method,
                        "path": call.path,
                        "status": status,
                        "elapsed_ms": round(elapsed, 1),
                        "request_id": rid,
                    },
                )

    def _as_nemo_error(
        self, call: Call, exc: BaseException, resp: aiohttp.ClientResponse | None
    ) -> NemoError | None:
        """The error boundary: what an attempt raised, as a ``NemoError``; ``None`` for what must
        pass untouched (cancellation, ``KeyboardInterrupt``, ``SystemExit``)."""
        if isinstance(exc, NemoError):
            return exc
        if isinstance(exc, _NETWORK_ERRORS):
            return own_error(exc) or self._network_error(call, exc)
        if isinstance(exc, _UNREADABLE):
            return APIError(
                f"{call.describe()}: the answer could not be read ({type(exc).__name__}).",
                http_status=resp.status if resp is not None else None,
            )
        return None

    def _send(
        self, call: Call, url: URL, token: str | None, rid: str
    ) -> Awaitable[aiohttp.ClientResponse]:
        """Send ``call`` to ``url``: awaited, the answer with its headers read (body unread).

        Not a coroutine itself but the request's own awaitable (a redirect-following call
        aside): a thousand requests waiting for their answers hold one frame fewer each.
        """
        if call.follow_redirects:
            return self._follow(call, url, token, rid)
        return self._request(call, url, self._kwargs(call, url, token, rid))

    def _request(
        self, call: Call, url: URL, kwargs: dict[str, Any]
    ) -> Awaitable[aiohttp.ClientResponse]:
        request = self.pool.http().request(call.method, url, **kwargs)
        if call.open_timeout is None:
            return request
        return self._send_bounded(call, request)

    def _kwargs(self, call: Call, url: URL, token: str | None, rid: str) -> dict[str, Any]:
        """aiohttp's arguments for sending ``call`` to ``url`` (the token only to the API)."""
        kwargs: dict[str, Any] = {"allow_redirects": False, "timeout": self._timeout_for(call)}
        api, proxy, proxy_auth = self._route(url)
        if proxy is not None:
            kwargs["proxy"], kwargs["proxy_auth"] = proxy, proxy_auth
        kwargs["headers"] = (
            self._headers(token, call.headers, rid)
            if api
            else {k: v for k, v in (call.headers or {}).items() if k == "Range"}
        )
        if call.json_body is not None:
            kwargs["json"] = call.json_body
        elif call.body is not None:
            kwargs["data"] = call.body()
        return kwargs

    async def _follow(
        self, call: Call, url: URL, token: str | None, rid: str
    ) -> aiohttp.ClientResponse:
        """Send ``call``, following up to five redirects (downloads)."""
        for _ in range(_MAX_REDIRECTS + 1):
            resp = await self._request(call, url, self._kwargs(call, url, token, rid))
            if resp.status not in _REDIRECTS:
                return resp
            location = resp.headers.get("Location")
            resp.release()
            if not location:
                raise APIError(
                    f"{call.describe()}: the server answered {resp.status} (a redirect) without "
                    "saying where to; nothing was saved.",
                    http_status=resp.status,
                )
            url = url.join(URL(location))
        raise APIError(
            f"{call.describe()}: more than {_MAX_REDIRECTS} redirects; nothing was saved."
        )

    async def _send_bounded(
        self, call: Call, request: Awaitable[aiohttp.ClientResponse]
    ) -> aiohttp.ClientResponse:
        """Await ``request`` (sent then), at most ``call.open_timeout`` for the answer's headers.

        The bound is a :class:`Deadline` (a timer on this task), not ``asyncio.wait_for``
        and its task per request; a cancellation from outside still passes through as it came.
        """
        assert call.open_timeout is not None
        deadline = Deadline(call.open_timeout)
        try:
            return await request
        except asyncio.CancelledError:
            if not deadline.expired():
                raise
            raise StreamTimeoutError(
                f"{call.describe()}: no answer within {call.open_timeout:g} s of sending. The "
                "request was NOT re-sent; check the session's state before sending it again."
            ) from None
        finally:
            deadline.cancel()

    def _route(self, url: URL) -> tuple[bool, URL | None, aiohttp.BasicAuth | None]:
        """Whether ``url`` is the API's origin, and its proxy: ``config.proxy``, else
        (``trust_env``) the environment's, resolved once per origin (``Pool.env_proxy``). The
        API's own answer is kept, so the common request decides nothing again, and the latest
        URL found on that origin is known by identity (the transport reuses its URL objects)."""
        if url is self._api_url and self._api_route is not None:
            return self._api_route
        api = self.is_api_url(url)
        if api and self._api_route is not None:
            self._api_url = url
            return self._api_route
        proxy: URL | None = None
        auth: aiohttp.BasicAuth | None = None
        if self.config.proxy:
            proxy = URL(self.config.proxy)
        elif self.config.trust_env:
            proxy, auth = self.pool.env_proxy(url) or (None, None)
        if api:
            self._api_route = (True, proxy, auth)
        return api, proxy, auth

    def _timeout_for(self, call: Call) -> aiohttp.ClientTimeout:
        """The aiohttp timeout of ``call``'s attempts, built once per distinct bound (every chat
        stream shares one) instead of once per request."""
        if call.timeout is None and not call.stream:
            return self._timeout
        total = call.timeout if call.stream else call.timeout or self.config.request_timeout
        key = (total, call.idle_timeout)
        timeout = self._timeouts.get(key)
        if timeout is None:
            timeout = aiohttp.ClientTimeout(
                total=total, connect=self.config.connect_timeout, sock_read=call.idle_timeout
            )
            if len(self._timeouts) < 32:
                self._timeouts[key] = timeout
        return timeout

    def _headers(
        self, token: str | None, extra: Mapping[str, str] | None, request_id: str
    ) -> dict[str, str]:
        headers = dict(self._attribution)
        headers[REQUEST_ID_HEADER] = request_id
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if extra:
            headers.update(extra)
        return headers

    @staticmethod
    def _network_error(call: Call, exc: BaseException) -> TransportError:
        connect = isinstance(exc, (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError))
        if isinstance(exc, asyncio.TimeoutError) and not connect:
            error = TransportError(f"{call.describe()} timed out")
        elif isinstance(exc, aiohttp.ConnectionTimeoutError):
            error = TransportError(f"{call.describe()} failed: could not connect in time")
        else:
            error = TransportError(f"{call.describe()} failed: {describe_error(exc)}")
        error.never_sent = connect
        return error
