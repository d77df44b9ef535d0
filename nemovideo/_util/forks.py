"""Fork awareness for the objects that hold an event loop, a thread or sockets.

After ``os.fork()`` the child holds copies of the parent's event loops (whose epoll instance
and self-pipe are *shared* with the parent), pooled keep-alive sockets (shared too), locks that
a parent thread may have held at that instant, and no helper threads. Using any of them in the
child mixes its traffic with the parent's: the child reads another request's answer, or waits
forever. Closing them from the child is no better, since unregistering a socket from a shared
epoll instance unregisters it for the parent too.

So a child drops them: each owner (``Pool``, ``TokenProvider``, ``DrivenLoop``) remembers the
:data:`generation` it was set up in and, when it differs, builds fresh state and hands the
inherited objects to :func:`abandon`, which keeps them alive (never finalized, so never closed)
for the rest of the child's life. The check is one comparison of a module global; the only work
done at fork time is the counter's increment, in the child, and a process that never forks
does nothing at all::

    if self._generation != forks.generation:   # cheap: a global read
        self._after_fork()
"""

from __future__ import annotations

import os
import threading

__all__ = ["abandon", "generation", "lock"]

generation = 0
"""How many forks deep this process is: 0 in the original process, +1 in each child."""

lock = threading.Lock()
"""Held while an owner rebuilds its state after a fork, so two threads never both do it; new in
each child (the parent's could have been held at the fork)."""

_abandoned: list[object] = []
_pinned = False


def _in_child() -> None:
    global generation, lock
    lock = threading.Lock()
    generation += 1


def abandon(*objects: object) -> None:
    """Keep ``objects`` (inherited across a fork) alive and untouched until the process ends.

    Their finalizers would close loops and sockets the parent still uses: the list holding them
    gets one reference nobody owns, so even interpreter shutdown never frees them.
    """
    global _pinned
    if not _pinned:
        import ctypes  # only a forked child gets here: the import stays off `import nemovideo`

        ctypes.pythonapi.Py_IncRef(ctypes.py_object(_abandoned))
        _pinned = True
    _abandoned.extend(o for o in objects if o is not None)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_in_child)
