"""The emulator's state: users, tokens, client ids, sessions, render jobs, recorded requests.

Plain mutable attrs classes, so a test can read and change anything directly::

    user = emu.user_for_token(token)
    user.credits_available = 0
    emu.session(sid).state["draft"]["t"].append(track)

Lookups that fail raise :class:`APIFailure`; the app answers it with the documented error code
in the emulator's current error style.
"""

from __future__ import annotations

import copy
import secrets
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import attrs

from nemovideo.testing._render.job import JobTable

__all__ = [
    "DEFAULT_MESSAGES",
    "STATUS_FOR_CODE",
    "APIFailure",
    "ClientRecord",
    "RecordedRequest",
    "SessionRecord",
    "Store",
    "TokenRecord",
    "User",
    "initial_state",
    "iso_time",
]


STATUS_FOR_CODE: Mapping[int, int] = {
    1001: 401,
    1002: 404,
    2001: 402,
    4001: 400,
    4002: 400,
    400: 400,
    402: 402,
    429: 429,
}
"""The HTTP status of each documented code in the ``status`` error style (others: 5xx as given).

Only the statuses docs/protocol.md names (400, 401, 402, 404, 429, 5xx) are used: 4002 is a 400, not 413.
"""

DEFAULT_MESSAGES: Mapping[int, str] = {
    1001: "Token invalid or expired",
    1002: "Session not found",
    2001: "Insufficient credits",
    4001: "Unsupported file type",
    4002: "File too large",
    400: "Missing X-Client-Id header",
    402: "Export is not available on the free plan; register or upgrade to export",
    429: "Too many requests",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service temporarily unavailable",
    504: "Gateway timeout",
}


class APIFailure(Exception):
    """Raised by a handler (or a store lookup) to answer a documented failure code.

    ``status`` forces an HTTP status whatever the error style; ``headers`` are added to the answer;
    ``data`` goes into the envelope's ``data``.
    """

    def __init__(
        self,
        code: int,
        message: str,
        *,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.headers = dict(headers or {})
        self.data = dict(data or {})


@attrs.frozen
class RecordedRequest:
    """One request as the emulator saw it; ``headers`` keep their original casing."""

    method: str
    path: str
    headers: Mapping[str, str]
    json: Any | None
    time: float


@attrs.define
class User:
    user_id: str
    credits_available: int
    credits_frozen: int = 0
    plan: str = "free"
    registered: bool = False
    export_blocked: bool = False

    @property
    def credits_total(self) -> int:
        return self.credits_available + self.credits_frozen


@attrs.define
class TokenRecord:
    token: str = attrs.field(repr=False)
    user_id: str
    expires_at: float

    def valid(self, now: float | None = None) -> bool:
        return (time.time() if now is None else now) < self.expires_at


@attrs.define
class ClientRecord:
    """An ``X-Client-Id`` and the anonymous user it stands for; one live token at a time."""

    client_id: str
    user_id: str
    token: str = attrs.field(repr=False)
    issued_at: float


def iso_time(ts: float) -> str:
    """``ts`` (epoch seconds) as ISO 8601 UTC with a ``Z``."""
    return datetime.fromtimestamp(ts, timezone.utc).isoformat().replace("+00:00", "Z")


def initial_state(task_name: str = "project") -> dict[str, Any]:
    """The state of a new session, in the emulator's draft form (HELPERS.md)."""
    return {
        "draft": {
            "t": [],
            "d": 0,
            "m": {"title": task_name, "width": 1920, "height": 1080, "fps": 30},
        },
        "video_infos": [],
        "canvas_config": {"width": 1920, "height": 1080, "aspect_ratio": "16:9"},
        "generated_media": [],
        "video_analyses": {},
    }


@attrs.define
class SessionRecord:
    """One agent session; ``chat_log`` holds every ``new_message`` received by ``/run_sse``."""

    session_id: str
    task_id: str
    user_id: str
    task_name: str
    language: str
    state: dict[str, Any]
    chat_log: list[dict[str, Any]] = attrs.Factory(list)
    created_at: float = attrs.Factory(time.time)
    later: list[tuple[int, Callable[[dict[str, Any]], None]]] = attrs.Factory(list)
    """Work the backend finishes after a stream closed: ``(reads, edit)``, applied to ``state``
    at the session's ``reads``-th state read from now (see :meth:`settle`)."""

    def settle(self) -> None:
        """One state read: count down the work still running, and apply what is due."""
        due = [edit for reads, edit in self.later if reads <= 1]
        self.later = [(reads - 1, edit) for reads, edit in self.later if reads > 1]
        for edit in due:
            edit(self.state)

    def to_json(self) -> dict[str, Any]:
        """The ``/latest`` state answer; a deep copy, so callers cannot alias the store."""
        return {
            "session_id": self.session_id,
            "task_id": self.task_id,
            "task_name": self.task_name,
            "state": copy.deepcopy(self.state),
        }


def _new_session_id() -> str:
    return str(10**18 + secrets.randbelow(9 * 10**18))


@attrs.define
class Store:
    """Everything the emulator knows. ``render_jobs`` (:class:`RenderRecord` by id) belongs to
    the render routes; ``remote_files`` maps a URL to the content URL uploads "fetch" from it
    (``emu.fake_url``)."""

    initial_credits: int = 100
    exports_blocked_by_default: bool = False
    web_url: str = "https://nemovideo.com"
    anonymous_render: bool = True
    anonymous_tokens_per_ip: int | None = None
    issued_by_ip: dict[str, list[float]] = attrs.Factory(dict)
    users: dict[str, User] = attrs.Factory(dict)
    tokens: dict[str, TokenRecord] = attrs.Factory(dict)
    clients: dict[str, ClientRecord] = attrs.Factory(dict)
    sessions: dict[str, SessionRecord] = attrs.Factory(dict)
    claims: dict[str, str] = attrs.Factory(dict)
    render_jobs: JobTable = attrs.Factory(JobTable)
    remote_files: dict[str, bytes | Path] = attrs.Factory(dict)

    # -- users and tokens -----------------------------------------------------------------------

    def registration_url(self, user: User) -> str | None:
        """Where an anonymous user registers (``<web>/register?bind=<user_id>``), sent with a 2001
        and a 402 as one protocol version says the backend does; None for a registered user."""
        return None if user.registered else f"{self.web_url}/register?bind={user.user_id}"

    def new_user(self) -> User:
        user = User(
            user_id="anon_" + secrets.token_hex(8),
            credits_available=self.initial_credits,
            export_blocked=self.exports_blocked_by_default,
        )
        self.users[user.user_id] = user
        return user

    def issue_token(self, user_id: str, ttl: float, now: float | None = None) -> TokenRecord:
        now = time.time() if now is None else now
        record = TokenRecord("nmv_usr_" + secrets.token_hex(16), user_id, now + ttl)
        self.tokens[record.token] = record
        return record

    def user_for_token(self, token: str | None, now: float | None = None) -> User | None:
        record = self.tokens.get(token or "")
        if record is None or not record.valid(now):
            return None
        return self.users.get(record.user_id)

    def expire_tokens(self, now: float | None = None) -> int:
        now = time.time() if now is None else now
        for record in self.tokens.values():
            record.expires_at = min(record.expires_at, now)
        return len(self.tokens)

    # -- sessions -------------------------------------------------------------------------------

    def create_session(self, user_id: str, task_name: str, language: str) -> SessionRecord:
        session_id = _new_session_id()
        while session_id in self.sessions:
            session_id = _new_session_id()
        record = SessionRecord(
            session_id=session_id,
            task_id="task_" + secrets.token_hex(8),
            user_id=user_id,
            task_name=task_name,
            language=language,
            state=initial_state(task_name),
        )
        self.sessions[session_id] = record
        return record

    def session_for(self, user: User, session_id: object) -> SessionRecord:
        """The session if it exists and belongs to ``user``; else 1002, as another user's is unseen."""
        record = self.sessions.get(session_id) if isinstance(session_id, str) else None
        if record is None or record.user_id != user.user_id:
            raise APIFailure(1002, f"Session not found: {session_id}")
        return record

    def claim(self, session: SessionRecord) -> str:
        claim_token = "clm_" + secrets.token_hex(16)
        self.claims[claim_token] = session.session_id
        return claim_token
