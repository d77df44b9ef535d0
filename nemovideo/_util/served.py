"""Which event loop serves a local origin: lets a blocking client refuse to wait on its own loop.

An in-process server (the emulator) notes the loop it is served by; a ``SyncNemoClient`` called
from a thread that runs that very loop would block the loop that must answer it, and wait for a
timeout. It asks :func:`loop_serving` first and fails at once instead. Nothing is registered in
a process that serves nothing, so the lookup costs a dict miss, and only for calls made from a
thread already running a loop.
"""

from __future__ import annotations

import asyncio
import weakref

__all__ = ["forget_served", "loop_serving", "note_served"]

_SERVED: dict[str, weakref.ref[asyncio.AbstractEventLoop]] = {}


def _key(origin: str) -> str:
    return origin.rstrip("/").lower()


def note_served(origin: str, loop: asyncio.AbstractEventLoop) -> None:
    """``origin`` (``http://127.0.0.1:8765``) is served by ``loop`` from now on."""
    _SERVED[_key(origin)] = weakref.ref(loop)


def forget_served(origin: str | None) -> None:
    if origin is not None:
        _SERVED.pop(_key(origin), None)


def loop_serving(url: str) -> asyncio.AbstractEventLoop | None:
    """The loop serving ``url``'s origin in this process, if one was noted."""
    if not _SERVED:
        return None
    ref = _SERVED.get(_key(url))
    return ref() if ref is not None else None
