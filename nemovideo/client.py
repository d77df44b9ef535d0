"""``NemoClient``: the entry point. One client, one HTTP connection pool, one token.

Example::

    async with NemoClient() as client:            # token from NEMO_TOKEN or anonymous
        print(await client.credits())
        session = await client.create_session()
        print(session.claim_url)

Forgetting ``async with`` is safe: call ``await client.aclose()`` when done.
"""

from __future__ import annotations

import asyncio
import warnings
import weakref
from types import TracebackType
from typing import TYPE_CHECKING, Any

import aiohttp
import attrs

from ._config import ClientConfig
from ._transport import Transport
from .errors import APIError, ValidationError
from .session import Session

if TYPE_CHECKING:
    from .assistant import Assistant
    from .render import Renderer
    from .upload import Uploader

_CREATE_SESSION = "/api/tasks/me/with-session/nemo_agent"
_CREDITS = "/api/credits/balance/simple"


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


@attrs.frozen
class Credits:
    """The account balance. ``frozen`` is reserved by work in progress; ``total = available + frozen``.

    :ivar available: credits that can be spent now.
    :ivar frozen: credits held by work in progress (a render, a generation).
    :ivar total: ``available + frozen`` unless the server says otherwise.
    """

    available: int
    frozen: int
    total: int

    @classmethod
    def from_json(cls, data: Any) -> Credits:
        """Decode the balance endpoint's ``data``; missing counts read as 0.

        :raises APIError: when ``data`` is not a JSON object.
        """
        if not isinstance(data, dict):
            raise APIError("The credits answer was not an object.", http_status=200)
        available, frozen = _int(data.get("available")), _int(data.get("frozen"))
        total = _int(data.get("total")) if data.get("total") is not None else available + frozen
        return cls(available=available, frozen=frozen, total=total)


class NemoClient:
    """Async client for the NemoVideo API.

    Settings come from keyword arguments (any [`ClientConfig`][nemovideo.ClientConfig] field),
    else the environment, else ``config.json`` in the config dir, else defaults; or pass a whole
    ``config=``. ``http_session`` lets an app share its own ``aiohttp.ClientSession`` (the client
    will not close it).

    :ivar config: the resolved settings, as one frozen value.
    :vartype config: ClientConfig
    """

    def __init__(
        self,
        *,
        config: ClientConfig | None = None,
        http_session: aiohttp.ClientSession | None = None,
        **overrides: Any,
    ) -> None:
        if config is not None and overrides:
            config = config.evolve(**overrides)
        elif config is None:
            config = ClientConfig.from_env(**overrides)
        self.config = config
        self._transport = Transport(config, session=http_session)
        self._uploader: Uploader | None = None
        self._renderer: Renderer | None = None
        self._chat_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    def __repr__(self) -> str:
        state = "closed" if self._transport.closed else "open"
        return f"<NemoClient {self.config.base_url} {state}>"

    def __del__(self, _warn: Any = warnings.warn) -> None:
        transport = getattr(self, "_transport", None)
        if transport is None or transport.closed:
            return
        if transport._owns_session and transport._session is not None:
            _warn(
                f"{self!r} was never closed: use `async with NemoClient() as client:` or "
                "`await client.aclose()`, or its connections stay open.",
                ResourceWarning,
                source=self,
                stacklevel=2,
            )

    def _chat_lock(self, session_id: str) -> asyncio.Lock:
        """One lock per session id: ``send()`` calls on one session run one at a time, so each
        reply's ``changes`` describe its own edit (the draft is read before and after)."""
        lock = self._chat_locks.get(session_id)
        if lock is None:
            lock = self._chat_locks[session_id] = asyncio.Lock()
        return lock

    async def __aenter__(self) -> NemoClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool. Further calls raise ``ClientClosedError``."""
        await self._transport.aclose()

    @property
    def closed(self) -> bool:
        """True once ``aclose()`` ran (or the ``async with`` block ended); calls then fail."""
        return self._transport.closed

    @property
    def user_id(self) -> str | None:
        """The account's user id, once the API has told it (``anon_…`` for anonymous users)."""
        return self._transport.user_id

    @property
    def uploader(self) -> Uploader:
        """Uploads for callers that hold session ids rather than ``Session`` objects."""
        if self._uploader is None:
            from .upload import Uploader

            self._uploader = Uploader(self._transport)
        return self._uploader

    @property
    def renderer(self) -> Renderer:
        """Render jobs by id: ``await client.renderer.resume(job_id)`` after a restart."""
        if self._renderer is None:
            from .render import Renderer

            self._renderer = Renderer(self)
        return self._renderer

    def assistant(self, **options: Any) -> Assistant:
        """The skill's conversation on this client: ``await client.assistant().handle("余额")``.

        ``options`` go to [`Assistant`][nemovideo.assistant.Assistant] (``session``,
        ``download_dir``, ``on_notice``, ``on_progress``, ``on_stage``, ``language``).
        """
        from .assistant import Assistant

        return Assistant(self, **options)

    async def credits(self) -> Credits:
        """The credit balance: ``Credits(available, frozen, total)``."""
        return Credits.from_json(await self._transport.request("GET", _CREDITS))

    async def create_session(self, *, language: str = "en", task_name: str = "project") -> Session:
        """Start a new editing session (a project) and return it."""
        if not language or not isinstance(language, str):
            raise ValidationError("language must be a non-empty string such as 'en'")
        data = await self._transport.request(
            "POST", _CREATE_SESSION, json_body={"task_name": task_name, "language": language}
        )
        if not isinstance(data, dict) or not data.get("session_id"):
            raise APIError("The create-session answer carried no session_id.", http_status=200)
        self._transport.note_user_id(data.get("user_id"))
        try:
            return Session(
                self,
                str(data["session_id"]),
                task_id=str(data["task_id"]) if data.get("task_id") else None,
                user_id=data.get("user_id") if isinstance(data.get("user_id"), str) else None,
            )
        except ValidationError as exc:
            raise APIError(
                f"The API answered an unusable session id: {exc}", http_status=200
            ) from None

    def session(self, session_id: str, *, task_id: str | None = None) -> Session:
        """Reattach to an existing session by id (no request is made)."""
        session_id = str(session_id).strip()
        if not session_id or not session_id.isdigit():
            raise ValidationError(f"Session ids are numeric strings, got {session_id!r}")
        return Session(self, session_id, task_id=task_id, user_id=None)
