"""What the SDK must make of each agent's answer: shared by the live tests and the capture replays.

Each check takes what ``session.send()`` returned (or raised) and the ADK major version.
"""

from __future__ import annotations

import pytest

import nemovideo
from nemovideo.chat import ChatReply, ErrorEvent, QuestionEvent, ToolCallEvent, ToolResultEvent

EDIT_TEXT = "I'll add lo-fi music at 35% volume.\nLo-fi BGM added at 35%. Open the audio panel to fine-tune it."
RAISED = 'Render "draft-7" failed:\nthe encoder said "no"\n\nretry later'


def paired(reply: ChatReply) -> None:
    """Every call is answered by a result with its id, and nothing is left pending."""
    results = {e.id for e in reply.events if isinstance(e, ToolResultEvent)}
    assert all(call.id in results for call in reply.tool_calls), reply.tool_calls
    assert reply.pending == ()


def one_call(reply: ChatReply, name: str) -> ToolCallEvent:
    calls = [e for e in reply.events if isinstance(e, ToolCallEvent)]
    assert [c.name for c in calls] == [name], calls
    assert reply.tool_calls == tuple(calls)
    assert calls[0].partial is False
    return calls[0]


def edit(reply: ChatReply, major: str, streaming: bool) -> None:
    """The scripted LlmAgent: one edit_multitrack call (ADK 1.20 with streaming runs the partial
    call too: two real executions, each reported once), text never doubled."""
    assert reply.text == EDIT_TEXT
    if streaming and major == "1":
        first, second = reply.tool_calls
        assert (first.partial, second.partial) == (True, False)
        assert first.id != second.id
    else:
        call = one_call(reply, "edit_multitrack")
        assert call.args == {"action": "add_bgm", "style": "Lo-fi", "volume": 0.35}
    paired(reply)
    assert reply.errors == () and reply.question is None


def custom(reply: ChatReply) -> None:
    """Partial text no final event repeats is kept; the repeated one is not doubled."""
    assert reply.text == "Looking at your timeline\nI'll add lo-fi music.\nDone: lo-fi BGM at 35%."
    assert one_call(reply, "edit_multitrack").id == "call-custom-1"
    paired(reply)


def raised(exc: nemovideo.AgentError, major: str, streaming: bool) -> None:
    """A tool raised: AgentError with the whole message (quotes, newlines, blank line) and the
    partial reply ("Exporting" is not a success)."""
    assert isinstance(exc, nemovideo.AgentError)
    expected = RAISED if major == "1" else f"ValueError: {RAISED}"
    assert exc.message == expected
    reply = exc.reply
    assert isinstance(reply, ChatReply)
    assert reply.text == "Exporting"
    assert [c.name for c in reply.tool_calls] == ["explode"]
    fatal = [e for e in reply.errors if e.fatal]
    assert [e.message for e in fatal] == [expected]
    assert reply.events[-1] is fatal[0], "the terminal frame is the last event"
    assert reply.refusal is None


def refused(reply: ChatReply) -> None:
    [error] = reply.errors
    assert isinstance(error, ErrorEvent) and not error.fatal and error.code == "SAFETY"
    assert reply.refusal is error
    assert str(reply) == 'The request was refused: Blocked: the request "broke" the content policy.'


def asked(reply: ChatReply) -> QuestionEvent:
    question = reply.question
    assert isinstance(question, QuestionEvent)
    assert question.title == "Which video should I make?"
    assert [q.id for q in question.questions] == ["style", "extras"]
    style, extras = question.questions
    assert [(o.id, o.label) for o in style.options] == [("lofi", "Lo-fi"), ("epic", "Epic")]
    assert (style.allow_multiple, extras.allow_multiple) == (False, True)
    [call] = reply.tool_calls
    assert call.name == "ask_question" and question.call_id == call.id
    assert reply.pending == (), "a question is not work left running"
    assert reply.text == "I need to know a bit more."
    assert "1) Lo-fi" in str(reply)
    return question


def artifact(reply: ChatReply) -> None:
    """An artifact save is two frames under one event id: neither is dropped, one call."""
    assert reply.text == "Saving the draft.\nSaved draft.json."
    one_call(reply, "save_draft")
    paired(reply)


def broken(exc: BaseException, major: str) -> None:
    """An agent that fails to load: 500 text/plain in 2.x, 200 and an error frame in 1.x."""
    if major == "1":
        assert isinstance(exc, nemovideo.AgentError)
        assert "broken_agent cannot load: missing API key" in exc.message
    else:
        assert isinstance(exc, nemovideo.ServerError) and exc.http_status == 500
        assert not isinstance(exc, nemovideo.AgentError)


def raises(coro_result: object) -> None:
    pytest.fail(f"expected an error, got {coro_result!r}")
