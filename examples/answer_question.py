"""Answer the agent's question: "make a video" with nothing uploaded makes it ask what to show.

Run against the bundled emulator (no account needed)::

    python examples/answer_question.py
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import nemovideo
from nemovideo.testing import Emulator


async def ask_and_answer(session: nemovideo.Session) -> nemovideo.ChatReply:
    """Send a vague request; when the agent asks, show the question and pick the first option."""
    reply = await session.send("make a video")
    if reply.question is None:
        return reply
    print(reply.question)  # the title, then each question with numbered options
    first = reply.question.questions[0]
    print(f"-> picking {first.options[0].label!r}")
    return await session.answer(reply.question, {first.id: 1})


async def main() -> None:
    async with Emulator() as emu:
        emu.chat.delay = 0.001
        with tempfile.TemporaryDirectory() as config_dir:
            config = nemovideo.ClientConfig(base_url=emu.url, config_dir=Path(config_dir))
            async with nemovideo.NemoClient(config=config) as client:
                reply = await ask_and_answer(await client.create_session())
                print(reply.text)
                print(reply.draft.summary())


if __name__ == "__main__":
    asyncio.run(main())
