"""A bound on one await that needs no task of its own: a timer that cancels the waiting task.

``asyncio.wait_for`` runs what it bounds in a new task (a task, a future, a context and two more
loop turns each time): for a chat stream that waits on its socket a few times, and 1,000 streams
at once, that is most of the SDK's own allocations, and the garbage collector's work with them.
:class:`Deadline` is what aiohttp's own timeouts and Python 3.11's ``asyncio.timeout`` do: a
``call_later`` that cancels the current task, and a way to tell that cancellation apart from
one that came from outside (``Task.uncancel``, 3.11+), which then passes through unchanged.
It is written here because Python 3.10 has no ``asyncio.timeout``. On 3.10 a timer firing in the
same loop turn as an outside cancel reads as the timer's (as ``wait_for`` does there).
:class:`Alarm`'s docstring shows the pattern; ``Deadline(5.0)`` is an alarm armed once.
"""

from __future__ import annotations

import asyncio
import sys

__all__ = ["Alarm", "Deadline"]


class Alarm:
    """The bound for a loop of awaits (a chat stream's socket reads): one timer for all of them,
    moved rather than replaced.

    A stream waits on its socket once a chunk; a new timer each time is a timer handle, its
    context and a heap entry per chunk, and the cancelled handles stay in the loop's heap until
    they come due (at 1,000 streams, thousands of objects for the garbage collector to walk).
    ``arm`` only records the new bound while the pending timer fires no later than it: when that
    timer fires early it sets itself again for the bound in force, and it cancels the task only
    while a wait is armed and its bound has passed::

        alarm = Alarm()
        try:
            while True:
                alarm.arm(5.0)
                try:
                    chunk = await content.readany()
                except asyncio.CancelledError:
                    if not alarm.expired():
                        raise
                    ...  # five seconds without a chunk
                finally:
                    alarm.disarm()
        finally:
            alarm.close()
    """

    __slots__ = ("_armed", "_cancelling", "_due", "_fired", "_handle", "_loop", "_task")

    def __init__(self) -> None:
        task = asyncio.current_task()
        if task is None:  # pragma: no cover - only ever awaited inside a task
            raise RuntimeError("an Alarm or a Deadline bounds awaits inside a task")
        self._task = task
        self._loop = asyncio.get_running_loop()
        self._handle: asyncio.TimerHandle | None = None
        self._due = 0.0
        self._armed = False
        self._fired = False
        self._cancelling = 0

    def arm(self, seconds: float) -> None:
        """The next wait ends at the latest ``seconds`` from now."""
        self._due = due = self._loop.time() + seconds
        self._armed = True
        self._fired = False
        if sys.version_info >= (3, 11):
            self._cancelling = self._task.cancelling()
        handle = self._handle
        if handle is None or handle.when() > due:
            if handle is not None:
                handle.cancel()
            self._handle = self._loop.call_at(due, self._fire)

    def disarm(self) -> None:
        """The wait ended (either way); the timer stays for the next one."""
        self._armed = False

    def _fire(self) -> None:
        self._handle = None
        if not self._armed:
            return
        if self._loop.time() < self._due:  # armed again since, for later
            self._handle = self._loop.call_at(self._due, self._fire)
            return
        self._fired = True
        self._task.cancel()

    def expired(self) -> bool:
        """Call it on ``CancelledError`` after a wait: True when the cancellation is this timer's
        alone; its cancel request is then withdrawn, so the task goes on (3.11+)."""
        if not self._fired:
            return False
        self._fired = False
        if sys.version_info >= (3, 11):
            return self._task.uncancel() <= self._cancelling
        return True

    def close(self) -> None:
        """No more waits: the timer will not fire."""
        self._armed = False
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


class Deadline(Alarm):
    """Cancels the current task after ``seconds``, unless :meth:`cancel` comes first: an
    :class:`Alarm` armed once, for a single await (the pattern is in :class:`Alarm`'s docstring)."""

    __slots__ = ()

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.arm(seconds)

    def cancel(self) -> None:
        """The wait ended (either way): the timer will not fire."""
        self.close()
