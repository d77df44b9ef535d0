"""The emulator: a local NemoVideo API (PROTOCOL.md) and a CDN origin, both on loopback.

    async with Emulator() as emu:
        client = nemovideo.NemoClient(config=nemovideo.ClientConfig(base_url=emu.url))
        ...
        assert emu.requests_to("/api/credits")[0].headers["X-Skill-Source"]
        assert not any("Authorization" in r.headers for r in emu.cdn_requests)

The API origin answers the documented endpoints in the ``{"code", "message", "data"}`` envelope;
the CDN origin serves stored files (uploads, render outputs) under ``/files/<name>`` with Range
support. Chat, upload and render routes live in their own modules (``add_routes(app, emu)``).
"""

from __future__ import annotations

import ipaddress
import math
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from . import _chat, _render, _upload
from ._agent import ChatControls
from ._store import (
    DEFAULT_MESSAGES,
    STATUS_FOR_CODE,
    APIFailure,
    ClientRecord,
    RecordedRequest,
    SessionRecord,
    Store,
    User,
    iso_time,
)
from .faults import Faults

__all__ = ["ATTRIBUTION_HEADERS", "ERROR_STYLES", "Emulator"]

ERROR_STYLES = ("body", "status")
ATTRIBUTION_HEADERS = ("X-Skill-Source", "X-Skill-Version", "X-Skill-Platform")
CLAIM_TTL = 7 * 24 * 3600
_SHUTDOWN_TIMEOUT = 0.5


def _origin(host: str, port: int) -> str:
    try:
        literal = f"[{host}]" if ipaddress.ip_address(host).version == 6 else host
    except ValueError:
        literal = host
    return f"http://{literal}:{port}"


async def _record(request: web.Request, into: list[RecordedRequest]) -> None:
    body: Any = None
    if request.content_type == "application/json" and request.body_exists:
        try:
            body = await request.json()
        except (ValueError, web.HTTPException):
            body = None
    into.append(
        RecordedRequest(request.method, request.path, dict(request.headers), body, time.time())
    )


class Emulator:
    """A faithful local NemoVideo server with fault injection; see the module docstring.

    ``error_style`` ``"body"`` answers failures with HTTP 200 and a non-zero ``code``; ``"status"``
    with the matching HTTP status and the same body. It can be changed at any time.
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
        return self._error_style

    @error_style.setter
    def error_style(self, value: str) -> None:
        if value not in ERROR_STYLES:
            raise ValueError(f"error_style must be one of {ERROR_STYLES}, got {value!r}")
        self._error_style = value

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("The emulator is not started; use `async with Emulator() as emu`.")
        return self._url

    @property
    def cdn_url(self) -> str:
        if self._cdn_url is None:
            raise RuntimeError("The emulator is not started; use `async with Emulator() as emu`.")
        return self._cdn_url

    @property
    def data_dir(self) -> Path:
        if self._data_dir is None:
            raise RuntimeError("The emulator is not started; it has no data dir yet.")
        return self._data_dir

    @property
    def files_dir(self) -> Path:
        """Where files served by the CDN origin live (``<data_dir>/files``)."""
        return self.data_dir / "files"

    def cdn_file_url(self, name: str) -> str:
        return f"{self.cdn_url}/files/{name}"

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> Emulator:
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
            self._cdn_url = _origin(self.host, await self._serve(self._cdn_app(), self.cdn_port))
        except BaseException:
            await self.close()
            raise
        return self

    async def _serve(self, app: web.Application, port: int) -> int:
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=_SHUTDOWN_TIMEOUT)
        await runner.setup()
        self._runners.append(runner)
        await web.TCPSite(runner, self.host, port).start()
        bound: int = runner.addresses[0][1]
        return bound

    async def close(self) -> None:
        runners, self._runners = self._runners, []
        for runner in reversed(runners):
            await runner.cleanup()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    async def __aenter__(self) -> Emulator:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- state shortcuts ----------------------------------------------------------------------

    @property
    def sessions(self) -> dict[str, SessionRecord]:
        return self.store.sessions

    def session(self, session_id: str) -> SessionRecord:
        """The session record (KeyError if there is none)."""
        return self.store.sessions[session_id]

    def user_for_token(self, token: str) -> User | None:
        return self.store.user_for_token(token)

    def set_credits(self, user_id: str | None, available: int) -> None:
        """Set a user's available credits; ``None``: every user, and users created from now on."""
        if user_id is None:
            self.store.initial_credits = available
            users = list(self.store.users.values())
        else:
            users = [self.store.users[user_id]]
        for user in users:
            user.credits_available = available

    def block_exports(self, user_id: str | None = None, blocked: bool = True) -> None:
        """Make export answer 402 for a user; ``None``: every user, and users created from now on."""
        if user_id is None:
            self.store.exports_blocked_by_default = blocked
            users = list(self.store.users.values())
        else:
            users = [self.store.users[user_id]]
        for user in users:
            user.export_blocked = blocked

    def requests_to(self, path_substring: str, method: str | None = None) -> list[RecordedRequest]:
        return [
            r
            for r in self.requests
            if path_substring in r.path and (method is None or r.method == method.upper())
        ]

    # -- helpers for route modules ------------------------------------------------------------

    @staticmethod
    def has_attribution(request: web.BaseRequest) -> bool:
        return all(request.headers.get(name, "").strip() for name in ATTRIBUTION_HEADERS)

    @staticmethod
    def bearer_token(request: web.BaseRequest) -> str | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        return token.strip() or None

    def authenticate(self, request: web.BaseRequest) -> User:
        """The user behind the request's bearer token; else raises 1001."""
        user = self.store.user_for_token(self.bearer_token(request))
        if user is None:
            raise APIFailure(1001, DEFAULT_MESSAGES[1001])
        return user

    @staticmethod
    async def json_body(request: web.BaseRequest) -> dict[str, Any]:
        """The request's JSON object, or ``{}`` when it has none (the service is lenient too)."""
        try:
            body = await request.json() if request.body_exists else None
        except ValueError:
            body = None
        return body if isinstance(body, dict) else {}

    @staticmethod
    def ok(data: Any) -> web.Response:
        return web.json_response({"code": 0, "message": "success", "data": data})

    def status_for(self, code: int, status: int | None = None) -> int:
        if status is not None:
            return status
        if self.error_style == "body":
            return 200
        return STATUS_FOR_CODE.get(code, code if 400 <= code < 600 else 400)

    def error_response(
        self,
        code: int,
        message: str | None = None,
        *,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        **extra_data: Any,
    ) -> web.Response:
        """A failure in the current error style; ``status`` forces the HTTP status either way."""
        body: dict[str, Any] = {"code": code, "message": message or DEFAULT_MESSAGES.get(code, "")}
        if extra_data:
            body["data"] = extra_data
        return web.json_response(body, status=self.status_for(code, status), headers=headers)

    def failure_response(self, failure: APIFailure) -> web.Response:
        return self.error_response(
            failure.code,
            failure.message,
            status=failure.status,
            headers=failure.headers or None,
            **failure.data,
        )

    # -- the two applications -----------------------------------------------------------------

    def _api_app(self) -> web.Application:
        @web.middleware
        async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
            await _record(request, self.requests)
            answer = await self.faults.intercept(request)
            return answer if answer is not None else await handler(request)

        @web.middleware
        async def failures(request: web.Request, handler: Handler) -> web.StreamResponse:
            try:
                return await handler(request)
            except APIFailure as failure:
                return self.failure_response(failure)

        app = web.Application(middlewares=[record, failures])
        _add_core_routes(app, self)
        _chat.add_routes(app, self)
        _upload.add_routes(app, self)
        _render.add_routes(app, self)
        return app

    def _cdn_app(self) -> web.Application:
        @web.middleware
        async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
            await _record(request, self.cdn_requests)
            return await handler(request)

        async def serve_file(request: web.Request) -> web.StreamResponse:
            name = request.match_info["name"]
            path = self.files_dir / name
            if name.startswith(".") or "/" in name or "\\" in name or not path.is_file():
                raise web.HTTPNotFound()
            return web.FileResponse(path)

        app = web.Application(middlewares=[record])
        app.router.add_get("/files/{name}", serve_file)
        return app


def _add_core_routes(app: web.Application, emu: Emulator) -> None:
    """Auth, sessions, claim links, credits and state."""

    async def anonymous_token(request: web.Request) -> web.Response:
        client_id = request.headers.get("X-Client-Id", "").strip()
        if not client_id:
            raise APIFailure(400, "Missing X-Client-Id header", status=400)
        now = time.time()
        store = emu.store
        known = store.clients.get(client_id)
        user = store.users.get(known.user_id) if known is not None else None
        if known is not None:
            current = store.tokens.get(known.token)
            if current is not None and current.valid(now):
                wait = max(1, math.ceil(current.expires_at - now))
                raise APIFailure(
                    429,
                    "One anonymous token per client id; this client's token is still valid",
                    status=429,
                    headers={"Retry-After": str(wait)},
                )
        if user is None:
            user = store.new_user()
        token = store.issue_token(user.user_id, emu.token_ttl, now)
        store.clients[client_id] = ClientRecord(client_id, user.user_id, token.token, now)
        return emu.ok(
            {
                "token": token.token,
                "user_id": user.user_id,
                "expires_at": iso_time(token.expires_at),
                "credits": user.credits_available,
            }
        )

    async def create_session(request: web.Request) -> web.Response:
        user = emu.authenticate(request)
        body = await emu.json_body(request)
        task_name = body.get("task_name")
        language = body.get("language")
        record = emu.store.create_session(
            user.user_id,
            task_name if isinstance(task_name, str) and task_name else "project",
            language if isinstance(language, str) and language else "en",
        )
        return emu.ok(
            {"task_id": record.task_id, "session_id": record.session_id, "user_id": user.user_id}
        )

    async def claim_token(request: web.Request) -> web.Response:
        user = emu.authenticate(request)
        body = await emu.json_body(request)
        session = emu.store.session_for(user, body.get("session_id"))
        if body.get("task_id") not in (None, session.task_id):
            raise APIFailure(1002, f"Task not found: {body.get('task_id')}")
        return emu.ok({"claim_token": emu.store.claim(session), "expires_in": CLAIM_TTL})

    async def credits(request: web.Request) -> web.Response:
        user = emu.authenticate(request)
        return emu.ok(
            {
                "available": user.credits_available,
                "frozen": user.credits_frozen,
                "total": user.credits_total,
            }
        )

    async def state(request: web.Request) -> web.Response:
        user = emu.authenticate(request)
        session = emu.store.session_for(user, request.match_info["sid"])
        return emu.ok(session.to_json())

    app.router.add_post("/api/auth/anonymous-token", anonymous_token)
    app.router.add_post("/api/tasks/me/with-session/nemo_agent", create_session)
    app.router.add_post("/api/auth/claim-token", claim_token)
    app.router.add_get("/api/credits/balance/simple", credits)
    app.router.add_get("/api/state/nemo_agent/me/{sid}/latest", state)
