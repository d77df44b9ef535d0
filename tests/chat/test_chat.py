"""ChatStream and send_message against the emulator over real loopback sockets."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

import nemovideo
from nemovideo import TextEvent, ToolCallEvent, ToolResultEvent
from nemovideo.chat import ChatStream, DraftUpdatedEvent, ErrorEvent, HeartbeatEvent, send_message
from nemovideo.errors import (
    ChatRecoveryError,
    InsufficientCreditsError,
    SessionNotFoundError,
    StreamDecodeError,
    StreamTimeoutError,
    ValidationError,
)
from nemovideo.testing import ChatControls, Emulator, fast_client

from ..conftest import add_media, media_session

MAKE_VIDEO = "turn these images into a 15-second video with smooth transitions"
CHAT = "/run_sse"


@pytest.fixture
def ctl(emulator: Emulator) -> ChatControls:
    controls = emulator.chat
    controls.delay = 0.001
    return controls


@pytest.fixture
async def session(nemo_client: nemovideo.NemoClient, emulator: Emulator) -> nemovideo.Session:
    return await media_session(nemo_client, emulator)


async def until(condition: Any, what: str) -> None:
    """Wait (bounded) for something the server does after the client stopped listening."""
    for _ in range(3000):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"never happened: {what}")


async def test_events_are_typed_and_in_order(
    session: nemovideo.Session, emulator: Emulator, ctl: ChatControls
) -> None:
    async with session.chat(MAKE_VIDEO) as stream:
        events = [event async for event in stream]
    kinds = [type(e).__name__ for e in events]
    first_call = kinds.index("ToolCallEvent")
    assert set(kinds[:first_call]) == {"TextEvent"}
    texts = [e for e in events[:first_call] if isinstance(e, TextEvent)]
    assert [t.partial for t in texts] == [True] * (len(texts) - 1) + [False]
    assert "".join(t.text for t in texts[:-1]) == texts[-1].text
    assert texts[-1].author == "nemo_agent"
    middle = kinds[first_call + 1 : kinds.index("ToolResultEvent")]
    assert middle == ["HeartbeatEvent"] * ctl.work_steps
    call = events[first_call]
    result = events[kinds.index("ToolResultEvent")]
    assert isinstance(call, ToolCallEvent) and isinstance(result, ToolResultEvent)
    assert call.name == result.name == "edit_multitrack" and call.id == result.id
    assert call.args["duration_ms"] == 15000 and call.args["transition"] == "fade"
    assert result.response["status"] == "success"
    assert isinstance(events[-1], TextEvent) and not events[-1].partial
    assert stream.events == [e for e in events if isinstance(e, (ToolCallEvent, ToolResultEvent))]
    assert "15-second video" in stream.text and "Export button" in stream.text
    assert stream.text.count("15-second") == 2  # intro + outro, deltas not duplicated
    [post] = emulator.requests_to(CHAT, "POST")
    assert post.json == {
        "app_name": "nemo_agent",
        "user_id": "me",
        "session_id": session.id,
        "new_message": {"role": "user", "parts": [{"text": MAKE_VIDEO}]},
    }
    assert post.headers["Accept"] == "text/event-stream"
    draft = (await session.state()).draft
    assert draft.summary() == "Timeline (1 track): 1. Video: 3 clips (0-15s)"
    segments = draft.tracks[0].segments
    assert [s.meta["transition"] for s in segments] == ["fade"] * 3
    assert [s.media_id for s in segments] == [f"m_{n:012x}" for n in (1, 2, 3)]


async def test_send_message_walks_a_whole_edit_session(
    session: nemovideo.Session, nemo_client: nemovideo.NemoClient, ctl: ChatControls
) -> None:
    reply = await session.send(MAKE_VIDEO)
    assert reply.draft.summary() == "Timeline (1 track): 1. Video: 3 clips (0-15s)"
    assert not reply.silent and not reply.recovered and reply.tool_calls
    assert reply.changes == ("Duration 0s -> 15s", "Added Video track 3 clips (0-15s)")
    reply = await session.send("add lo-fi BGM at 35%")
    assert reply.changes == ("Added BGM track Lo-fi (0-15s, 35%)",)
    reply = await session.send("add a title 'Urban Dreams'")
    reply = await session.send("make it 10 seconds")
    assert reply.draft.summary() == (
        "Timeline (3 tracks): 1. Video: 3 clips (0-10s) 2. BGM: Lo-fi (0-10s, 35%) "
        '3. Title: "Urban Dreams" (0-3s)'
    )
    assert "Duration 15s -> 10s" in reply.changes
    reply = await session.send("remove the music")
    assert [t.label for t in reply.draft.tracks] == ["Video", "Title"]
    assert reply.before.summary().startswith("Timeline (3 tracks)")
    credits = await nemo_client.credits()
    assert (credits.available, credits.frozen) == (50, 0)  # one edit charge per session


async def test_no_media_is_explained_not_charged(
    nemo_client: nemovideo.NemoClient, ctl: ChatControls
) -> None:
    empty = await nemo_client.create_session()
    reply = await empty.send(MAKE_VIDEO)
    assert "Upload button" in reply.text and reply.changes == ()
    assert not reply.draft.ready_for_export
    assert (await nemo_client.credits()).available == 100


async def test_silent_edit_reply_reports_the_draft_diff(
    session: nemovideo.Session, ctl: ChatControls
) -> None:
    await session.send(MAKE_VIDEO)
    ctl.silent = True
    reply = await session.send("add lo-fi BGM at 35%")
    assert reply.silent and reply.text == ""
    assert reply.changes == ("Added BGM track Lo-fi (0-15s, 35%)",)
    assert str(reply) == "Added BGM track Lo-fi (0-15s, 35%)"
    assert not any(isinstance(e, TextEvent) for e in reply.events)


async def test_dropped_stream_recovers_by_polling_and_never_resends(
    session: nemovideo.Session, emulator: Emulator, ctl: ChatControls
) -> None:
    ctl.drop_after = 2
    ctl.finish_reads = 2  # the edit lands at the second poll: recovery must keep polling
    async with session.chat(MAKE_VIDEO) as stream:
        events = [event async for event in stream]
    assert ctl.dropped == 1
    assert len(emulator.requests_to(CHAT, "POST")) == 1
    last = events[-1]
    assert isinstance(last, DraftUpdatedEvent) and last.recovered
    assert last.draft.summary() == "Timeline (1 track): 1. Video: 3 clips (0-15s)"
    assert "Added Video track 3 clips (0-15s)" in last.changes
    assert stream.recovered and stream.recovered_draft == last.draft
    assert len(emulator.requests_to("/api/state/", "GET")) == 3  # the baseline, then two polls


async def test_send_after_a_drop_returns_the_recovered_draft(
    session: nemovideo.Session, emulator: Emulator, ctl: ChatControls
) -> None:
    ctl.drop_after = 1
    reply = await send_message(session, "add lo-fi BGM at 35%")
    assert reply.recovered and "Added BGM track Lo-fi (0-10s, 35%)" in reply.changes
    assert reply.draft.summary() == "Timeline (1 track): 1. BGM: Lo-fi (0-10s, 35%)"
    assert len(emulator.requests_to(CHAT, "POST")) == 1
    assert len(emulator.session(session.id).chat_log) == 1


async def test_unrecoverable_drop_raises_and_says_not_resent(
    session: nemovideo.Session, emulator: Emulator, ctl: ChatControls
) -> None:
    emulator.faults.reset_connection(path=CHAT, method="POST")
    with pytest.raises(ChatRecoveryError, match="NOT re-sent") as caught:
        await session.send("add lo-fi BGM at 35%")
    assert not isinstance(caught.value, nemovideo.TransportError), (
        "retry-on-network must not resend"
    )
    assert len(emulator.requests_to(CHAT, "POST")) == 1
    assert len(emulator.requests_to("/api/state/", "GET")) == 1 + 5  # baseline + max polls


@pytest.mark.parametrize("style", ["event", "empty", "comment"])
async def test_heartbeats_only_hit_the_idle_timeout_with_notices(
    emulator: Emulator, tmp_path: Path, ctl: ChatControls, style: str
) -> None:
    ctl.heartbeats_only, ctl.heartbeat = True, style
    notices: list[float] = []
    async with fast_client(emulator, tmp_path, stream_idle_timeout=0.3) as client:
        session = await client.create_session()
        stream = session.chat("hello", on_waiting=notices.append)
        beats = 0
        with pytest.raises(StreamTimeoutError, match="stream_idle_timeout"):
            async for event in stream:
                assert isinstance(event, HeartbeatEvent)
                beats += 1
    assert beats > 0 and notices and notices == sorted(notices)
    await until(lambda: ctl.disconnects == 1, "server saw the client leave")


async def test_async_waiting_callback_is_awaited(
    emulator: Emulator, tmp_path: Path, ctl: ChatControls
) -> None:
    ctl.heartbeats_only = True
    notices: list[float] = []

    async def on_waiting(elapsed: float) -> None:
        notices.append(elapsed)

    async with fast_client(emulator, tmp_path, stream_idle_timeout=0.2) as client:
        session = await client.create_session()
        with pytest.raises(StreamTimeoutError):
            await session.send("hello", on_waiting=on_waiting)
    assert notices


async def test_total_timeout(emulator: Emulator, tmp_path: Path, ctl: ChatControls) -> None:
    ctl.work_steps = 100_000
    async with fast_client(emulator, tmp_path, stream_timeout=0.2) as client:
        session = await client.create_session()
        add_media(emulator, session.id)
        with pytest.raises(StreamTimeoutError, match=r"stream_timeout=0\.2s"):
            await session.send(MAKE_VIDEO)


@pytest.mark.parametrize("cap", [{"sse_max_line_bytes": 200}, {"sse_max_event_bytes": 100}])
async def test_oversized_stream_fails_with_decode_error(
    emulator: Emulator, tmp_path: Path, ctl: ChatControls, cap: dict[str, int]
) -> None:
    async with fast_client(emulator, tmp_path, **cap) as client:
        session = await client.create_session()
        with pytest.raises(StreamDecodeError):
            await session.send("tell me what you can do")
    assert len(emulator.requests_to(CHAT, "POST")) == 1


@pytest.mark.parametrize("error_style", ["body", "status"])
async def test_out_of_credits_raises_with_registration_url(
    session: nemovideo.Session, emulator: Emulator, ctl: ChatControls, error_style: str
) -> None:
    emulator.error_style = error_style
    emulator.set_credits(None, 0)
    with pytest.raises(InsufficientCreditsError) as info:
        await session.send(MAKE_VIDEO)
    assert info.value.code == 2001
    user_id = emulator.session(session.id).user_id
    assert info.value.registration_url == f"{emulator_web(session)}/register?bind={user_id}"
    assert emulator.session(session.id).chat_log == []
    assert (await session.send("hello")).text  # talking is free


def emulator_web(session: nemovideo.Session) -> str:
    return session.client.config.web_url


async def test_unknown_session_fails_before_anything_is_sent(
    nemo_client: nemovideo.NemoClient, emulator: Emulator, ctl: ChatControls
) -> None:
    with pytest.raises(SessionNotFoundError):
        await nemo_client.session("1234567890").send("hello")
    assert emulator.requests_to(CHAT) == []


async def test_session_not_found_from_run_sse(
    session: nemovideo.Session, emulator: Emulator, ctl: ChatControls
) -> None:
    emulator.faults.error(1002, path=CHAT)
    with pytest.raises(SessionNotFoundError):
        async with session.chat("hello") as stream:
            async for _ in stream:
                pass
    assert len(emulator.requests_to(CHAT, "POST")) == 1


async def test_break_closes_the_connection_and_the_edit_still_lands(
    session: nemovideo.Session, emulator: Emulator, ctl: ChatControls
) -> None:
    ctl.work_steps = 50
    async with session.chat(MAKE_VIDEO) as stream:
        async for event in stream:
            if isinstance(event, ToolCallEvent):
                break
    await until(lambda: ctl.disconnects == 1, "server saw the client leave")
    await until(
        lambda: emulator.session(session.id).state["draft"]["t"], "edit finished server-side"
    )
    with pytest.raises(RuntimeError, match="only once"):
        async for _ in stream:
            pass
    assert len(emulator.requests_to(CHAT, "POST")) == 1


async def test_aclose_mid_stream_releases_the_connection(
    session: nemovideo.Session, ctl: ChatControls
) -> None:
    ctl.work_steps = 50
    stream = session.chat(MAKE_VIDEO)
    first = await stream.__anext__()
    assert isinstance(first, TextEvent)
    await stream.aclose()
    await until(lambda: ctl.disconnects == 1, "server saw the client leave")
    with pytest.raises(StopAsyncIteration):
        await stream.__anext__()


async def test_simple_dialect_and_trailing_issue(
    session: nemovideo.Session, ctl: ChatControls
) -> None:
    ctl.dialect, ctl.trailing_issue = "simple", True
    reply = await session.send("add lo-fi BGM at 35%")
    kinds = {type(e) for e in reply.events}
    assert {TextEvent, ToolCallEvent, ToolResultEvent, HeartbeatEvent} <= kinds
    assert "temporary issue" in reply.events[-1].text  # type: ignore[union-attr]
    assert "temporary issue" not in reply.text and reply.text.startswith("Adding lo-fi")


@pytest.mark.parametrize("unescaped", [False, True])
async def test_in_stream_error_fails_the_send_with_the_partial_reply(
    session: nemovideo.Session, ctl: ChatControls, unescaped: bool
) -> None:
    ctl.stream_error, ctl.unescaped_error = 'model "overloaded"', unescaped
    with pytest.raises(nemovideo.AgentError) as caught:
        await session.send("add lo-fi BGM at 35%")
    reply = caught.value.reply
    assert isinstance(reply, nemovideo.ChatReply)
    [error] = reply.errors
    assert isinstance(error, ErrorEvent) and error.fatal
    assert error.message == caught.value.message == 'model "overloaded"'
    assert reply.changes == ()


def test_transcript_a_turns_final_text_replaces_its_deltas() -> None:
    from nemovideo.chat._text import Transcript

    t = Transcript()
    for text, partial in [("Looking ", True), ("around", True), ("I'll add ", True),
                          ("music.", True), ("I'll add music.", False), ("Half", True)]:  # fmt: skip
        t.add(TextEvent(text, partial=partial))
    assert t.text == "Looking around\nI'll add music.\nHalf", (
        "the final replaces the deltas it repeats; earlier unrepeated ones and a cut delta stay"
    )
    t2 = Transcript()
    for text, partial in [("One. ", True), ("Two.", True), ("One.", False), ("Two.", False)]:
        t2.add(TextEvent(text, partial=partial))
    assert t2.text == "One.\nTwo.", "a final event's parts each consume their own deltas"


def test_answer_text_validates_before_sending() -> None:
    from nemovideo.chat._question import answer_text, question_of

    q = question_of({"title": "T", "questions": [
        {"id": "a", "prompt": "Pick", "options": [{"id": "x", "label": "Ex"}, "Why"]},
        {"id": "b", "prompt": "Many", "options": ["P", "Q"], "allow_multiple": True}]})  # fmt: skip
    assert answer_text(q, {"a": "x", "b": ["P", 2]}) == "1. Pick: Ex\n2. Many: P, Q"
    assert answer_text(q, {1: "why"}) == "1. Pick: Why"
    assert answer_text(q) == answer_text(q, {}) == "Skipped"
    for bad in ({"a": "z"}, {"c": "x"}, {"a": ["x", "Why"]}, {"a": 3}, "x"):
        with pytest.raises(ValidationError):
            answer_text(q, bad)
    assert "1) Ex" in str(q) and "(pick any)" in str(q)


async def test_empty_message_is_refused_before_sending(
    session: nemovideo.Session, emulator: Emulator
) -> None:
    with pytest.raises(ValidationError):
        ChatStream(session, "   ")
    assert emulator.requests_to(CHAT) == []


TWO_STAGE = (
    "make a 10 second video from my photos with lo-fi music at 35% and the title 'Urban Dreams'"
)


async def test_two_stage_generation_is_waited_for(
    session: nemovideo.Session, ctl: ChatControls, emulator: Emulator
) -> None:
    ctl.two_stage = True
    reply = await send_message(session, TWO_STAGE)
    assert reply.pending == ()
    assert reply.draft.summary() == (
        "Timeline (3 tracks): 1. Video: 3 clips (0-10s) 2. BGM: Lo-fi (0-10s, 35%) "
        '3. Title: "Urban Dreams" (0-3s)'
    )
    assert any("BGM" in line for line in reply.changes)
    assert any("Urban Dreams" in line for line in reply.changes)
    calls = [e for e in reply.tool_calls if e.args.get("action") == "stage_two"]
    assert len(calls) == 1 and calls[0].id is not None
    assert len(emulator.requests_to(CHAT, "POST")) == 1


async def test_stream_reports_the_unanswered_call(
    session: nemovideo.Session, ctl: ChatControls
) -> None:
    ctl.two_stage = True
    async with session.chat(TWO_STAGE) as staged:
        async for _ in staged:
            pass
    [pending] = staged.pending_tools
    assert pending.args["action"] == "stage_two"
    assert [s["action"] for s in pending.args["steps"]] == ["add_bgm", "add_title"]
    async with session.chat("make it 8 seconds") as edit:
        async for _ in edit:
            pass
    assert edit.pending_tools == (), "every call of an ordinary edit is answered in the stream"


async def test_second_stage_that_never_lands_is_reported_not_resent(
    session: nemovideo.Session, ctl: ChatControls, emulator: Emulator
) -> None:
    ctl.two_stage = True
    ctl.stage_two_delay = 30.0
    notices: list[float] = []
    reply = await send_message(session, TWO_STAGE, on_waiting=notices.append)
    [pending] = reply.pending
    assert pending.args["action"] == "stage_two"
    assert reply.draft.summary() == "Timeline (1 track): 1. Video: 3 clips (0-10s)"
    assert len(emulator.requests_to(CHAT, "POST")) == 1
    assert notices, "the wait for the second stage is announced like a stream's silence"
    state_reads = emulator.requests_to(f"/api/state/nemo_agent/me/{session.id}/latest", "GET")
    assert len(state_reads) == 2 + 5, "before, after, then the five recovery checks"


async def test_calls_without_ids_pair_by_name_in_the_simple_dialect(
    session: nemovideo.Session, ctl: ChatControls
) -> None:
    ctl.dialect = "simple"
    ctl.two_stage = True
    async with session.chat(TWO_STAGE) as stream:
        async for _ in stream:
            pass
    calls = [e for e in stream.events if isinstance(e, ToolCallEvent)]
    assert len(calls) == 2 and all(c.id is None for c in calls)
    [pending] = stream.pending_tools
    assert pending is calls[1]


async def test_concurrent_sends_on_one_session_each_describe_their_own_edit(
    session: nemovideo.Session, nemo_client: nemovideo.NemoClient, emulator: Emulator
) -> None:
    await session.send(MAKE_VIDEO)
    again = nemo_client.session(session.id)
    music, title = await asyncio.gather(
        session.send("add lo-fi BGM at 35%"), again.send("add a title 'Hello'")
    )
    assert music.changes == ("Added BGM track Lo-fi (0-15s, 35%)",)
    assert title.changes[-1] == 'Added Title track "Hello" (0-3s)'
    assert not [line for line in title.changes if "BGM" in line]
    assert len(emulator.requests_to(CHAT, "POST")) == 3


async def test_reprs_stay_short(session: nemovideo.Session) -> None:
    stream = session.chat(MAKE_VIDEO)
    assert repr(stream) == f"<ChatStream session={session.id!r} new>"
    async with stream:
        seen = [event async for event in stream]
    assert repr(stream) == f"<ChatStream session={session.id!r} {len(seen)} events read>"
    reply = await session.send("add lo-fi BGM at 35%")
    assert len(reply.events) > 3 and len(repr(reply)) < 600
    assert "HeartbeatEvent" not in repr(reply)


async def test_a_long_answer_keeps_what_the_reply_needs_not_every_event(
    session: nemovideo.Session, ctl: ChatControls
) -> None:
    from nemovideo.chat import WHOLE_EVENTS

    ctl.delay, ctl.work_steps = 0.0, WHOLE_EVENTS + 500
    reply = await session.send(MAKE_VIDEO)
    assert len(reply.events) <= WHOLE_EVENTS, "past the first 1,000 events only needs are kept"
    assert isinstance(reply.events[0], TextEvent), "a short answer's worth is kept whole"
    [call] = reply.tool_calls
    assert call.name == "edit_multitrack" and call.raw is not None
    assert reply.pending == (), "the result past the budget still paired the call"
    assert "15-second video" in reply.text and "Export button" in reply.text
    assert reply.changes == ("Duration 0s -> 15s", "Added Video track 3 clips (0-15s)")

    everything = await send_message(session, "add lo-fi BGM at 35%", keep_events="all")
    beats = [e for e in everything.events if isinstance(e, HeartbeatEvent)]
    assert len(beats) == WHOLE_EVENTS + 500
    assert [type(e) for e in everything.events].count(ToolResultEvent) == 1
    assert everything.changes == ("Added BGM track Lo-fi (0-15s, 35%)",)


async def test_keep_events_false_and_a_long_stream(
    session: nemovideo.Session, ctl: ChatControls
) -> None:
    from nemovideo.chat import WHOLE_EVENTS

    ctl.delay, ctl.work_steps = 0.0, WHOLE_EVENTS + 10
    quiet = await send_message(session, MAKE_VIDEO, keep_events=False)
    assert {type(e) for e in quiet.events} == {ToolCallEvent}, quiet.events
    assert quiet.text and quiet.pending == ()
    async with session.chat("add lo-fi BGM at 35%") as stream:
        seen = [event async for event in stream]
    beats = sum(isinstance(e, HeartbeatEvent) for e in seen)
    assert beats == WHOLE_EVENTS + 10, "every event is yielded, whatever is kept"
    assert [type(e) for e in stream.events] == [ToolCallEvent]
    assert stream.pending_tools == () and "Lo-fi" in stream.text


async def test_keep_events_names_and_the_spellings_before_them(
    nemo_client: nemovideo.NemoClient, emulator: Emulator, ctl: ChatControls
) -> None:
    """``"reply"``, ``"first"`` and ``"all"`` keep what ``False``, ``None`` and ``True`` kept;
    any other value is refused before the message is sent."""
    ctl.delay, ctl.work_steps = 0.0, 20
    emulator.set_credits(None, 10_000)
    kept: dict[object, list[str]] = {}
    for value in ("reply", False, "first", None, "all", True):
        fresh = await nemo_client.create_session()
        add_media(emulator, fresh.id)
        reply = await fresh.send(MAKE_VIDEO, keep_events=value)
        kept[value] = [type(e).__name__ for e in reply.events]
    assert kept["reply"] == kept[False] and kept["first"] == kept[None]
    assert kept["all"] == kept[True]
    assert "HeartbeatEvent" not in kept["reply"] and kept["reply"].count("ToolCallEvent") == 1
    assert kept["first"].count("HeartbeatEvent") == 20 and "TextEvent" in kept["first"]
    posts = len(emulator.requests_to(CHAT, "POST"))
    for bad in ("everything", "ALL", 1, 0, [True]):
        with pytest.raises(nemovideo.ValidationError, match="keep_events must be one of"):
            nemo_client.session(fresh.id).chat(MAKE_VIDEO, keep_events=bad)  # type: ignore[arg-type]
        with pytest.raises(nemovideo.ValidationError, match="keep_events must be one of"):
            await fresh.send(MAKE_VIDEO, keep_events=bad)  # type: ignore[arg-type]
    assert len(emulator.requests_to(CHAT, "POST")) == posts, "nothing sent"


async def test_a_call_past_the_budget_is_kept_without_its_frame(
    session: nemovideo.Session, ctl: ChatControls
) -> None:
    from nemovideo.chat import WHOLE_EVENTS

    ctl.delay, ctl.work_steps = 0.0, WHOLE_EVENTS + 10
    ctl.two_stage = True
    reply = await session.send(TWO_STAGE)
    first, *later = reply.tool_calls
    assert first.raw is not None
    assert [c.args["action"] for c in later] == ["stage_two"]
    assert all(c.raw is None for c in later), "kept compactly: no frame past the budget"
    assert reply.pending == () and any("Urban Dreams" in line for line in reply.changes)


async def test_on_text_shows_the_answer_as_it_is_written(
    session: nemovideo.Session, emulator: Emulator
) -> None:
    """Deltas go out as they arrive; a final event that repeats them is not shown again."""
    pieces: list[str] = []
    reply = await session.send("turn these images into a 10-second video", on_text=pieces.append)
    assert len(pieces) > 1, "streamed, not handed over whole at the end"
    assert "".join(pieces).replace(" ", "") == "".join(reply.text.split()), "each piece once"
    assert len(emulator.requests_to("/run_sse", "POST")) == 1


async def test_send_timeout_bounds_the_whole_call_and_never_resends(
    session: nemovideo.Session, emulator: Emulator
) -> None:
    emulator.chat.hold()
    try:
        with pytest.raises(nemovideo.StreamTimeoutError, match="NOT re-sent"):
            await session.send("turn these images into a 10-second video", timeout=0.3)
    finally:
        emulator.chat.release()
    assert len(emulator.requests_to("/run_sse", "POST")) == 1
    with pytest.raises(nemovideo.ValidationError):
        await session.send("   ")
