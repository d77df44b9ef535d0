"""The machinery under ``SyncNemoClient``: one private event loop in one daemon thread.

Blocking calls hand their coroutine to that loop and wait for it; the async client does all the
work there, so the sync API can never drift from the async one. Two pieces:

- :class:`LoopThread` runs coroutines from any thread (several at once), turns Ctrl-C in the
  waiting thread into a clean cancellation of the operation, and shuts down once.
- :func:`blocking` / :func:`forwarding` turn an async class's methods into blocking methods of a
  proxy class, keeping their signatures and docstrings for type checkers and ``help()``::

      class SyncSession(Proxy):
          state = blocking(Session.state)             # def state(self) -> SessionState
          export = blocking(Session.export, SyncRenderJob)   # wraps the returned RenderJob
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

from .errors import ClientClosedError, ValidationError

__all__ = ["LoopThread", "Proxy", "blocking", "forwarding"]

P = ParamSpec("P")
R = TypeVar("R")
W = TypeVar("W")

_CLOSED = "This SyncNemoClient is closed; create a new one."


class LoopThread:
    """An event loop running forever in its own daemon thread, until :meth:`stop`."""

    def __init__(self, name: str = "nemovideo-sync") -> None:
        self._loop = asyncio.new_event_loop()
        self._lock = threading.Lock()
        self._stopping = False
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_forever()
        finally:
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.run_until_complete(self._loop.shutdown_default_executor())
            self._loop.close()

    @property
    def stopped(self) -> bool:
        return self._stopping

    def run(self, coro: Coroutine[Any, Any, R]) -> R:
        """Run ``coro`` on the loop and block until it finishes; its result or exception.

        On ``KeyboardInterrupt`` in the waiting thread the operation is cancelled on the loop,
        its cleanup (``finally`` blocks, closed connections) is waited for, and the interrupt is
        raised again: nothing keeps running behind the caller's back.
        """
        if threading.get_ident() == self._thread.ident:
            coro.close()
            raise ValidationError(
                "A SyncNemoClient method was called from one of its own callbacks (progress, "
                "on_waiting...), which run on the client's loop thread and would deadlock. "
                "Keep callbacks short and non-blocking."
            )
        done: concurrent.futures.Future[R] = concurrent.futures.Future()
        tasks: list[asyncio.Task[R]] = []

        def start() -> None:
            if self._stopping:
                coro.close()
                done.set_exception(ClientClosedError(_CLOSED))
                return
            task = self._loop.create_task(coro)
            tasks.append(task)
            task.add_done_callback(functools.partial(_settle, done))

        with self._lock:
            if self._stopping:
                coro.close()
                raise ClientClosedError(_CLOSED)
            self._loop.call_soon_threadsafe(start)
        try:
            return done.result()
        except KeyboardInterrupt:
            self._loop.call_soon_threadsafe(_cancel, tasks)
            concurrent.futures.wait([done])
            raise

    def stop(self, final: Callable[[], Awaitable[None]], *, wait: bool = True) -> None:
        """Run ``final()`` (closing the client), cancel what still runs, end the thread. Once.

        ``wait=False`` (or a call from the loop thread itself) schedules all that and returns.
        """
        with self._lock:
            if self._stopping:
                return
            self._stopping = True
        if not wait or threading.get_ident() == self._thread.ident:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._stop_after, final)
            return
        try:
            asyncio.run_coroutine_threadsafe(_shutdown(final), self._loop).result()
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()

    def _stop_after(self, final: Callable[[], Awaitable[None]]) -> None:
        task = self._loop.create_task(_shutdown(final))
        task.add_done_callback(lambda _: self._loop.stop())


def _settle(done: concurrent.futures.Future[R], task: asyncio.Task[R]) -> None:
    if task.cancelled():
        done.set_exception(ClientClosedError("The SyncNemoClient was closed during this call."))
    elif (exc := task.exception()) is not None:
        done.set_exception(exc)
    else:
        done.set_result(task.result())


def _cancel(tasks: list[asyncio.Task[Any]]) -> None:
    for task in tasks:
        task.cancel()


async def _shutdown(final: Callable[[], Awaitable[None]]) -> None:
    """Close the client, then cancel the calls other threads still have in flight."""
    try:
        await final()
    finally:
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)


class Proxy:
    """A blocking view of one async object; ``_runner`` is the client's :class:`LoopThread`."""

    _runner: LoopThread
    _async: Any


class _Forward(Generic[P, R]):
    """A descriptor: ``proxy.name(...)`` calls the async class's method on ``proxy._async``."""

    def __init__(
        self,
        method: Callable[..., Any],
        wrap: Callable[[Any, Any], Any] | None,
        run: bool,
    ) -> None:
        self._method, self._wrap, self._blocks = method, wrap, run
        self.__doc__ = method.__doc__
        self.__wrapped__ = method

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> _Forward[P, R]: ...
    @overload
    def __get__(self, obj: Proxy, owner: type[Any]) -> Callable[P, R]: ...
    def __get__(self, obj: Proxy | None, owner: type[Any]) -> _Forward[P, R] | Callable[P, R]:
        if obj is None:
            return self
        method, wrap, blocks = self._method, self._wrap, self._blocks

        @functools.wraps(method)
        def call(*args: P.args, **kwargs: P.kwargs) -> R:
            value = method(obj._async, *args, **kwargs)  # noqa: SLF001 (the proxy's own target)
            if blocks:
                value = obj._runner.run(value)  # noqa: SLF001
            return value if wrap is None else wrap(obj, value)  # type: ignore[no-any-return]

        return call


@overload
def blocking(method: Callable[Concatenate[Any, P], Awaitable[R]]) -> _Forward[P, R]: ...
@overload
def blocking(
    method: Callable[Concatenate[Any, P], Awaitable[R]], wrap: Callable[[Any, R], W]
) -> _Forward[P, W]: ...
def blocking(
    method: Callable[Concatenate[Any, P], Awaitable[Any]],
    wrap: Callable[[Any, Any], Any] | None = None,
) -> _Forward[P, Any]:
    """A blocking method running the async ``method``; ``wrap(proxy, result)`` wraps its result."""
    return _Forward(method, wrap, run=True)


def forwarding(
    method: Callable[Concatenate[Any, P], R], wrap: Callable[[Any, R], W]
) -> _Forward[P, W]:
    """A method calling the plain (non-async) ``method`` and wrapping its result in a proxy."""
    return _Forward(method, wrap, run=False)
