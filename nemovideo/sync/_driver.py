"""The event loop under ``SyncNemoClient``: run by the thread that is waiting for it.

Handing every blocking call to a loop thread costs two thread wake-ups per call (about 100 us
here, a fifth of a ``credits()`` round trip on loopback). Most sync callers are one thread with no
event loop of its own, so :class:`DrivenLoop` lets that thread run the client's loop itself for
the length of its call (``loop.run_until_complete``) and pays no hand-off at all. A helper
thread ("relief") exists only for the cases a caller cannot drive:

- the caller already runs an event loop (Jupyter, ``async def``): its call is handed to relief;
- another thread is driving: the call is queued on the loop and runs there, concurrently; when
  the driver's own call ends while others are still in flight, relief takes over until they end.

Whoever drives, the loop is the same, so the aiohttp session, its connections and the token are
shared by every thread, and a call never runs twice at once on two loops. Ctrl-C in a main
thread that is driving cancels its call the way ``asyncio.run`` does (the task is cancelled, its
cleanup runs, ``KeyboardInterrupt`` is raised again); in a thread that waits for another
driver, the call is cancelled on the loop and waited for. Any other exception a signal handler
raises during a call (``signal.alarm`` timeouts) cancels the call the same way.

While no call is running the loop is parked: nothing runs until the next call. A connection the
server closed meanwhile is noticed first: after a pause the next call lets the loop read pending
socket events once before it picks a pooled connection.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import signal
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from types import FrameType
from typing import Any, TypeVar

from nemovideo._util import forks
from nemovideo.errors import ClientClosedError, ValidationError

try:  # the C functions under ``signal``'s wrappers: 0.5 us a call instead of 5-9 us
    from _signal import getsignal as _get_handler  # type: ignore[import-not-found]
    from _signal import signal as _set_handler
except ImportError:  # pragma: no cover - other Pythons
    from signal import getsignal as _get_handler
    from signal import signal as _set_handler

__all__ = ["DrivenLoop"]

R = TypeVar("R")

_CLOSED = "This SyncNemoClient is closed; create a new one."
_RELIEF = -1
_CLOSING = -2
_SIGINT = int(signal.SIGINT)
_MAIN_THREAD = threading.main_thread().ident
#: After a pause this long, read pending socket events (closed connections) before a call.
_SETTLE_AFTER = 0.05
#: How long relief keeps running the loop after its last call, for the next one to find it awake.
_LINGER = 0.002


class DrivenLoop:
    """One private event loop, driven by its callers' threads; see the module docstring."""

    def __init__(self, name: str = "nemovideo-sync") -> None:
        self._name = name
        self._stopping = False
        self.guard: Callable[[asyncio.AbstractEventLoop], None] | None = None
        self._setup()

    def _setup(self) -> None:
        """A new loop, new locks and a new relief thread: at creation, and in a forked child."""
        self._generation = forks.generation
        self._loop = asyncio.new_event_loop()
        self._lock = threading.Lock()  # entered directly on the hot path: no Python frame
        self._state = threading.Condition(self._lock)
        self._driver: int | None = None
        self._queued = 0
        self._exiting = False
        self._parked_at = time.monotonic()
        self._relief = threading.Thread(target=self._serve, name=self._name, daemon=True)
        self._relief.start()

    def _after_fork(self) -> bool:
        """In a forked child: leave the parent's loop, locks and dead thread behind (never
        closed, see ``_util.forks``) and set up fresh ones; False when the client was already
        stopped, which needs nothing new."""
        with forks.lock:
            if self._generation == forks.generation:
                return True
            forks.abandon(self._loop, self._lock, self._state, self._relief)
            if self._stopping:
                self._generation = forks.generation
                self._lock = threading.Lock()
                self._state = threading.Condition(self._lock)
                return False
            self._setup()
            return True

    @property
    def stopped(self) -> bool:
        return self._stopping

    def run(self, coro: Coroutine[Any, Any, R]) -> R:
        """Run ``coro`` on the loop and block until it finishes; its result or exception."""
        return self._call(coro, closing=False)

    def stop(self, final: Callable[[], Awaitable[None]], *, wait: bool = True) -> None:
        """Run ``final()`` (closing the client), cancel what still runs, end relief. Once.

        ``wait=False`` (a finalizer, or a call from inside the loop) schedules all that and
        returns.
        """
        if self._generation != forks.generation:
            self._stopping = True  # unused in this forked child: nothing of its own to close
            self._after_fork()
            return
        with self._lock:
            if self._stopping:
                return
            self._stopping = True
            inside = self._inside()
        if wait and not inside:
            try:
                self._call(_shutdown(final), closing=True)
            finally:
                self._exit()
                self._relief.join()
            return
        with self._lock:
            self._enqueue(self._start_closing, final)

    def _inside(self) -> bool:
        """True in a thread running the loop now: a callback of one of the client's calls."""
        me = threading.get_ident()
        return self._driver == me or me == self._relief.ident

    # -- one call ---------------------------------------------------------------------------

    def _call(self, coro: Coroutine[Any, Any, R], *, closing: bool) -> R:
        if self._generation != forks.generation:
            self._after_fork()
        running = asyncio._get_running_loop()  # noqa: SLF001 (public in asyncio.__all__)
        if running is not None and self.guard is not None and not closing:
            try:
                self.guard(running)
            except BaseException:
                coro.close()
                raise
        with self._lock:
            if self._stopping and not closing:
                coro.close()
                raise ClientClosedError(_CLOSED)
            if self._inside():
                coro.close()
                raise ValidationError(
                    "A SyncNemoClient method was called from one of its own callbacks "
                    "(progress, on_waiting...), which run inside the client's event loop and "
                    "would deadlock. Keep callbacks short and non-blocking."
                )
            drive = self._driver is None and running is None
            if drive:
                self._driver = threading.get_ident()
            else:
                done: concurrent.futures.Future[R] = concurrent.futures.Future()
                tasks: list[asyncio.Task[R]] = []
                self._enqueue(self._start, coro, done, tasks)
        if drive:
            return self._drive(coro)
        try:
            return done.result()
        except BaseException:
            if not done.done():  # interrupted by a signal handler: cancel the call, as Ctrl-C
                self._loop.call_soon_threadsafe(_cancel, tasks)
                concurrent.futures.wait([done])
            raise

    def _drive(self, coro: Coroutine[Any, Any, R]) -> R:
        """Run the loop in this thread until ``coro`` is done, then pass the loop on."""
        loop = self._loop
        if time.monotonic() - self._parked_at > _SETTLE_AFTER:
            coro = _after_one_turn(coro)
        try:
            task = loop.create_task(coro)
            with _SigintCancels(task, loop) as sigint:
                try:
                    return loop.run_until_complete(task)
                except asyncio.CancelledError:
                    if sigint.fired:
                        raise KeyboardInterrupt from None
                    raise ClientClosedError(
                        "The SyncNemoClient was closed during this call."
                    ) from None
                except BaseException:
                    # Ctrl-C, or anything a signal handler raised (a SIGALRM timeout) while the
                    # loop ran: the call is cancelled and its cleanup runs, nothing stays behind
                    if not task.done():
                        task.cancel()
                        loop.run_until_complete(asyncio.gather(task, return_exceptions=True))
                    raise
        finally:
            self._parked_at = time.monotonic()
            with self._lock:
                self._driver = None
                if self._queued:
                    self._call_relief()
                elif self._exiting:
                    self._state.notify_all()

    def _start(
        self,
        coro: Coroutine[Any, Any, R],
        done: concurrent.futures.Future[R],
        tasks: list[asyncio.Task[R]],
    ) -> None:
        task = self._loop.create_task(coro)
        tasks.append(task)
        task.add_done_callback(functools.partial(self._settle, done))

    def _start_closing(self, final: Callable[[], Awaitable[None]]) -> None:
        task = self._loop.create_task(_shutdown(final))
        task.add_done_callback(lambda _: self._exit(settled=True))

    def _settle(self, done: concurrent.futures.Future[R], task: asyncio.Task[R]) -> None:
        if task.cancelled():
            done.set_exception(ClientClosedError("The SyncNemoClient was closed during this call."))
        elif (exc := task.exception()) is not None:
            done.set_exception(exc)
        else:
            done.set_result(task.result())
        self._settled()

    def _settled(self) -> None:
        with self._lock:
            self._queued -= 1
            if not self._queued and self._driver == _RELIEF:
                if self._exiting:
                    self._loop.stop()
                else:  # a notebook's next call usually follows at once: keep the loop warm
                    self._loop.call_later(_LINGER, self._end_shift)

    def _end_shift(self) -> None:
        with self._lock:
            if not self._queued and self._driver == _RELIEF:
                self._loop.stop()

    # -- relief -----------------------------------------------------------------------------

    def _enqueue(self, start: Callable[..., None], *args: Any) -> None:
        """With the state held: one more call in flight, started on the loop by ``start``."""
        self._queued += 1
        self._loop.call_soon_threadsafe(start, *args)
        self._call_relief()

    def _call_relief(self) -> None:
        """With the state held: if nobody drives, relief does (it is woken only then)."""
        if self._driver is None:
            self._driver = _RELIEF
            self._state.notify_all()

    def _exit(self, *, settled: bool = False) -> None:
        with self._lock:
            self._exiting = True
            self._state.notify_all()
            if self._driver == _RELIEF and not self._queued and not settled:
                self._loop.call_soon_threadsafe(self._end_shift)
        if settled:
            self._settled()

    def _serve(self) -> None:
        """Relief: drive the loop while calls are queued and no caller drives; close it last."""
        loop = self._loop
        while True:
            with self._lock:
                while self._driver != _RELIEF and not (self._exiting and self._driver is None):
                    self._state.wait()
                if self._driver != _RELIEF:
                    self._driver = _CLOSING  # a lingering _end_shift must not stop the cleanup
                    break
                if not self._queued:
                    self._driver = None
                    continue
            loop.run_forever()
            with self._lock:
                if not self._queued:
                    self._driver = None
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            loop.close()


class _SigintCancels:
    """While the main thread drives: Ctrl-C cancels ``task`` (as ``asyncio.run`` does)."""

    def __init__(self, task: asyncio.Task[Any], loop: asyncio.AbstractEventLoop) -> None:
        self._task, self._loop = task, loop
        self.fired = False
        self._installed = (
            threading.get_ident() == _MAIN_THREAD
            and _get_handler(_SIGINT) is signal.default_int_handler
        )

    def __enter__(self) -> _SigintCancels:
        if self._installed:
            _set_handler(_SIGINT, self._on_sigint)
        return self

    def __exit__(self, *_: object) -> None:
        if self._installed:
            _set_handler(_SIGINT, signal.default_int_handler)

    def _on_sigint(self, _signum: int, _frame: FrameType | None) -> None:
        if self.fired or self._task.done():
            raise KeyboardInterrupt
        self.fired = True
        self._task.cancel()
        self._loop.call_soon_threadsafe(lambda: None)


async def _after_one_turn(coro: Coroutine[Any, Any, R]) -> R:
    """Let the loop read pending socket events (a server's close) once, then run ``coro``."""
    await asyncio.sleep(0)
    return await coro


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
