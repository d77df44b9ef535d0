"""The same cases against the emulator's own agent (no ADK needed): each form is selectable from
``emu.chat``, and each send is exactly one POST to /run_sse."""

from __future__ import annotations

from typing import Any

import pytest

import nemovideo
from nemovideo.chat import ErrorEvent, QuestionEvent, ToolCallEvent
from nemovideo.testing import Emulator
from nemovideo.testing.drafts import bgm_track
from tests.chat.test_chat import MAKE_VIDEO

from ..conftest import media_session

MULTILINE = 'Render "draft-7" failed:\nthe encoder said "no"\n\nretry later'


def posts(emu: Emulator) -> int:
    return len(emu.requests_to("/run_sse", "POST"))


@pytest.fixture
def fast(emulator: Emulator) -> Emulator:
    emulator.chat.delay = 0.001
    return emulator


@pytest.fixture
async def session(nemo_client: nemovideo.NemoClient, fast: Emulator) -> nemovideo.Session:
    return await media_session(nemo_client, fast)


@pytest.mark.parametrize("text_with_call", [False, True])
async def test_progressive_calls_are_one_call_each(
    session: nemovideo.Session, fast: Emulator, text_with_call: bool
) -> None:
    fast.chat.progressive, fast.chat.text_with_call = True, text_with_call
    reply = await session.send(MAKE_VIDEO + " with lo-fi music")
    wire_calls = sum(
        "functionCall" in str(p) for e in reply.events if isinstance(e, ToolCallEvent)
        for p in e.raw["content"]["parts"]
    )  # fmt: skip
    assert [c.name for c in reply.tool_calls] == ["edit_multitrack", "edit_multitrack"]
    assert all(not c.partial for c in reply.tool_calls) and wire_calls >= 2
    assert reply.pending == () and reply.text.count("I'll turn your") == 1
    assert posts(fast) == 1


@pytest.mark.parametrize(
    ("message", "unescaped", "details"),
    [
        ('model "overloaded"', False, None),
        ('model "overloaded"', True, None),
        (MULTILINE, False, {"error_type": "ValueError", "error_message": MULTILINE}),
        (MULTILINE, True, None),
        (MULTILINE, False, None),
    ],
    ids=["escaped", "unescaped", "escaped-multiline-details", "unescaped-multiline", "ml"],
)
async def test_error_frame_raises_agent_error(
    session: nemovideo.Session, fast: Emulator, message: str, unescaped: bool, details: Any
) -> None:
    fast.chat.stream_error, fast.chat.unescaped_error = message, unescaped
    fast.chat.error_details = details
    with pytest.raises(nemovideo.AgentError) as caught:
        await session.send("add lo-fi BGM at 35%")
    assert caught.value.message == message
    reply = caught.value.reply
    assert isinstance(reply, nemovideo.ChatReply)
    assert reply.text.startswith("Adding lo-fi"), "the partial reply is kept"
    assert isinstance(reply.events[-1], ErrorEvent) and reply.events[-1].fatal
    assert reply.changes == ()
    assert posts(fast) == 1


async def test_chat_stream_yields_error_event_in_order_then_raises(
    session: nemovideo.Session, fast: Emulator
) -> None:
    fast.chat.stream_error, fast.chat.unescaped_error = MULTILINE, True
    seen: list[Any] = []
    with pytest.raises(nemovideo.AgentError, match="retry later"):
        async for event in session.chat("add lo-fi BGM at 35%"):
            seen.append(event)
    assert isinstance(seen[-1], ErrorEvent) and seen[-1].message == MULTILINE
    assert posts(fast) == 1


async def test_refusal_does_not_raise(session: nemovideo.Session, fast: Emulator) -> None:
    fast.chat.refusal = "Blocked by policy"
    reply = await session.send("add lo-fi BGM at 35%")
    assert reply.refusal is not None and reply.errors == (reply.refusal,)
    assert str(reply) == "The request was refused: Blocked by policy"
    assert posts(fast) == 1


async def test_make_a_video_with_nothing_uploaded_asks(
    nemo_client: nemovideo.NemoClient, fast: Emulator
) -> None:
    session = await nemo_client.create_session()
    reads = len(fast.requests_to("/api/state/", "GET"))
    reply = await session.send("make a video")
    question = reply.question
    assert isinstance(question, QuestionEvent) and question.questions[0].id == "source"
    assert len(fast.requests_to("/api/state/", "GET")) - reads == 2, "no follow-up polling"
    assert reply.changes == () and reply.pending == ()
    with pytest.raises(nemovideo.ValidationError, match="Waves on a beach"):
        await session.answer(question, "mountains")
    reply = await session.answer(question, "Waves on a beach")
    assert fast.requests_to("/run_sse")[-1].json["new_message"]["parts"][0]["text"] == (
        "1. What should the video show?: Waves on a beach"
    )
    assert [c.name for c in reply.tool_calls] == ["generate_video_with_seedance"]
    assert reply.question is None and reply.changes
    assert posts(fast) == 2


async def test_change_the_music_with_two_tracks_asks_which(
    session: nemovideo.Session, fast: Emulator
) -> None:
    await session.send(MAKE_VIDEO)
    state = fast.session(session.id).state
    state["draft"]["t"] += [bgm_track("Jazz", 0.4, 15000), bgm_track("Piano", 0.3, 15000)]
    reply = await session.send("change the music")
    question = reply.question
    assert question is not None and [q.id for q in question.questions] == ["track", "style"]
    assert question.questions[0].allow_multiple
    reply = await session.answer(question, {"track": [1], "style": "upbeat"})
    assert any("Upbeat" in line for line in reply.changes), reply.changes
    skipped = await session.send("change the music")
    assert skipped.question is not None
    await session.answer(skipped.question)
    assert fast.requests_to("/run_sse")[-1].json["new_message"]["parts"][0]["text"] == "Skipped"
    assert posts(fast) == 5


async def test_forced_question_in_either_dialect(
    session: nemovideo.Session, fast: Emulator
) -> None:
    for dialect in ("adk", "simple"):
        fast.chat.dialect = dialect
        fast.chat.question = {"title": "Sure?", "questions": [
            {"id": "ok", "prompt": "Go ahead?", "options": ["Yes", "No"]}]}  # fmt: skip
        reply = await session.send("add lo-fi BGM at 35%")
        assert reply.question is not None, dialect
        assert [o.label for o in reply.question.questions[0].options] == ["Yes", "No"]
        assert reply.changes == ()


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("404", nemovideo.SessionNotFoundError),
        ("422", nemovideo.APIError),
        ("500", nemovideo.ServerError),
        ("html", nemovideo.APIError),
    ],
)
async def test_pre_stream_failures_are_typed_and_sent_once(
    session: nemovideo.Session, fast: Emulator, kind: str, error: type[Exception]
) -> None:
    fast.chat.prestream = kind
    with pytest.raises(error) as caught:
        await session.send("add lo-fi BGM at 35%")
    message = str(caught.value)
    assert not message.lstrip().startswith(("{", "[")), message
    if kind == "422":
        assert "Field required" in message
    if kind == "html":
        assert "text/html" in message and not isinstance(caught.value, nemovideo.AgentError)
    assert posts(fast) == 1
    assert fast.chat.streams == 0
