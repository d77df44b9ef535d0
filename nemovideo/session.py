"""``Session``: one editing project on the server, addressed by its session id (an opaque string).

Example::

    session = await client.create_session(language="en")
    state = await session.state()
    print(state.draft.summary())
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from yarl import URL

from nemovideo._http import endpoints as api
from nemovideo._http.api import Service
from nemovideo._http.paths import check_id, encode_segment
from nemovideo._util.types import ProgressCallback
from nemovideo.errors import APIError
from nemovideo.state import SessionState

if TYPE_CHECKING:
    from nemovideo.chat import ChatReply, ChatStream, KeepEvents, WaitingCallback
    from nemovideo.chat._question import QuestionEvent
    from nemovideo.client import NemoClient
    from nemovideo.draft._model import Draft
    from nemovideo.render._formats import ExportFormat, ExportQuality, ExportResolution
    from nemovideo.render._renderer import RenderJob
    from nemovideo.upload._uploader import FileInput, UploadedMedia


def check_session_id(session_id: object) -> str:
    """``session_id`` if it can name a session, else ``ValidationError`` (nothing is sent).

    Ids are opaque strings, checked only to be one safe URL path segment (``_paths.check_id``).
    An ``int`` is accepted and kept as its decimal text; it is never parsed the other way.
    """
    if isinstance(session_id, int) and not isinstance(session_id, bool):
        session_id = str(session_id)
    return check_id(session_id, "session id", "5529798706024415232")


class Session(Service):
    """A handle on one session. Cheap to create: ``client.session(id)`` reattaches without a call.

    Upload, ask, look, export::

        >>> import asyncio, tempfile
        >>> from nemovideo.testing import Emulator, fast_client, sample_images
        >>> async def main() -> list[str]:
        ...     with tempfile.TemporaryDirectory() as tmp:
        ...         async with Emulator() as emu, fast_client(emu, tmp) as client:
        ...             emu.render.width, emu.render.height = 320, 180  # a quick render
        ...             session = await client.create_session()
        ...             await session.upload(sample_images())
        ...             reply = await session.send("turn these images into a 4-second video")
        ...             state = await session.state()  # the same draft, read again
        ...             job = await session.export(format="webm", resolution="480p")
        ...             result = await job.wait()
        ...             return [reply.draft.summary(), state.draft.summary(), result.status]
        >>> for line in asyncio.run(main()):
        ...     print(line)
        Timeline (1 track): 1. Video: 3 clips (0-4s)
        Timeline (1 track): 1. Video: 3 clips (0-4s)
        completed

    :ivar id: the session id (an opaque string); store it to reattach later.
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
    def claim_url(self) -> str:
        """Browser link to this session in the NemoVideo web app, for a browser already logged in.

        ``<web>/workspace/task/<task_id>?session=<session_id>`` (the newest documented form); no
        API call and no secret in it. Without a ``task_id`` (a session reattached by id alone)
        the link names the session only. To hand a session to another account, use
        ``await session.claim_link()``.
        """
        web = URL(self._client.config.web_url)
        base = web.raw_path.rstrip("/") + "/workspace/task"
        if self.task_id:
            base += "/" + encode_segment(self.task_id, "task id")
        return str(web.with_path(base, encoded=True).with_query(session=self.id))

    async def claim_link(self) -> str:
        """A one-time link (valid 7 days) that lets a user claim this session into an account."""
        data = await self._api.send(
            api.CLAIM_TOKEN, json_body={"task_id": self.task_id, "session_id": self.id}
        )
        token = data.get("claim_token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise APIError("The claim-token answer carried no claim_token.", http_status=200)
        web = self._client.config.web_url
        return str(URL(web + "/workspace/claim").with_query(ct=token))

    async def state(self) -> SessionState:
        """The latest server-side state: draft timeline, uploaded media, canvas."""
        data = await self._api.send(api.STATE, segments={"sid": self.id})
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

    def chat(
        self,
        text: str,
        *,
        on_waiting: WaitingCallback | None = None,
        keep_events: KeepEvents | bool | None = "reply",
    ) -> ChatStream:
        """Send one instruction and stream the backend's events::

            async with session.chat("add lo-fi BGM at 35%") as stream:
                async for event in stream:
                    ...

        The message is POSTed once when iteration starts and never re-sent. Every event is
        yielded; ``keep_events`` says what ``stream.events`` keeps afterwards (``ChatStream``).
        """
        from nemovideo.chat import ChatStream

        return ChatStream(self, text, on_waiting=on_waiting, keep_events=keep_events)

    async def send(
        self,
        text: str,
        *,
        on_waiting: WaitingCallback | None = None,
        on_text: Callable[[str], Any] | None = None,
        timeout: float | None = None,
        keep_events: KeepEvents | bool | None = "first",
    ) -> ChatReply:
        """Send one instruction, wait for the whole answer, and return it as a ``ChatReply``.

        ``on_text(piece)`` shows the answer while it is written; ``timeout`` (seconds) bounds the
        whole call (``StreamTimeoutError``; the message is never re-sent). See ``send_message``.
        """
        from nemovideo.chat import send_message

        return await send_message(
            self,
            text,
            on_waiting=on_waiting,
            keep_events=keep_events,
            on_text=on_text,
            timeout=timeout,
        )

    async def answer(
        self,
        question: QuestionEvent,
        choices: object = None,
        *,
        on_waiting: WaitingCallback | None = None,
        on_text: Callable[[str], Any] | None = None,
        timeout: float | None = None,
    ) -> ChatReply:
        """Answer the question a reply ended on (``reply.question``), as the next message::

            reply = await session.send("make a video")
            if reply.question is not None:
                reply = await session.answer(reply.question, {"source": "beach"})

        ``choices`` maps each question's id (or 1-based number) to an option's id, label or
        1-based number, or a list of them where ``allow_multiple``; with one question the pick
        alone will do. ``None`` sends ``"Skipped"``. The message reads as the vendor's client
        writes it (``"1. <prompt>: <label>, <label>"`` lines). A pick that is not offered raises
        ``ValidationError`` before anything is sent.
        """
        from nemovideo.chat import send_message
        from nemovideo.chat._question import answer_text

        message = answer_text(question, choices)
        return await send_message(
            self, message, on_waiting=on_waiting, on_text=on_text, timeout=timeout
        )

    async def export(
        self,
        *,
        format: ExportFormat = "mp4",
        quality: ExportQuality = "high",
        draft: Draft | None = None,
        resolution: ExportResolution | None = None,
        render_id: str | None = None,
    ) -> RenderJob:
        """Submit the draft (the latest from the server when not given) for rendering.

        ``format`` (mp4, webm, mov, gif), ``quality`` (low, medium, high) and ``resolution``
        (480p, 720p, 1080p, 4k; None: the draft's size) as in docs/export.md; another value is
        a ``ValidationError`` naming the supported ones, before anything is sent. ``render_id``
        submits under an id the caller chose and recorded beforehand (see ``Renderer.export``);
        by default the client picks a fresh one.
        """
        return await self._client.renderer.export(
            self.id,
            format=format,
            quality=quality,
            draft=draft,
            resolution=resolution,
            render_id=render_id,
        )
