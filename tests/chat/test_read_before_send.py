"""The draft is read before a message is sent; when that read fails, nothing was sent.

A chat message is never re-sent, so a stream that drops after its POST is completed by polling
state. A failure of the read that comes *before* the POST is another thing: the message never
left, so it must raise that read's error as it is, not be taken for a dropped stream (whose
recovery would poll for an answer to a message the server never got, then say it "may have been
received").
"""

from __future__ import annotations

from pathlib import Path

import pytest

import nemovideo
from nemovideo.testing import Emulator, fast_client

STATE = "/api/state/"
CHAT = "/run_sse"


async def test_a_failed_read_before_the_post_raises_it_and_sends_nothing(
    emulator: Emulator, tmp_path: Path
) -> None:
    async with fast_client(emulator, tmp_path, max_retries=1) as client:
        session = await client.create_session()
        emulator.faults.reset_connection(times=20, path=STATE, method="GET")
        with pytest.raises(nemovideo.TransportError) as caught:
            await session.send("make a 5-second video")
    assert not isinstance(caught.value, nemovideo.ChatRecoveryError)
    assert "re-sent" not in str(caught.value), "nothing was sent, so nothing to not re-send"
    assert emulator.requests_to(CHAT, "POST") == [], "the message never left"
    emulator.faults.clear()
    reply = await _send_again(emulator, tmp_path, session.id)
    assert len(emulator.requests_to(CHAT, "POST")) == 1 and reply.text


async def test_a_failed_read_before_the_post_is_raised_by_chat_too(
    emulator: Emulator, tmp_path: Path
) -> None:
    async with fast_client(emulator, tmp_path, max_retries=0) as client:
        session = await client.create_session()
        emulator.faults.server_error(times=5, status=503, path=STATE, method="GET")
        with pytest.raises(nemovideo.ServerError):
            async with session.chat("make a 5-second video") as stream:
                async for _ in stream:
                    pass
    assert emulator.requests_to(CHAT, "POST") == []


async def _send_again(emulator: Emulator, tmp_path: Path, session_id: str) -> nemovideo.ChatReply:
    async with fast_client(emulator, tmp_path) as client:
        return await client.session(session_id).send("make a 5-second video")


async def test_the_read_before_the_post_is_the_sessions_state(
    emulator: Emulator, tmp_path: Path
) -> None:
    """The chat reads the state itself (not through ``session.state()``): its draft is the
    state's draft, and a session reattached by id learns its task id from it, as from state()."""
    async with fast_client(emulator, tmp_path) as client:
        created = await client.create_session()
        await created.send("make a 5-second video")
        session = client.session(created.id)
        assert session.task_id is None
        state = await client.session(created.id).state()
        async with session.chat("add lo-fi BGM at 35%") as stream:
            async for _ in stream:
                pass
        assert session.task_id == created.task_id == state.task_id
        assert stream.draft_before is not None
        assert stream.draft_before.to_json() == state.draft.to_json()
        assert len(emulator.requests_to(STATE, "GET")) >= 2
