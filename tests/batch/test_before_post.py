"""``send_message(..., before_post=)``: the batch journal's hook between the chat's own state read
and its POST (one state read a message, not two), and how the batch runner uses it."""

from __future__ import annotations

from pathlib import Path

import pytest

from nemovideo.batch import read_journal
from nemovideo.chat import send_message
from nemovideo.draft import Draft
from nemovideo.errors import ValidationError
from nemovideo.testing import Emulator, fast_client, sample_images

from .conftest import INSTRUCTION, write_manifest


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


async def test_a_state_read_that_fails_before_the_post_journals_no_sending(
    emu: Emulator, tmp_path: Path
) -> None:
    """The chat's state read fails, so its POST never leaves and ``sending`` (made after that
    read) is never journaled: the job fails with ``unsent`` and its upload recorded, and
    ``retry_failed`` sends the message once without uploading the file again."""
    manifest = write_manifest(tmp_path, ["a"])
    journal = tmp_path / "batch.db"
    emu.faults.server_error(times=50, status=500, path="/api/state/", method="GET")
    async with fast_client(emu, tmp_path / "cfg", max_retries=0) as client:
        (result,) = [r async for r in client.batch(manifest, journal=journal)]
        assert result.status == "failed" and not emu.requests_to("/run_sse")
        _, (row,), steps = read_journal(journal)
        assert (row.phase, row.draft_before, row.render_id) == ("uploaded", None, None)
        assert len(row.uploads) == 1
        assert [s["step"] for s in steps if s["job_id"] == "a"] == [
            "session",
            "upload",
            "unsent",
            "failed",
        ]
        emu.faults.clear()
        (again,) = [r async for r in client.batch(manifest, journal=journal, retry_failed=True)]
    assert again.status == "done"
    assert len(emu.requests_to("/run_sse", "POST")) == 1
    assert len(emu.requests_to("/api/upload-video", "POST")) == 1, "the file is not sent again"
    assert list(emu.store.render_jobs) == [again.render_id]
