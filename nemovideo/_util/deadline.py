"""A bound on one await that needs no task of its own: a timer that cancels the waiting task.

``asyncio.wait_for`` runs what it bounds in a new task (a task, a future, a context and two more
loop turns each time): for a chat stream that waits on its socket a few times, and 1,000 streams
at once, that is most of the SDK's own allocations, and the garbage collector's work with them.
:class:`Deadline` is what aiohttp's own timeouts and Python 3.11's ``asyncio.timeout`` do: a
``call_later`` that cancels the current task, and a way to tell that cancellation apart from
one that came from outside (``Task.uncancel``, 3.11+), which then passes through unchanged.
It is written here because Python 3.10 has no ``asyncio.timeout``. On 3.10 a timer firing in the
same loop turn as an outside cancel reads as the timer's (as ``wait_for`` does there)::

    deadline = Deadline(5.0)
    try:
        chunk = await content.readany()
    except asyncio.CancelledError:
        if not deadline.expired():
            raise
        ...  # five seconds without a chunk
    finally:
        deadline.cancel()
"""

from __future__ import annotations

import asyncio
import sys

__all__ = ["Deadline"]


class Deadline:
    """Cancels the current task after ``seconds``, unless :meth:`cancel` comes first."""

    __slots__ = ("_cancelling", "_fired", "_handle", "_task")

    def __init__(self, seconds: float) -> None:
        task = asyncio.current_task()
        if task is None:  # pragma: no cover - only ever awaited inside a task
            raise RuntimeError("a Deadline bounds an await inside a task")
        self._task = task
        self._fired = False
        self._cancelling = 0
        if sys.version_info >= (3, 11):
            self._cancelling = task.cancelling()
        self._handle = asyncio.get_running_loop().call_later(seconds, self._fire)

    def _fire(self) -> None:
        self._fired = True
        self._task.cancel()

    def cancel(self) -> None:
        """The wait ended (either way): the timer will not fire."""
        self._handle.cancel()

    def expired(self) -> bool:
        """Call it on ``CancelledError``: True when the cancellation is this timer's alone; its
        cancel request is then withdrawn, so the task goes on (3.11+)."""
        if not self._fired:
            return False
        if sys.version_info >= (3, 11):
            return self._task.uncancel() <= self._cancelling
        return True
