"""Functions the process tests run in child processes (importable by a ``spawn`` child)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import nemovideo


def export_at_once(url: str, config_dir: str, session_id: str, options: str, barrier: Any) -> str:
    """In a child: wait for every sibling, then export ``session_id``; the job id, or the error."""

    async def run() -> str:
        config = nemovideo.ClientConfig(
            base_url=url, config_dir=Path(config_dir), **json.loads(options)
        )
        async with nemovideo.NemoClient(config=config) as client:
            await client.credits()  # the token is fetched (and cached) before the race
            await asyncio.to_thread(barrier.wait, 60)
            job = await client.renderer.export(session_id)
            return job.id

    try:
        return asyncio.run(run())
    except nemovideo.NemoError as exc:
        return f"{type(exc).__name__}: {exc}"


def echo(value: Any) -> Any:
    """In a child: send ``value`` back (it crossed the boundary twice)."""
    return value


def raise_it(error: BaseException) -> None:
    """In a child: raise ``error``, which the pool pickles back to the parent."""
    raise error
