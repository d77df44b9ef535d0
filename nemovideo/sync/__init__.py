"""``SyncNemoClient``: the same client, blocking, for scripts, threads, Django views and notebooks.

    from nemovideo import SyncNemoClient

    with SyncNemoClient() as client:
        session = client.create_session()
        session.upload(["a.jpg", "b.jpg"])
        reply = session.send("turn these into a 10-second video")
        job = session.export()
        job.wait()
        job.download("out.mp4")

        with session.chat("add lo-fi BGM at 35%") as stream:
            for event in stream:
                print(event)

Every method is the async one, run on the client's private event loop, so the two APIs cannot
drift: the same arguments, results, errors and retries. A calling thread with no event loop of its
own runs that loop itself for the length of the call (no thread hand-off, so a blocking call costs
what the async one does); where a loop is already running (Jupyter, an ``async def``) or another
thread is in a call, the call runs on the client's helper thread. One client may be shared by
many threads. Ctrl-C during a blocking call cancels that operation cleanly and raises
``KeyboardInterrupt``.

Callbacks (``progress``, ``on_waiting``) run inside the client's event loop: keep them short, and
do not call the client from inside them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nemovideo.sync._client import (
    SyncChatStream,
    SyncNemoClient,
    SyncRenderer,
    SyncRenderJob,
    SyncSession,
    SyncUploader,
)

__all__ = [
    "SyncAssistant",
    "SyncChatStream",
    "SyncNemoClient",
    "SyncRenderJob",
    "SyncRenderer",
    "SyncSession",
    "SyncUploader",
]

if TYPE_CHECKING:
    from nemovideo.sync._assistant import SyncAssistant as SyncAssistant


def __getattr__(name: str) -> Any:
    if name == "SyncAssistant":  # the Assistant loads on first use, not with the sync client
        from nemovideo.sync._assistant import SyncAssistant

        return SyncAssistant
    raise AttributeError(f"module 'nemovideo.sync' has no attribute {name!r}")
