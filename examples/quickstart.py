"""Quickstart: open a client, start a session and read its state, against the local emulator.

Run it with ``python examples/quickstart.py``. Point it at the real API by setting ``NEMO_API_URL``
(and optionally ``NEMO_TOKEN``) instead; nothing else changes.
"""

from __future__ import annotations

import asyncio
import os
import tempfile

import nemovideo
from nemovideo.testing import Emulator


async def show(client: nemovideo.NemoClient) -> None:
    credits = await client.credits()
    session = await client.create_session(task_name="quickstart")
    state = await session.state()
    print(f"credits: {credits.available} available of {credits.total}")
    print(f"session: {session.id}")
    print(f"draft:   {state.draft.summary()}")


async def main() -> None:
    if os.environ.get("NEMO_API_URL"):
        async with nemovideo.NemoClient() as client:
            await show(client)
        return
    with tempfile.TemporaryDirectory() as config_dir:
        async with (
            Emulator() as emu,
            nemovideo.NemoClient(base_url=emu.url, config_dir=config_dir) as client,
        ):
            await show(client)


if __name__ == "__main__":
    asyncio.run(main())
