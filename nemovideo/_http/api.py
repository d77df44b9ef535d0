"""``Api``: the one narrow handle every service holds to reach the server.

Session, Uploader, Renderer, RenderJob and ChatStream need to call endpoints, open a chat stream,
download a file, read the config, hold a session's chat lock and learn the last request id. They
get exactly that, as ``client.api``, and nothing else: not the transport's token provider, pool or
lifecycle, not the client. Calls name an entry of the endpoint table (``_http.endpoints``), so the
table decides method, path, envelope, auth and whether a request may be re-sent everywhere::

    data = await client.api.send(endpoints.STATE, segments={"sid": session_id})
    async with client.api.stream(endpoints.CHAT, json_body=body) as resp: ...
    await client.api.download(endpoints.DOWNLOAD, consume, segments={"id": job_id})

``request`` stays for a call the SDK does not wrap yet (``client.api.request("GET", path)``).
Each method hands back the transport's own awaitable (no coroutine of its own), so the handle
costs a method call, not a frame, per request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from typing_extensions import Unpack
from yarl import URL

from nemovideo._http.endpoints import Endpoint
from nemovideo._http.retry import Call, CallOptions
from nemovideo._util.plain import refuse_pickle

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from nemovideo._config.config import ClientConfig
    from nemovideo._http.exchange import Reader
    from nemovideo._http.retry import Envelope
    from nemovideo._http.transport import OpenStream, RetryHook, Transport
    from nemovideo.client import NemoClient
    from nemovideo.errors import NemoError

__all__ = ["Api", "Service"]

T = TypeVar("T")

#: The ``Call`` of an endpoint sent without options (``credits()``), built once: a ``Call`` is
#: frozen, and building one (sixteen fields, each set through the frozen class's setattr) was
#: 4% of a ``credits()`` call's instructions, a third of what the SDK adds to raw aiohttp.
#: Keyed by the endpoint itself (``Endpoint`` compares by identity).
_bare: dict[Endpoint, Call] = {}


class Api:
    """What a service may do with the server (see the module docstring). Not public: reach it
    as ``client.api``."""

    __slots__ = ("_transport",)

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def __repr__(self) -> str:
        return f"<Api {self.config.base_url}>"

    @property
    def config(self) -> ClientConfig:
        """The client's configuration (timeouts, waits, limits)."""
        return self._transport.config

    def send(self, endpoint: Endpoint, **options: Unpack[CallOptions]) -> Awaitable[Any]:
        """Call one documented endpoint; the answer's ``data`` (the envelope removed).

        Method, path, envelope, auth and whether the request may be re-sent come from the table;
        ``options`` are the call's own (``segments``, ``json_body``, ``body``, ``headers``,
        ``timeout``, ``retry_status``).
        """
        call = None if options else _bare.get(endpoint)
        if call is None:
            call = Call(
                endpoint.method,
                endpoint.path,
                auth=endpoint.auth,
                resend=endpoint.resend,
                envelope=endpoint.envelope,
                **options,
            )
            if not options and len(_bare) < 64:
                _bare[endpoint] = call
        return self._transport.call(call)

    def request(
        self,
        method: str,
        path: str,
        *,
        auth: bool = True,
        resend: bool | None = None,
        envelope: Envelope = "code",
        **options: Unpack[CallOptions],
    ) -> Awaitable[Any]:
        """A call the endpoint table does not name yet: ``resend`` defaults to true for
        GET/HEAD/OPTIONS/PUT/DELETE; the answer's ``data``."""
        if resend is None:
            resend = method.upper() in ("GET", "HEAD", "OPTIONS", "PUT", "DELETE")
        call = Call(method, path, auth=auth, resend=resend, envelope=envelope, **options)
        return self._transport.call(call)

    def stream(
        self,
        endpoint: Endpoint,
        *,
        segments: Mapping[str, object] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> OpenStream:
        """``async with api.stream(endpoints.CHAT, json_body=...) as resp``: an event stream,
        sent once, whatever the table says of the endpoint (a message is never re-sent). The
        wait for the answer's headers is bounded by the stream's own limits, so a server that
        reads the message and stays silent ends in ``StreamTimeoutError``; once open, the
        caller's clock bounds the body."""
        config = self.config
        call = Call(
            endpoint.method,
            endpoint.path,
            segments,
            json_body,
            headers=headers,
            auth=endpoint.auth,
            resend=False,
            envelope=endpoint.envelope,
            stream=True,
            open_timeout=min(config.stream_timeout, config.stream_idle_timeout),
        )
        return self._transport.stream(call)

    def download(
        self,
        source: Endpoint | str | URL,
        consume: Reader[T],
        *,
        segments: Mapping[str, object] | None = None,
        timeout: float | None = None,
        start: int = 0,
    ) -> Awaitable[T]:
        """GET a file (an endpoint of the table, or a URL such as a render's ``outputUrl``) and
        hand the answer to ``consume``; the token goes only to the API's own origin. ``start``
        asks for the bytes from that offset on (an HTTP Range: a 206 answer is accepted)."""
        url = self.url(source, segments) if isinstance(source, Endpoint) else source
        return self._transport.download(url, consume, timeout=timeout, start=start)

    def url(self, target: Endpoint | str, segments: Mapping[str, object] | None = None) -> URL:
        """The API URL of an endpoint (or a path template) filled with ``segments``."""
        return self._transport.url(
            target.path if isinstance(target, Endpoint) else target, segments
        )

    def is_api_url(self, url: URL) -> bool:
        """True for a URL on the API's own origin (where the token may go)."""
        return self._transport.is_api_url(url)

    def chat_lock(self, session_id: str) -> asyncio.Lock:
        """The lock that keeps one session's messages in order across tasks."""
        return self._transport.chat_lock(session_id)

    def request_id(self) -> str | None:
        """The request id of the latest request this task made (the server's, else ours)."""
        return self._transport.request_id()

    def watching(self, hook: RetryHook) -> Api:
        """A view whose retries are also reported to ``hook`` (before the client's own
        ``on_retry``): how a service learns that a request was re-sent after a lost answer."""
        transport = self._transport
        own = transport.on_retry

        def both(call: Call, error: NemoError, delay: float) -> Any:
            hook(call, error, delay)
            return None if own is None else own(call, error, delay)

        return Api(transport.with_config(transport.config, on_retry=both))

    def registration_url(self) -> str | None:
        """``<web>/register?bind=<user_id>`` for an anonymous user, once the id is known."""
        return self._transport.registration_url()


class Service:
    """What a client-bound object (``Session``, ``Renderer``) shares: the client it belongs to,
    its ``Api`` handle, and the refusal to be pickled (ids cross processes, not connections)."""

    __slots__ = ()
    _client: NemoClient

    def __reduce__(self) -> NoReturn:
        refuse_pickle(type(self).__name__)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} base_url={self._client.config.base_url!r}>"

    @property
    def client(self) -> NemoClient:
        """The client this object talks through (its config, credits, renderer)."""
        return self._client

    @property
    def _api(self) -> Api:
        return self._client.api
