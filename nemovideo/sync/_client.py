"""SyncNemoClient and its blocking proxies (the package docstring shows how to use them)."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import warnings
import weakref
from collections.abc import AsyncGenerator, Callable, Iterator
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from aiohttp import ClientSession

from nemovideo._util.closing import Closing
from nemovideo._util.served import loop_serving
from nemovideo.chat import ChatStream
from nemovideo.client import NemoClient
from nemovideo.errors import NemoError, ValidationError
from nemovideo.render._renderer import Renderer, RenderJob
from nemovideo.session import Session
from nemovideo.sync._driver import DrivenLoop
from nemovideo.sync._loop import Proxy, View, blocking, forwarding, reading
from nemovideo.upload._uploader import Uploader

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from nemovideo._config.config import ClientConfig
    from nemovideo._config.options import ConfigOptions
    from nemovideo._http.transport import RetryHook
    from nemovideo.batch import BatchResult
    from nemovideo.chat import ToolCallEvent
    from nemovideo.chat._events import ChatEvent
    from nemovideo.draft._model import Draft
    from nemovideo.render._renderer import RenderResult, RenderStatus
    from nemovideo.sync._assistant import SyncAssistant


P = ParamSpec("P")
T = TypeVar("T")


class SyncChatStream(Closing, View):
    """One message and its streamed answer, as a plain iterator (see ``ChatStream``)::

    with session.chat("make it 10 seconds") as stream:
        for event in stream:
            ...
    print(stream.text)
    """

    _async: ChatStream

    def __iter__(self) -> Iterator[ChatEvent]:
        self._async.__aiter__()
        return self

    def __next__(self) -> ChatEvent:
        try:
            return self._runner.run(self._async.__anext__())
        except StopAsyncIteration:
            raise StopIteration from None

    close = blocking(ChatStream.aclose)

    message: str = reading()
    """The message sent."""

    text: str = reading()
    """The reply's text so far (partial chunks merged)."""

    events: list[ChatEvent] = reading()
    """The events kept so far (tool calls, results, errors; see ``ChatStream.events``)."""

    draft_before: Draft | None = reading()
    """The draft read before the message was sent."""

    recovered: bool = reading()
    """True when a dropped stream was completed by polling state."""

    recovered_draft: Draft | None = reading()
    """The draft read by that recovery, if any."""

    pending_tools: tuple[ToolCallEvent, ...] = reading()
    """Tool calls announced but not answered (work still running on the server)."""


class SyncRenderJob(View):
    """A render job by id (see ``RenderJob``): ``job.wait()``, ``job.download("out.mp4")``."""

    _async: RenderJob

    id: str = reading()
    """The job id; store it to ``client.renderer.resume(id)`` later."""

    session_id: str | None = reading()
    """The session it renders; None for a job resumed without one."""

    last: RenderStatus | None = reading()
    """The latest status the server gave."""

    result: RenderResult | None = reading()
    """Set once a poll found the job completed."""

    status: str | None = reading()
    """The latest known state, None before the server reported one."""

    progress: int | None = reading()
    """The latest known progress in percent."""

    refresh = blocking(RenderJob.refresh)
    wait = blocking(RenderJob.wait)
    cancel = blocking(RenderJob.cancel)
    download = blocking(RenderJob.download)


class SyncRenderer(View):
    """Render jobs by id (see ``Renderer``): ``client.renderer.resume(job_id)``."""

    _async: Renderer

    export = blocking(Renderer.export, SyncRenderJob)
    resume = blocking(Renderer.resume, SyncRenderJob)


class SyncUploader(View):
    """Uploads by session id (see ``Uploader``)."""

    _async: Uploader

    upload = blocking(Uploader.upload)
    upload_urls = blocking(Uploader.upload_urls)


class SyncSession(View):
    """One editing session (see ``Session``): upload, send, chat, state, export."""

    _async: Session

    claim_link = blocking(Session.claim_link)
    state = blocking(Session.state)
    upload = blocking(Session.upload)
    upload_urls = blocking(Session.upload_urls)
    send = blocking(Session.send)
    answer = blocking(Session.answer)
    export = blocking(Session.export, SyncRenderJob)
    chat = forwarding(Session.chat, SyncChatStream)

    id: str = reading()
    """The session id (an opaque string); store it to reattach with ``client.session(id)``."""

    task_id: str | None = reading()
    """The project's task id (used by claim links)."""

    user_id: str | None = reading()
    """The owning account, when known."""

    claim_url: str = reading()
    """Browser link to open this session in the web app."""

    @property
    def client(self) -> SyncNemoClient:
        """The client this session talks through."""
        return self._client


def _takes_options_of(
    source: Callable[P, Any],
) -> Callable[[Callable[..., None]], Callable[Concatenate[Any, P], None]]:
    """Give the decorated ``__init__`` the parameters of ``source`` (NemoClient's options)."""
    return lambda init: init


class SyncNemoClient(Closing, Proxy):
    """Blocking client for the NemoVideo API; takes exactly ``NemoClient``'s options.

    Use it as a context manager, or call :meth:`close` when done (that also ends its thread).
    After closing, every call raises ``ClientClosedError``. Here against an emulator served by
    another process (``python -m nemovideo.testing``); with no arguments it is the real API::

        >>> import subprocess, sys, tempfile
        >>> from nemovideo import SyncNemoClient
        >>> from nemovideo.testing import sample_images
        >>> def main() -> None:
        ...     server = subprocess.Popen([sys.executable, "-m", "nemovideo.testing", "--port", "0"],
        ...                               stdout=subprocess.PIPE, text=True)
        ...     try:
        ...         url = server.stdout.readline().split()[-1]
        ...         with tempfile.TemporaryDirectory() as tmp, SyncNemoClient(
        ...             base_url=url, config_dir=tmp, poll_interval=0.05
        ...         ) as client:
        ...             session = client.create_session()
        ...             session.upload(sample_images())
        ...             reply = session.send("turn these images into a 4-second video")
        ...             print(client.credits().available < 100, reply.draft.summary())
        ...     finally:
        ...         server.terminate()
        ...         server.wait()
        >>> main()
        True Timeline (1 track): 1. Video: 3 clips (0-4s)
    """

    _async: NemoClient

    @_takes_options_of(NemoClient)
    def __init__(self, **options: Any) -> None:
        """``http_session``, if given, is a function that makes the ``aiohttp.ClientSession``
        (with your connector, limits, trace configs): an aiohttp session belongs to the loop it
        was made on, so it is called on the client's own loop, and ``close()`` closes it::

            SyncNemoClient(http_session=lambda: aiohttp.ClientSession(trace_configs=[trace]))
        """
        factory = options.pop("http_session", None)
        if (factory is not None and not callable(factory)) or isinstance(factory, ClientSession):
            raise ValidationError(
                "SyncNemoClient runs on its own event loop, so it cannot use an "
                "aiohttp.ClientSession made elsewhere; pass a function that makes one, "
                "http_session=lambda: aiohttp.ClientSession(...), called on that loop."
            )
        self._made_session: ClientSession | None = None
        if factory is not None:
            options["http_session"] = _MadeOnLoop(factory, self)
        self._runner = DrivenLoop()
        self._client = self
        self._owns_runner = True
        try:
            self._async = self._runner.run(_make_client(options))
        except BaseException:
            self._runner.stop(_nothing)
            raise
        self._runner.guard = functools.partial(_not_served_by, self._async.config.base_url)
        _close_at_exit(self)

    def __repr__(self) -> str:
        return (
            f"<SyncNemoClient {self._async.config.base_url} {'closed' if self.closed else 'open'}>"
        )

    def __del__(self, _warn: Any = warnings.warn) -> None:
        runner = getattr(self, "_runner", None)
        if runner is None or runner.stopped or not getattr(self, "_owns_runner", False):
            return
        _warn(
            f"{self!r} was never closed: use `with SyncNemoClient() as client:` or "
            "`client.close()`, or its thread and connections stay open.",
            ResourceWarning,
            source=self,
            stacklevel=2,
        )
        runner.stop(self._aclose, wait=False)

    def close(self) -> None:
        """Close the connection pool and end the helper thread; idempotent.

        Calls still running in other threads end with ``ClientClosedError``. Closing a view
        from :meth:`with_options` closes nothing; closing the client closes its views too.
        """
        if self._owns_runner:
            _open_clients.discard(self)
            self._runner.stop(self._aclose)

    async def _aclose(self) -> None:
        try:
            await self._async.aclose()
        finally:
            if self._made_session is not None:
                await self._made_session.close()

    def with_options(
        self, *, on_retry: RetryHook | None = None, **options: Unpack[ConfigOptions]
    ) -> SyncNemoClient:
        """A view with other options, sharing this client's thread, pool and token.

        ``client.with_options(request_timeout=5, max_retries=0).credits()``; see
        ``NemoClient.with_options``.
        """
        view = object.__new__(SyncNemoClient)
        view._runner, view._client, view._owns_runner = self._runner, view, False
        view._async = self._async.with_options(on_retry=on_retry, **options)
        return view

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran; calls then raise ``ClientClosedError``."""
        return self._runner.stopped or self._async.closed

    config: ClientConfig = reading()
    """The resolved settings (see ``ClientConfig``)."""

    user_id: str | None = reading()
    """The account's user id, once the API has told it."""

    @property
    def uploader(self) -> SyncUploader:
        """Uploads for callers that hold session ids."""
        return SyncUploader(self, self._async.uploader)

    @property
    def renderer(self) -> SyncRenderer:
        """Render jobs by id: ``client.renderer.resume(job_id)`` after a restart."""
        return SyncRenderer(self, self._async.renderer)

    credits = blocking(NemoClient.credits)
    create_session = blocking(NemoClient.create_session, SyncSession)
    session = forwarding(NemoClient.session, SyncSession)

    def assistant(self, **options: Any) -> SyncAssistant:
        """The skill's conversation on this client (options as ``NemoClient.assistant``)."""
        from nemovideo.sync._assistant import SyncAssistant  # the Assistant loads on first use

        return SyncAssistant(self, self._async.assistant(**options))

    def batch(self, jobs: Any, **options: Any) -> Iterator[BatchResult]:
        """``NemoClient.batch``, blocking: an iterator of ``BatchResult`` as jobs finish::

        for result in client.batch("jobs.jsonl", concurrency=4):
            print(result.job_id, result.status)
        """
        results = self._async.batch(jobs, **options)
        runner = self._runner

        def iterate() -> Iterator[BatchResult]:
            try:
                while True:
                    try:
                        yield runner.run(_next(results))
                    except StopAsyncIteration:
                        return
            finally:
                if not runner.stopped:
                    runner.run(results.aclose())

        return iterate()


_open_clients: weakref.WeakSet[SyncNemoClient] = weakref.WeakSet()


def _close_at_exit(client: SyncNemoClient) -> None:
    """Close ``client`` when the interpreter exits if nobody did: a script that forgets
    ``close()`` ends quietly, without aiohttp's "Unclosed client session" on stderr."""
    if not _open_clients:
        atexit.unregister(_close_open_clients)
        atexit.register(_close_open_clients)
    _open_clients.add(client)


def _close_open_clients() -> None:
    for client in list(_open_clients):
        with contextlib.suppress(Exception):
            client.close()


def _not_served_by(base_url: str, loop: asyncio.AbstractEventLoop) -> None:
    """Refuse a blocking call whose answer must come from ``loop``, which the call would block."""
    if loop_serving(base_url) is loop:
        raise NemoError(
            f"{base_url} is served by the event loop of the thread making this blocking "
            "SyncNemoClient call, so the call would block its own answer. Serve the emulator "
            "from its own thread: the pytest fixture `threaded_emulator` (instead of "
            "`emulator`), or `with nemovideo.testing.threaded_emulator() as emu:`."
        )


class _MadeOnLoop:
    """The ``http_session`` factory a ``SyncNemoClient`` was given, to call on its loop."""

    def __init__(self, factory: Callable[[], ClientSession], owner: SyncNemoClient) -> None:
        self.factory, self.owner = factory, owner


async def _make_client(options: dict[str, Any]) -> NemoClient:
    """Built on the client's loop, where everything the client creates will be used."""
    made = options.get("http_session")
    if isinstance(made, _MadeOnLoop):
        session = made.factory()
        if not isinstance(session, ClientSession):
            raise ValidationError(
                f"http_session must make an aiohttp.ClientSession, it made {type(session)}"
            )
        made.owner._made_session = options["http_session"] = session  # noqa: SLF001
    return NemoClient(**options)


async def _next(results: AsyncGenerator[BatchResult, None]) -> BatchResult:
    return await results.__anext__()


async def _nothing() -> None:
    return None
