"""``Session``: one editing project on the server, addressed by its numeric session id.

Example::

    session = await client.create_session(language="en")
    state = await session.state()
    print(state.draft.summary())
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from yarl import URL

from ._paths import check_id
from .errors import APIError
from .state import SessionState

if TYPE_CHECKING:
    from ._transport import Transport
    from .chat import ChatReply, ChatStream, WaitingCallback
    from .client import NemoClient
    from .draft import Draft
    from .render import RenderJob
    from .upload import FileInput, UploadedMedia

ProgressCallback = Callable[[int, int], None]

_STATE = "/api/state/nemo_agent/me/{sid}/latest"
_CLAIM = "/api/auth/claim-token"
_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


def check_session_id(session_id: object) -> str:
    """``session_id`` if it can name a session, else ``ValidationError`` (nothing is sent).

    The service's ids are numeric strings; any 1-128 letters, digits, ``_`` or ``-`` pass, so an
    id is always exactly one URL path segment.
    """
    if isinstance(session_id, int) and not isinstance(session_id, bool):
        session_id = str(session_id)
    return check_id(session_id, _SESSION_ID, "session id", "5529798706024415232",
                    "letters, digits, '_' or '-'; at most 128 characters")  # fmt: skip


class Session:
    """A handle on one session. Cheap to create: ``client.session(id)`` reattaches without a call.

    :ivar id: the numeric session id (a string); store it to reattach later.
    :vartype id: str
    :ivar task_id: the project's task id, used by claim links; None when reattached without it.
    :vartype task_id: str | None
    :ivar user_id: the owning account (``anon_...`` for anonymous users); None when reattached.
    :vartype user_id: str | None
    """

    def __init__(
        self, client: NemoClient, session_id: str, *, task_id: str | None, user_id: str | None
    ) -> None:
        self._client = client
        self.id = check_session_id(session_id)
        self.task_id = task_id
        self.user_id = user_id

    def __repr__(self) -> str:
        return f"<Session id={self.id!r} task_id={self.task_id!r}>"

    @property
    def client(self) -> NemoClient:
        """The client this session talks through (its config, credits, renderer)."""
        return self._client

    @property
    def _transport(self) -> Transport:
        return self._client._transport

    @property
    def claim_url(self) -> str:
        """Browser link to open this session in the NemoVideo web app (no API call needed)."""
        cfg = self._client.config
        query = {
            "task": self.task_id or "",
            "session": self.id,
            "skill_name": cfg.skill_name,
            "skill_version": cfg.skill_version,
            "skill_source": cfg.skill_platform,
        }
        return str(URL(cfg.web_url + "/workspace/claim").with_query(query))

    async def claim_link(self) -> str:
        """A one-time link (valid 7 days) that lets a user claim this session into an account."""
        data = await self._transport.request(
            "POST", _CLAIM, json_body={"task_id": self.task_id, "session_id": self.id}
        )
        token = data.get("claim_token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise APIError("The claim-token answer carried no claim_token.", http_status=200)
        web = self._client.config.web_url
        return str(URL(web + "/workspace/claim").with_query(ct=token))

    async def state(self) -> SessionState:
        """The latest server-side state: draft timeline, uploaded media, canvas."""
        data = await self._transport.request("GET", _STATE, segments={"sid": self.id})
        state = SessionState.from_json(data if isinstance(data, dict) else {})
        if self.task_id is None and state.task_id:
            self.task_id = state.task_id
        return state

    async def upload(
        self, files: FileInput | Iterable[FileInput], *, progress: ProgressCallback | None = None
    ) -> list[UploadedMedia]:
        """Upload local files (paths, ``(name, bytes)`` pairs or binary file objects), streamed.

        ``files`` is a list of those (or one path / pair / file object alone); bare ``bytes`` and
        dicts are refused, since bytes carry no file name: pass ``[("clip.mp4", data)]``.

        Every file is checked (format, size, readable) before the first byte is sent.
        ``progress(bytes_sent, total_bytes)`` is called as bytes go out.
        """
        return await self._client.uploader.upload(self.id, files, progress=progress)

    async def upload_urls(self, urls: Sequence[str]) -> list[UploadedMedia]:
        """Have the server fetch media from http(s) URLs."""
        return await self._client.uploader.upload_urls(self.id, urls)

    def chat(self, text: str, *, on_waiting: WaitingCallback | None = None) -> ChatStream:
        """Send one instruction and stream the backend's events::

            async with session.chat("add lo-fi BGM at 35%") as stream:
                async for event in stream:
                    ...

        The message is POSTed once when iteration starts and never re-sent.
        """
        from .chat import ChatStream

        return ChatStream(self, text, on_waiting=on_waiting)

    async def send(self, text: str, *, on_waiting: WaitingCallback | None = None) -> ChatReply:
        """Send one instruction, wait for the whole answer, and return it as a ``ChatReply``."""
        from .chat import send_message

        return await send_message(self, text, on_waiting=on_waiting)

    async def export(
        self, *, format: str = "mp4", quality: str = "high", draft: Draft | None = None
    ) -> RenderJob:
        """Submit the draft (the latest from the server when not given) for rendering."""
        return await self._client.renderer.export(
            self.id, format=format, quality=quality, draft=draft
        )
