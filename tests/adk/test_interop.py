"""The SDK against a real ``adk api_server`` (2.x and 1.20), through the emulator's forwarder.

Auth, sessions and state are the emulator's; the chat stream is ADK's own bytes. Every test also
checks that one send is exactly one POST to /run_sse (and one forwarded to ADK).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

import nemovideo
from nemovideo.chat import ChatReply, ErrorEvent, QuestionEvent, TextEvent, ToolCallEvent
from nemovideo.testing import fast_client

from . import _expect as expect
from ._peer import Peer


@pytest.mark.parametrize("streaming", [True, False], ids=["stream", "nostream"])
async def test_one_call_once_and_text_once(peer: Peer, streaming: bool) -> None:
    peer.use("scripted_llm", streaming=streaming)
    reply = await peer.session.send("add lo-fi music at 35%")
    peer.record(f"scripted_llm.{'stream' if streaming else 'nostream'}")
    expect.edit(reply, peer.major, streaming)
    assert peer.posts() == 1


#: One message to an agent, and the check of its reply (each in ``_expect``): agent app, whether
#: ADK streams (None: the app's default), the message.
REPLIES = {
    "unrepeated partial text is kept": ("custom_stream", False, "add music", expect.custom),
    "a refusal is a reply, not an error": ("refuses", None, "do something bad", expect.refused),
    "an artifact event sent twice under one id": (
        "artifact_save",
        None,
        "save the draft",
        expect.artifact,
    ),
}


@pytest.mark.parametrize(("app", "streaming", "message", "check"), REPLIES.values(), ids=REPLIES)
async def test_one_message_one_reply(
    peer: Peer,
    app: str,
    streaming: bool | None,
    message: str,
    check: Callable[[ChatReply], None],
) -> None:
    peer.use(app, streaming=streaming)
    reply = await peer.session.send(message)
    peer.record(app)
    check(reply)
    assert peer.posts() == 1


async def test_stream_yields_each_call_once_in_order(peer: Peer) -> None:
    peer.use("scripted_llm", streaming=True)
    seen: list[str] = []
    async with peer.session.chat("add music") as stream:
        async for event in stream:
            if isinstance(event, ToolCallEvent):
                seen.append(f"call {event.name} partial={event.partial}")
            elif isinstance(event, TextEvent) and not event.partial:
                seen.append("text")
    calls = 2 if peer.major == "1" else 1  # 1.20 executes the partial call as well
    assert [s for s in seen if s.startswith("call")][-1] == "call edit_multitrack partial=False"
    assert sum(s.startswith("call") for s in seen) == calls
    assert stream.pending_tools == ()
    assert peer.posts() == 1


async def test_tool_failure_raises_agent_error_with_partial_reply(peer: Peer) -> None:
    peer.use("tool_raises", streaming=True)
    with pytest.raises(nemovideo.AgentError) as caught:
        await peer.session.send("export it")
    peer.record("tool_raises.stream")
    expect.raised(caught.value, peer.major, True)
    assert peer.posts() == 1


async def test_chat_stream_yields_the_error_then_raises(peer: Peer) -> None:
    peer.use("tool_raises", streaming=False)
    events: list[Any] = []
    with pytest.raises(nemovideo.AgentError) as caught:
        async with peer.session.chat("export it") as stream:
            async for event in stream:
                events.append(event)
    assert isinstance(events[-1], ErrorEvent) and events[-1].fatal
    assert caught.value.message == events[-1].message and caught.value.reply is None
    assert expect.RAISED in caught.value.message
    assert stream.error is events[-1]
    assert peer.posts() == 1


async def test_question_then_answer(peer: Peer) -> None:
    peer.use("asks")
    reads = peer.state_reads()
    reply = await peer.session.send("make a video")
    peer.record("asks")
    question = expect.asked(reply)
    assert peer.state_reads() - reads == 2, "state read before and after: no follow-up polling"
    with pytest.raises(nemovideo.ValidationError, match="Lo-fi"):
        await peer.session.answer(question, {"style": "jazz"})
    assert peer.posts() == 1, "a bad choice is refused before anything is sent"
    reply = await peer.session.answer(question, {"style": "epic", "extras": [1, "Music"]})
    sent = peer.emu.requests_to("/run_sse", "POST")[-1].json["new_message"]["parts"][0]["text"]
    assert sent == "1. Pick a style: Epic\n2. Add extras: A title, Music"
    assert reply.text == "Thanks, making it now." and reply.question is None
    assert peer.posts() == 2


async def test_long_silent_tool_call_is_waited_for_with_notices(peer: Peer) -> None:
    peer.use("slow_tool")
    notices: list[float] = []
    reply = await peer.session.send("render slowly", on_waiting=notices.append)
    assert reply.text == "The slow render finished." and notices, "the silence was announced"
    assert peer.posts() == 1


async def test_silence_past_the_idle_limit_times_out_without_resending(
    peer: Peer, emulator: Any, tmp_path: Any
) -> None:
    peer.use("slow_tool")
    async with fast_client(emulator, tmp_path / "config", stream_idle_timeout=0.05) as client:
        session = client.session(peer.session.id)
        with pytest.raises(nemovideo.StreamTimeoutError):
            await session.send("render slowly")
    for _ in range(500):  # the client may give up before the emulator has forwarded the POST
        if emulator.chat.upstream_posts:
            break
        await asyncio.sleep(0.01)
    assert peer.posts() == 1


async def test_agent_that_fails_to_load(peer: Peer) -> None:
    peer.use("broken_agent")
    with pytest.raises(nemovideo.NemoError) as caught:
        await peer.session.send("hello")
    peer.record("broken_agent")
    expect.broken(caught.value, peer.major)
    assert peer.posts() == 1


async def test_unknown_adk_session_is_session_not_found(peer: Peer) -> None:
    peer.use("scripted_llm", body=lambda b: {**b, "session_id": "never-created"})
    with pytest.raises(nemovideo.SessionNotFoundError) as caught:
        await peer.session.send("hello")
    peer.record("session_not_found")
    assert caught.value.http_status == 404 and "Session not found" in caught.value.message
    assert peer.posts() == 1


async def test_validation_failure_reads_as_sentences(peer: Peer) -> None:
    peer.use("scripted_llm", body=lambda b: {k: v for k, v in b.items() if k != "user_id"})
    with pytest.raises(nemovideo.APIError) as caught:
        await peer.session.send("hello")
    peer.record("validation_422")
    message = caught.value.message
    assert caught.value.http_status == 422 and "Field required" in message
    assert not message.lstrip().startswith(("{", "[")), message
    assert peer.posts() == 1


def test_question_event_is_exported() -> None:
    assert nemovideo.chat.QuestionEvent is QuestionEvent
