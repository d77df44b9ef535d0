"""``send_message(..., before_post=)``: the batch journal's hook between the chat's own state read
and its POST (one state read a message, not two)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nemovideo.chat import send_message
from nemovideo.draft import Draft
from nemovideo.errors import ValidationError
from nemovideo.testing import Emulator, fast_client, sample_images

from .conftest import INSTRUCTION


async def test_before_post_sees_the_draft_read_before_the_post(
    emu: Emulator, tmp_path: Path
) -> None:
    seen: list[tuple[Draft, int]] = []

    async def before_post(draft: Draft) -> None:
        seen.append((draft, len(emu.requests_to("/run_sse", "POST"))))

    async with fast_client(emu, tmp_path / "cfg") as client:
        plain, hooked = await client.create_session(), await client.create_session()
        for session in (plain, hooked):
            await session.upload(sample_images()[:1])
        await plain.send(INSTRUCTION)
        reply = await send_message(hooked, INSTRUCTION, before_post=before_post)
    ((draft, posts_then),) = seen
    assert posts_then == 1, "awaited before its own POST"
    assert draft is reply.before and reply.draft.raw != draft.raw
    assert len(emu.requests_to("/run_sse", "POST")) == 2
    states = emu.requests_to("/api/state/", "GET")
    reads = [len([r for r in states if s.id in r.path]) for s in (plain, hooked)]
    assert reads[0] == reads[1] >= 1, "the hook adds no state read"


async def test_a_failing_before_post_sends_nothing(emu: Emulator, tmp_path: Path) -> None:
    async with fast_client(emu, tmp_path / "cfg") as client:
        session = await client.create_session()

        async def refuse(_draft: Draft) -> None:
            raise ValidationError("the journal could not be written")

        with pytest.raises(ValidationError, match="journal could not be written"):
            await send_message(session, INSTRUCTION, before_post=refuse)
    assert emu.requests_to("/run_sse") == []
