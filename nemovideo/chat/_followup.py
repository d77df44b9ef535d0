"""Waiting for work the backend finishes after a chat stream has closed, by polling state.

Two situations end a stream before the work is done, and both are followed the same way
(docs/protocol.md, "Chat"): wait ``recovery_first_wait``, read the session state, and if the draft changed the
work has landed; if not, wait ``recovery_wait`` and look again, up to ``recovery_max_polls`` times.

- A dropped connection: the message is never re-sent (a second POST is a second charge).
- A second stage: generation can finish the video in the stream, then close on a long-running
  tool call (music and title) whose result lands in the draft later.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from nemovideo.chat._state import Clock
from nemovideo.errors import TransportError

if TYPE_CHECKING:
    from nemovideo.draft._model import Draft
    from nemovideo.session import Session

log = logging.getLogger("nemovideo.chat")

__all__ = ["wait_for_draft_change"]


async def wait_for_draft_change(
    session: Session,
    before: Draft,
    *,
    why: str,
    on_waiting: Callable[[float], Awaitable[None] | None] | None = None,
) -> Draft | None:
    """Poll ``session``'s state on the recovery schedule; the first draft unlike ``before``, or None.

    ``on_waiting(elapsed)`` is called every ``heartbeat_notice_interval``, as during a stream, so a
    long wait is never silent. A failed state read counts as an unchanged look.
    """
    config = session.client.api.config
    waits = [config.recovery_first_wait] + [config.recovery_wait] * (config.recovery_max_polls - 1)
    clock = Clock(math.inf, math.inf, config.heartbeat_notice_interval)
    for polls, wait in enumerate(waits, 1):
        await asyncio.sleep(wait)
        if on_waiting is not None and clock.notice_due():
            result = on_waiting(clock.elapsed())
            if inspect.isawaitable(result):
                await result
        try:
            draft = (await session.state()).draft
        except TransportError as exc:
            log.info("%s: state check %d failed: %s", why, polls, exc)
            continue
        if draft.raw != before.raw:
            log.info("%s: the draft changed (state check %d)", why, polls)
            return draft
    return None
