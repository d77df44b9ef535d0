"""What a client and all its ``with_options`` views share: one aiohttp session, one event loop,
the proxies resolved per origin, the account's user id, and one chat lock per session id.

The transport holds the per-view parts (config, retry policy); everything that must be one per
client lives here, so a view is a new ``Transport`` over the same ``Pool``, not a copy of it.

A pool used in a child process after ``fork()`` starts over (:mod:`nemovideo._util.forks`): the
inherited session, its sockets and the parent's loop are dropped, never closed nor reused, and
the child opens its own on its own loop, so a module-level client works in every worker.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence

import aiohttp
from aiohttp.helpers import get_env_proxy_for_url
from yarl import URL

from nemovideo._util import forks
from nemovideo._version import __version__
from nemovideo.errors import ClientClosedError, NemoError

__all__ = ["Pool", "ProxyChoice", "asyncio_loop"]

ProxyChoice = tuple[URL, aiohttp.BasicAuth | None] | None


def asyncio_loop() -> asyncio.AbstractEventLoop:
    """The running asyncio loop; a ``NemoError`` saying so under another event loop (trio)."""
    loop = asyncio._get_running_loop()  # noqa: SLF001 (public in asyncio.__all__)
    if loop is None:
        raise NemoError(
            "NemoClient runs on asyncio, and no asyncio event loop is running here (trio and "
            "other event loops are not supported). Call it from asyncio code (asyncio.run, "
            "uvloop), or use the blocking SyncNemoClient, e.g. from trio with "
            "trio.to_thread.run_sync."
        )
    return loop


class Pool:
    """The shared connection state of one client (see the module docstring)."""

    def __init__(
        self,
        session: aiohttp.ClientSession | None,
        trace_configs: Sequence[aiohttp.TraceConfig],
        timeout: aiohttp.ClientTimeout,
        *,
        limit: int = 0,
        limit_per_host: int = 0,
    ) -> None:
        self.owns_session = session is None
        self._limits = (limit, limit_per_host)
        self.closed = False
        self.user_id: str | None = None
        self._session = session
        self._trace_configs = list(trace_configs)
        self._timeout = timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._proxies: dict[str, ProxyChoice] = {}
        self._chat_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._generation = forks.generation

    @property
    def has_open_session(self) -> bool:
        return self._session is not None

    def http(self) -> aiohttp.ClientSession:
        """The aiohttp session, created on first use inside the loop that uses it."""
        if self._generation != forks.generation:
            self._after_fork()
        if self.closed:
            raise ClientClosedError("This NemoClient is closed; create a new one.")
        loop = asyncio._get_running_loop()  # noqa: SLF001 (public in asyncio.__all__)
        if loop is None:
            loop = asyncio_loop()  # raises: not under asyncio
        if self._loop is None:
            self._loop = loop
        elif loop is not self._loop:
            raise ClientClosedError(
                "This NemoClient was opened on another event loop (each asyncio.run() starts a "
                "new one). Create the client inside the loop that uses it, e.g. in `async def "
                "main()` with `async with NemoClient() as client:`."
            )
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self._limits[0], limit_per_host=self._limits[1], ttl_dns_cache=300
                ),
                timeout=self._timeout,
                headers={"User-Agent": f"nemovideo-python/{__version__}"},
                trace_configs=self._trace_configs or None,
            )
            _no_hidden_resend(self._session)
        return self._session

    def _after_fork(self) -> None:
        """In a forked child: drop what the parent's process owned (see the module docstring)."""
        self._generation = forks.generation
        self._loop = None
        self._chat_locks = weakref.WeakValueDictionary()
        if not self.owns_session:
            if self._session is not None and not self.closed:
                forks.abandon(self._session)
                self._session, self.closed = None, True
                raise NemoError(
                    "This NemoClient was given an aiohttp session created before this process "
                    "was forked; its connections belong to the parent. Create the client (and "
                    "its session) in each worker: gunicorn's post_fork hook, Celery's "
                    "worker_process_init signal, or the worker function itself."
                )
            return
        forks.abandon(self._session)
        self._session = None

    async def aclose(self) -> None:
        asyncio_loop()
        if self._generation != forks.generation:
            self._after_fork()
        self.closed = True
        session, self._session = self._session, None
        if session is not None and self.owns_session:
            await session.close()

    def env_proxy(self, url: URL) -> ProxyChoice:
        """The environment's proxy for ``url``'s origin (``HTTPS_PROXY``/``NO_PROXY``...), with
        credentials from the proxy URL or ``~/.netrc``; looked up once per origin.

        aiohttp's own ``trust_env`` does this on a worker thread for every request (two thread
        hops, a third of ``credits()``'s speed), and would also add ``~/.netrc`` credentials for
        the API host on top of the bearer token.
        """
        key = f"{url.scheme}://{url.host}:{url.port}"
        if key not in self._proxies:
            try:
                found = get_env_proxy_for_url(url) if len(self._proxies) < 64 else None
            except LookupError:
                found = None
            self._proxies[key] = found
        return self._proxies[key]

    def chat_lock(self, session_id: str) -> asyncio.Lock:
        """One lock per session id: ``send()`` calls on one session run one at a time, so each
        reply's ``changes`` describe its own edit (the draft is read before and after)."""
        lock = self._chat_locks.get(session_id)
        if lock is None:
            lock = self._chat_locks[session_id] = asyncio.Lock()
        return lock


def _no_hidden_resend(session: aiohttp.ClientSession) -> None:
    """Stop aiohttp re-sending an idempotent request by itself when a reused keep-alive
    connection drops (RFC 9112 9.3.1, aiohttp >= 3.11): that copy is behind the retry policy's
    back (not counted against ``max_retries``, not logged, ``on_retry`` never hears of it), so
    ``max_retries=0`` could still put a GET on the wire twice. The drop now reaches the policy as
    a ``TransportError``, which re-sends it (counted, logged, ``on_retry``) if the call allows.

    aiohttp has no public switch for it; the attribute is set only where it exists, so an aiohttp
    without the behaviour is left alone. A session the caller passed in is never changed.
    """
    if hasattr(session, "_retry_connection"):
        session._retry_connection = False  # noqa: SLF001 - no public switch (aiohttp 3.11-3.14)
