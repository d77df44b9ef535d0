"""``NemoClient``: the entry point. One client, one HTTP connection pool, one token.

Example::

    async with NemoClient() as client:            # token from NEMO_TOKEN or anonymous
        print(await client.credits())
        session = await client.create_session()
        print(session.claim_url)

Forgetting ``async with`` is safe: call ``await client.aclose()`` when done.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, NoReturn

import aiohttp
import attrs

from nemovideo._config.config import ClientConfig
from nemovideo._http import endpoints as api
from nemovideo._http.api import Api
from nemovideo._http.paths import id_text
from nemovideo._http.transport import RetryHook, Transport
from nemovideo._util.closing import AsyncClosing
from nemovideo._util.log import setup_from_env as setup_logging_from_env
from nemovideo._util.numbers import whole
from nemovideo._util.plain import Plain, refuse_pickle
from nemovideo.errors import APIError, ValidationError

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Sequence

    from typing_extensions import Unpack

    from nemovideo._config.options import ConfigOptions
    from nemovideo.assistant._assistant import Assistant
    from nemovideo.batch import BatchResult
    from nemovideo.batch.runner import BatchOptions, Jobs
    from nemovideo.render._renderer import Renderer
    from nemovideo.session import Session
    from nemovideo.upload._uploader import Uploader


def _count(value: Any) -> int | None:
    """A credit count: a missing one is 0; one the server sent unreadable (NaN, ``1e999``,
    ``"lots"``) is ``None``, unknown, rather than a guess."""
    return 0 if value is None else whole(value)


@attrs.frozen
class Credits(Plain):
    """The account balance. ``frozen`` is reserved by work in progress; ``total = available + frozen``.

    :ivar available: credits that can be spent now.
    :ivar frozen: credits held by work in progress (a render, a generation).
    :ivar total: ``available + frozen`` unless the server says otherwise.
    """

    available: int | None
    frozen: int | None
    total: int | None

    @classmethod
    def from_json(cls, data: Any) -> Credits:
        """Decode the balance endpoint's ``data``; missing counts read as 0, unreadable ones
        (``NaN``, ``1e999``, text) as ``None``.

        :raises APIError: when ``data`` is not a JSON object.
        """
        if not isinstance(data, dict):
            raise APIError("The credits answer was not an object.", http_status=200)
        available, frozen = _count(data.get("available")), _count(data.get("frozen"))
        if data.get("total") is not None:
            total = whole(data.get("total"))
        elif available is not None and frozen is not None:
            total = available + frozen
        else:
            total = None
        return cls(available=available, frozen=frozen, total=total)


class NemoClient(AsyncClosing):
    """Async client for the NemoVideo API.

    Settings come from keyword arguments (any [`ClientConfig`][nemovideo.ClientConfig] field,
    typed, so a misspelt option is a type error), else the environment, else ``config.json`` in
    the config dir, else defaults; or pass a whole ``config=``::

        NemoClient(token="nmv_usr_...", request_timeout=10, max_retries=0, proxy="http://p:3128")

    ``http_session`` lets an app share its own ``aiohttp.ClientSession`` (the client will not
    close it). ``trace_configs`` are aiohttp ``TraceConfig`` objects for the client's own session
    (OpenTelemetry's aiohttp instrumentation, metrics); ``on_retry(call, error, wait)`` is called
    before each retry with the call's description, the error and the seconds it will wait.

    Example, against the bundled emulator (leave out ``base_url`` and ``config_dir`` for the
    real API)::

        >>> import asyncio, tempfile
        >>> import nemovideo
        >>> from nemovideo.testing import Emulator
        >>> async def main() -> tuple[int, bool]:
        ...     with tempfile.TemporaryDirectory() as tmp:
        ...         async with Emulator() as emu:
        ...             async with nemovideo.NemoClient(base_url=emu.url, config_dir=tmp) as client:
        ...                 credits = await client.credits()
        ...                 session = await client.create_session()
        ...                 again = client.session(session.id)  # reattach by id, no call
        ...                 return credits.available, again.id == session.id
        >>> asyncio.run(main())
        (100, True)

    :ivar config: the resolved settings, as one frozen value.
    :vartype config: ClientConfig
    """

    def __init__(
        self,
        *,
        config: ClientConfig | None = None,
        http_session: aiohttp.ClientSession | None = None,
        trace_configs: Sequence[aiohttp.TraceConfig] = (),
        on_retry: RetryHook | None = None,
        **options: Unpack[ConfigOptions],
    ) -> None:
        setup_logging_from_env()
        if config is not None and options:
            config = config.evolve(**options)
        elif config is None:
            config = ClientConfig.from_env(**options)
        self._bind(
            Transport(config, session=http_session, trace_configs=trace_configs, on_retry=on_retry)
        )

    def _bind(self, transport: Transport) -> None:
        self.config = transport.config
        self._transport = transport
        self._api = Api(transport)
        self._uploader: Uploader | None = None
        self._renderer: Renderer | None = None

    def with_options(
        self, *, on_retry: RetryHook | None = None, **options: Unpack[ConfigOptions]
    ) -> NemoClient:
        """A view of this client with other options, sharing its connection pool and token.

        For one call or a group of calls that need other timeouts, retries or waits::

            fast = client.with_options(request_timeout=5, max_retries=0)
            await fast.credits()
            job = await client.session(sid).export()
            await client.with_options(poll_interval=2).renderer.resume(job.id)

        Closing a view closes nothing; closing the client closes its views too. Options that
        shape the connection itself (``base_url``, ``token``, ``proxy``...) cannot change here.
        """
        fixed = {
            "base_url",
            "web_url",
            "token",
            "client_id",
            "config_dir",
            "proxy",
            "trust_env",
            "allow_insecure_http",
        } & set(options)
        if fixed:
            raise ValidationError(
                f"with_options() cannot change {', '.join(sorted(fixed))}: they belong to the "
                "connection; create another NemoClient for that."
            )
        return NemoClient._over(
            self._transport.with_config(self.config.evolve(**options), on_retry)
        )

    @classmethod
    def _over(cls, transport: Transport) -> NemoClient:
        """A client on an existing transport (a ``with_options`` view)."""
        client = cls.__new__(cls)
        cls._bind(client, transport)
        return client

    def __reduce__(self) -> NoReturn:
        refuse_pickle("NemoClient")

    def __repr__(self) -> str:
        state = "closed" if self._transport.closed else "open"
        return f"<NemoClient {self.config.base_url} {state}>"

    def __del__(self, _warn: Any = warnings.warn) -> None:
        transport = getattr(self, "_transport", None)
        if transport is None or transport.closed or transport.is_view:
            return
        if transport.owns_session and transport.has_open_session:
            _warn(
                f"{self!r} was never closed: use `async with NemoClient() as client:` or "
                "`await client.aclose()`, or its connections stay open.",
                ResourceWarning,
                source=self,
                stacklevel=2,
            )

    async def aclose(self) -> None:
        """Close the connection pool. Further calls raise ``ClientClosedError``."""
        await self._transport.aclose()

    @property
    def closed(self) -> bool:
        """True once ``aclose()`` ran (or the ``async with`` block ended); calls then fail."""
        return self._transport.closed

    @property
    def api(self) -> Api:
        """The narrow handle this client's services share (internal, but stable enough for a
        call the SDK does not wrap yet)::

            data = await client.api.request("GET", "/api/credits/balance/simple")

        Every call made through it gets the client's token, retries, request ids and typed
        errors; it reaches nothing else of the client (not its token provider, pool or
        lifecycle).
        """
        return self._api

    @property
    def user_id(self) -> str | None:
        """The account's user id, once the API has told it (``anon_…`` for anonymous users)."""
        return self._transport.user_id

    @property
    def uploader(self) -> Uploader:
        """Uploads for callers that hold session ids rather than ``Session`` objects."""
        if self._uploader is None:
            from nemovideo.upload._uploader import Uploader

            self._uploader = Uploader(self._api)
        return self._uploader

    @property
    def renderer(self) -> Renderer:
        """Render jobs by id: ``await client.renderer.resume(job_id)`` after a restart."""
        if self._renderer is None:
            from nemovideo.render._renderer import Renderer

            self._renderer = Renderer(self)
        return self._renderer

    def assistant(self, **options: Any) -> Assistant:
        """The skill's conversation on this client: ``await client.assistant().handle("余额")``.

        ``options`` go to [`Assistant`][nemovideo.assistant.Assistant] (``session``,
        ``download_dir``, ``on_notice``, ``on_progress``, ``on_stage``, ``language``).
        """
        from nemovideo.assistant._assistant import Assistant

        return Assistant(self, **options)

    async def credits(self) -> Credits:
        """The credit balance: ``Credits(available, frozen, total)``."""
        return Credits.from_json(await self._api.send(api.CREDITS))

    async def create_session(self, *, language: str = "en", task_name: str = "project") -> Session:
        """Start a new editing session (a project) and return it."""
        from nemovideo.session import Session

        if not language or not isinstance(language, str):
            raise ValidationError("language must be a non-empty string such as 'en'")
        data = await self._api.send(
            api.CREATE_SESSION, json_body={"task_name": task_name, "language": language}
        )
        if not isinstance(data, dict) or not id_text(data.get("session_id")):
            raise APIError("The create-session answer carried no session_id.", http_status=200)
        self._transport.note_user_id(data.get("user_id"))
        user_id = data.get("user_id")
        try:
            return Session(
                self,
                id_text(data["session_id"]) or "",
                task_id=id_text(data.get("task_id")) or None,
                user_id=user_id if isinstance(user_id, str) and len(user_id) <= 256 else None,
            )
        except ValidationError as exc:
            raise APIError(
                f"The API answered an unusable session id: {exc}", http_status=200
            ) from None

    def session(self, session_id: str, *, task_id: str | None = None) -> Session:
        """Reattach to an existing session by id (no request is made)."""
        from nemovideo.session import Session, check_session_id

        return Session(self, check_session_id(session_id), task_id=task_id, user_id=None)

    def batch(
        self, jobs: Jobs, **options: Unpack[BatchOptions]
    ) -> AsyncGenerator[BatchResult, None]:
        """Run many jobs, exactly once across crashes and restarts; yield a ``BatchResult`` each::

            async for r in client.batch("jobs.jsonl", concurrency=4, journal="batch.db"):
                print(r.job_id, r.status, r.path)

        ``jobs``: a JSON Lines / CSV manifest path, or ``BatchJob`` values (or manifest-style
        dicts). The whole list is checked before anything is sent (``ManifestError`` with line
        numbers). Every step is recorded in ``journal`` (SQLite; default beside the manifest, or
        ``batch.db``) before it happens, so running the same call again resumes: no message is
        sent twice, no second render is submitted, no finished job is redone. ``one_session``:
        one session, every file uploaded once, each instruction in turn with its own render.
        ``retry_failed`` runs failed jobs again. ``shard=(i, n)``: only the i-th of n shards
        (1-based; see ``docs/batch.md``). Videos go to each job's ``out``, else
        ``out_dir/<id>.mp4``. ``settle={"sku-2": "sent"}`` records what you found in a
        ``needs-attention`` job's session (``"sent"``: go on to the render; ``"unsent"``:
        send the message).
        """
        from nemovideo.batch.runner import run_batch

        return run_batch(self, jobs, **options)
