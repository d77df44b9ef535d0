"""Run awaitables together and leave nothing running behind when one of them fails."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

__all__ = ["gather_or_cancel"]

T = TypeVar("T")


async def gather_or_cancel(*aws: Awaitable[T]) -> list[T]:
    """``asyncio.gather(*aws)``, except that when one fails (or the caller is cancelled) the
    others are cancelled and waited for before the error goes on, as ``asyncio.TaskGroup`` does
    on 3.11+ (the SDK runs on 3.10 too): no upload or ffmpeg is left running unowned::

        results = await gather_or_cancel(*(upload(f) for f in files))
    """
    tasks = [asyncio.ensure_future(aw) for aw in aws]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
