"""The emulator: a local NemoVideo API (docs/protocol.md) and a CDN origin, both on loopback.

    async with Emulator() as emu:
        client = nemovideo.NemoClient(config=nemovideo.ClientConfig(base_url=emu.url))
        ...
        assert emu.requests_to("/api/credits")[0].headers["X-Skill-Source"]
        assert not any("Authorization" in r.headers for r in emu.cdn_requests)

The API origin answers the documented endpoints in the ``{"code", "message", "data"}`` envelope;
the CDN origin serves stored files (uploads, render outputs) under ``/files/<name>`` with Range
support. The routes live in their own modules, one per area (``_core_routes``, ``_upload``,
``_render``, ``_chat``), declared from the endpoint table (:mod:`nemovideo._http.endpoints`); they
find this emulator on their application (``request.app[EMULATOR]``) and answer through the helpers
of :mod:`._responses`, which the methods below wrap in the emulator's current error style.
"""

from __future__ import annotations

import asyncio
import ipaddress
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.typedefs import Handler

from nemovideo._util.closing import AsyncClosing
from nemovideo._util.served import forget_served, note_served
from nemovideo.testing._chat import service as _chat
from nemovideo.testing._chat.controls import ChatControls
from nemovideo.testing._render import service as _render
from nemovideo.testing._render.controls import RenderControls
from nemovideo.testing._server import core_routes as _core_routes
from nemovideo.testing._server import responses as _responses
from nemovideo.testing._server.cdn import cdn_app
from nemovideo.testing._server.keys import EMULATOR
from nemovideo.testing._server.responses import ATTRIBUTION_HEADERS, ERROR_STYLES
from nemovideo.testing._server.store import (
    DEFAULT_MESSAGES,
    APIFailure,
    RecordedRequest,
    SessionRecord,
    Store,
    User,
)
from nemovideo.testing._upload import service as _upload
from nemovideo.testing.faults import Faults

__all__ = ["ATTRIBUTION_HEADERS", "ERROR_STYLES", "Emulator"]

_SHUTDOWN_TIMEOUT = 0.5


def _origin(host: str, port: int) -> str:
    try:
        literal = f"[{host}]" if ipaddress.ip_address(host).version == 6 else host
    except ValueError:
        literal = host
    return f"http://{literal}:{port}"


@web.middleware
async def _record_and_fault(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Record the request, let a fault rule answer it, else the route; a lost answer is cut."""
    emu = request.app[EMULATOR]
    await _responses.record(request, emu.requests)
    answer = await emu.faults.intercept(request)
    if answer is not None:
        return answer
    response = await handler(request)
    if emu.faults.answer_lost(request):
        return web.Response(status=500)
    return response


@web.middleware
async def _failures(request: web.Request, handler: Handler) -> web.StreamResponse:
    """An ``APIFailure`` raised by a route becomes its answer in the current error style."""
    try:
        return await handler(request)
    except APIFailure as failure:
        return request.app[EMULATOR].failure_response(failure)


_T = TypeVar("_T")


def _started(value: _T | None, hint: str = "use `async with Emulator() as emu`") -> _T:
    """``value``, which ``start()`` sets; before it, a RuntimeError that says so."""
    if value is None:
        raise RuntimeError(f"The emulator is not started; {hint}.")
    return value


def _users(store: Store, user_id: str | None) -> list[User]:
    """The user ``user_id`` names, or every user there is (``None``)."""
    return list(store.users.values()) if user_id is None else [store.users[user_id]]


class Emulator(AsyncClosing):
    """A faithful local NemoVideo server with fault injection; see the module docstring.

    ``error_style`` ``"body"`` answers failures with HTTP 200 and a non-zero ``code``; ``"status"``
    with the matching HTTP status and the same body. It can be changed at any time.

    Three control surfaces, plain attributes each changeable (or replaced) mid-test:
    ``emu.faults`` (HTTP-level faults: 429, 5xx, resets, lost answers, expired tokens, dropped
    sessions), ``emu.chat`` (:class:`ChatControls`, the editing agent: timing, heartbeat form,
    dialect, silent edits, dropped streams) and ``emu.render`` (:class:`RenderControls`: render
    size, failures, refusals, held jobs, poll answer and failure shapes, broken downloads)::

        emu.chat.silent = True              # the next edit ends without text
        emu.render.fail_next("GPU lost")    # the next render fails with that reason
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        cdn_port: int = 0,
        token_ttl: float = 7 * 24 * 3600.0,
        initial_credits: int = 100,
        error_style: str = "body",
        data_dir: str | Path | None = None,
        max_upload_bytes: int = 200 * 1024 * 1024,
    ) -> None:
        self.host = host
        self.port = port
        self.cdn_port = cdn_port
        self.token_ttl = token_ttl
        self.max_upload_bytes = max_upload_bytes
        self.error_style = error_style
        self.store = Store(initial_credits=initial_credits)
        self.faults = Faults(self)
        self.chat = ChatControls()
        self.render = RenderControls()
        self.requests: list[RecordedRequest] = []
        self.cdn_requests: list[RecordedRequest] = []
        self._data_dir_arg = Path(data_dir) if data_dir is not None else None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._data_dir: Path | None = None
        self._runners: list[web.AppRunner] = []
        self._url: str | None = None
        self._cdn_url: str | None = None

    def __repr__(self) -> str:
        return f"<Emulator url={self._url!r} cdn_url={self._cdn_url!r}>"

    # -- configuration ------------------------------------------------------------------------

    @property
    def error_style(self) -> str:
        """``"body"`` or ``"status"``; see the class docstring.

        Switch it mid-test to check the client reads both styles::

            emu.error_style = "status"   # 1001 now comes back as HTTP 401
        """
        return self._error_style

    @error_style.setter
    def error_style(self, value: str) -> None:
        if value not in ERROR_STYLES:
            raise ValueError(f"error_style must be one of {ERROR_STYLES}, got {value!r}")
        self._error_style = value

    @property
    def url(self) -> str:
        """The API origin, ``http://127.0.0.1:<port>``, to use as the client's ``base_url``."""
        return _started(self._url)

    @property
    def cdn_url(self) -> str:
        """The CDN origin, a second host so tests can check no token is sent off the API host."""
        return _started(self._cdn_url)

    @property
    def data_dir(self) -> Path:
        """Where the emulator keeps files: ``data_dir=`` if given, else a temp dir gone on close."""
        return _started(self._data_dir, "it has no data dir yet")

    @property
    def files_dir(self) -> Path:
        """Where files served by the CDN origin live (``<data_dir>/files``)."""
        return self.data_dir / "files"

    def cdn_file_url(self, name: str) -> str:
        """The CDN URL serving ``files_dir / name``, e.g. to hand a test file to ``upload_urls``."""
        return f"{self.cdn_url}/files/{name}"

    def fake_url(self, url: str, content: bytes | str | Path) -> None:
        """Make a URL upload of ``url`` "fetch" ``content`` (bytes or a file) instead of the network.

        The emulator never contacts a host that is not loopback; this is how a test gives such a
        URL content, e.g. an extensionless link the service would judge by what it serves::

            emu.fake_url("https://img.example.com/photo?id=3", Path("a.jpg").read_bytes())
        """
        self.store.remote_files[url] = content if isinstance(content, bytes) else Path(content)

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> Emulator:
        """Bind both origins and return self; a second call is a no-op. ``async with`` calls it."""
        if self._runners:
            return self
        if self._data_dir_arg is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="nemovideo-emulator-")
            self._data_dir = Path(self._tmp.name)
        else:
            self._data_dir = self._data_dir_arg
        self.files_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._url = _origin(self.host, await self._serve(self._api_app(), self.port))
            self._cdn_url = _origin(self.host, await self._serve(cdn_app(self), self.cdn_port))
        except BaseException:
            await self.close()
            raise
        note_served(self._url, asyncio.get_running_loop())
        return self

    async def _serve(self, app: web.Application, port: int) -> int:
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=_SHUTDOWN_TIMEOUT)
        await runner.setup()
        self._runners.append(runner)
        await web.TCPSite(runner, self.host, port).start()
        bound: int = runner.addresses[0][1]
        return bound

    async def close(self) -> None:
        """Stop both servers and remove the temporary data dir (a given ``data_dir`` is kept)."""
        for task in list(self.chat.background):
            task.cancel()
        forget_served(self._url)
        runners, self._runners = self._runners, []
        for runner in reversed(runners):
            await runner.cleanup()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    async def aclose(self) -> None:
        """The same as ``close()``, under the name ``async with`` (``AsyncClosing``) calls."""
        await self.close()

    async def __aenter__(self) -> Emulator:
        return await self.start()

    # -- state shortcuts ----------------------------------------------------------------------

    @property
    def sessions(self) -> dict[str, SessionRecord]:
        """Every session by id, live: tests may read or edit a record's draft directly."""
        return self.store.sessions

    def session(self, session_id: str) -> SessionRecord:
        """The session record (KeyError if there is none)."""
        return self.store.sessions[session_id]

    def user_for_token(self, token: str) -> User | None:
        """The user a still-valid token belongs to; None for an unknown or expired token."""
        return self.store.user_for_token(token)

    def set_credits(self, user_id: str | None, available: int) -> None:
        """Set a user's available credits; ``None``: every user, and users created from now on."""
        if user_id is None:
            self.store.initial_credits = available
        for user in _users(self.store, user_id):
            user.credits_available = available

    def block_exports(self, user_id: str | None = None, blocked: bool = True) -> None:
        """Make export answer 402 for a user; ``None``: every user, and users created from now on."""
        if user_id is None:
            self.store.exports_blocked_by_default = blocked
        for user in _users(self.store, user_id):
            user.export_blocked = blocked

    def block_anonymous_exports(self, blocked: bool = True) -> None:
        """Answer every export by an anonymous (unregistered) user with 402, as the vendor's
        1.8 says the backend does (anonymous tokens have no render scope); the answer carries
        ``data.registration_url``. Off by default so offline apps can export."""
        self.store.anonymous_render = not blocked

    def limit_anonymous_tokens(self, per_ip: int | None = 10) -> None:
        """At most ``per_ip`` anonymous tokens per IP address every 7 days (the vendor's quota;
        ``None``: no limit, the default). Past it the token call answers 429 with a long
        ``Retry-After``."""
        self.store.anonymous_tokens_per_ip = per_ip

    def requests_to(self, path_substring: str, method: str | None = None) -> list[RecordedRequest]:
        """API requests whose path contains ``path_substring`` (and of ``method``), oldest first.

        Count them to assert retries happened, or read their headers and JSON bodies::

            assert len(emu.requests_to("/api/credits", "GET")) == 2   # one retry
        """
        return [
            r
            for r in self.requests
            if path_substring in r.path and (method is None or r.method == method.upper())
        ]

    # -- helpers for route modules (see ._responses) -----------------------------------------

    @staticmethod
    def has_attribution(request: web.BaseRequest) -> bool:
        """True when the request carries every non-empty ``X-Skill-*`` attribution header."""
        return _responses.has_attribution(request)

    @staticmethod
    def bearer_token(request: web.BaseRequest) -> str | None:
        """The token from ``Authorization: Bearer <token>``; None when absent or another scheme."""
        return _responses.bearer_token(request)

    def authenticate(self, request: web.BaseRequest) -> User:
        """The user behind the request's bearer token; else raises 1001."""
        user = self.store.user_for_token(self.bearer_token(request))
        if user is None:
            raise APIFailure(1001, DEFAULT_MESSAGES[1001])
        return user

    @staticmethod
    async def json_body(request: web.BaseRequest) -> dict[str, Any]:
        """The request's JSON object, or ``{}`` when it has none (the service is lenient too)."""
        return await _responses.json_body(request)

    @staticmethod
    def ok(data: Any) -> web.Response:
        """A success answer in the envelope: ``{"code": 0, "message": "success", "data": data}``."""
        return _responses.ok(data)

    def status_for(self, code: int, status: int | None = None) -> int:
        """The HTTP status for an error ``code`` in the current ``error_style``; ``status`` wins."""
        return _responses.status_for(self.error_style, code, status)

    def error_response(
        self,
        code: int,
        message: str | None = None,
        *,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
        **extra_data: Any,
    ) -> web.Response:
        """A failure in the current error style; ``status`` forces the HTTP status either way."""
        return _responses.error_response(
            self.error_style, code, message, status=status, headers=headers, **extra_data
        )

    def failure_response(self, failure: APIFailure) -> web.Response:
        """``error_response()`` for a raised ``APIFailure``: its status, headers and data kept."""
        return _responses.failure_response(self.error_style, failure)

    @property
    def api_routes(self) -> frozenset[tuple[str, str]]:
        """``(method, path template)`` of every route the API origin serves (HEAD left out).

        The same templates as :mod:`nemovideo._http.endpoints`, which the routes are declared from::

            assert ("GET", "/api/credits/balance/simple") in emu.api_routes
        """
        app = self._runners[0].app if self._runners else self._api_app()
        return frozenset(
            (route.method, route.resource.canonical)
            for route in app.router.routes()
            if route.method != "HEAD" and route.resource is not None
        )

    # -- the two applications -----------------------------------------------------------------

    def _api_app(self) -> web.Application:
        app = web.Application(middlewares=[_record_and_fault, _failures])
        app[EMULATOR] = self
        app.add_routes(_core_routes.routes)
        app.add_routes(_upload.routes)
        _render.setup(app)
        _chat.add_routes(app, self)
        return app
