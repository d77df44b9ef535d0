"""``/run_sse`` against PROTOCOL "Chat stream": ADK's refusals, wire details and credits (raw wire)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from nemovideo.testing import Emulator, sample_images

from ._wire import Wire, events, parts


@pytest.fixture
async def wire(emulator: Emulator) -> AsyncIterator[Wire]:
    emulator.chat.delay = 0.001
    async with aiohttp.ClientSession() as http:
        yield await Wire(http, emulator).login()


def with_images(wire: Wire, emulator: Emulator) -> None:
    infos = [{"filename": p.name, "file_type": "image", "cdn_url": f"http://cdn.test/{p.name}"}
             for p in sample_images()]  # fmt: skip
    emulator.session(wire.sid).state["video_infos"] = infos


def user(wire: Wire, emulator: Emulator) -> Any:
    return emulator.store.users[wire.user_id]


async def test_pre_stream_refusals_are_plain_http_errors_with_detail(
    wire: Wire, emulator: Emulator
) -> None:
    for field in ("app_name", "user_id", "session_id", "new_message"):
        body = wire.chat_body("hello")
        del body[field]
        status, answer, _ = await wire.call("POST", "/run_sse", json=body)
        assert status == 422 and field in answer["detail"], field
    for wrong in ({"app_name": "other_agent"}, {"user_id": "you"}):
        status, answer, _ = await wire.call("POST", "/run_sse", json=wire.chat_body("hi", **wrong))
        assert (status, answer) == (404, {"detail": "Session not found"}), wrong
    status, answer, _ = await wire.call("POST", "/run_sse", json=wire.chat_body("   "))
    assert status == 422 and isinstance(answer["detail"], str)
    camel = {"appName": "nemo_agent", "userId": "me", "sessionId": wire.sid,
             "newMessage": {"parts": [{"text": "hello"}]}}  # fmt: skip
    status, _, _ = await wire.call("POST", "/run_sse", json=camel)
    assert status == 200, "ADK's request model also takes the camelCase names"
    assert emulator.chat.streams == 1


@pytest.mark.parametrize("style", ["envelope", "detail"])
async def test_unknown_session_in_either_documented_form(
    wire: Wire, emulator: Emulator, style: str
) -> None:
    emulator.chat.unknown_session = style
    emulator.error_style = "status"
    other = await Wire(wire.http, emulator).login()
    for sid in ("1234567890123456789", other.sid):
        status, answer, _ = await wire.call(
            "POST", "/run_sse", json=wire.chat_body("hello", session_id=sid)
        )
        if style == "detail":
            assert (status, answer) == (404, {"detail": "Session not found"})
        else:
            assert (status, answer["code"]) == (404, 1002)
    assert emulator.chat.streams == 0


async def test_adk_wire_details(wire: Wire, emulator: Emulator) -> None:
    with_images(wire, emulator)
    found = events(await wire.frames("turn these images into a 6-second video"))
    assert all(e["invocationId"] == found[0]["invocationId"] for e in found)
    assert found[0]["invocationId"].startswith("e-") and len(found[0]["invocationId"]) == 38
    assert all(set(e["actions"]) >= {"stateDelta", "artifactDelta"} for e in found)
    assert all(isinstance(e["timestamp"], float) for e in found)
    assert all(e.get("partial", True) is True for e in found), "partial is absent, never false"
    assert [i for i, e in enumerate(found) if "turnComplete" in e] == [len(found) - 1]
    call = next(e for e in found if "functionCall" in parts(e)[0])
    assert call["content"]["role"] == "model"
    assert call["longRunningToolIds"] == [parts(call)[0]["functionCall"]["id"]]
    answer = next(e for e in found if "functionResponse" in parts(e)[0])
    assert (answer["content"]["role"], answer["author"]) == ("user", "nemo_agent")
    assert answer["actions"]["stateDelta"] == {"draft_updated": True}


async def test_one_event_can_hold_text_and_a_function_call(wire: Wire, emulator: Emulator) -> None:
    with_images(wire, emulator)
    emulator.chat.text_with_call = True
    found = events(await wire.frames("turn these images into a 6-second video"))
    both = [e for e in found if {"text", "functionCall"} <= {k for p in parts(e) for k in p}]
    assert len(both) == 1 and "partial" not in both[0]
    text, call = parts(both[0])
    assert "6-second video" in text["text"] and call["functionCall"]["id"].startswith("adk-")
    assert sum("functionCall" in p for e in found for p in parts(e)) == 1
    responses = [p["functionResponse"] for e in found for p in parts(e) if "functionResponse" in p]
    assert [r["id"] for r in responses] == [call["functionCall"]["id"]]
    assert emulator.session(wire.sid).state["draft"]["d"] == 6000


async def test_an_artifact_change_is_two_frames_with_one_id(wire: Wire, emulator: Emulator) -> None:
    emulator.chat.artifacts = True
    for version in (0, 1):
        found = events(await wire.frames(f"add lo-fi BGM at {30 + version}%"))
        ids = [e["id"] for e in found]
        [twice] = {i for i in ids if ids.count(i) == 2}
        first, second = (e for e in found if e["id"] == twice)
        assert "functionResponse" in parts(first)[0]
        assert first["actions"]["artifactDelta"] == {}
        assert "content" not in second
        assert second["actions"]["artifactDelta"] == {"draft.json": version}


async def test_a_refusal_is_an_event_with_error_code_and_costs_nothing(
    wire: Wire, emulator: Emulator
) -> None:
    emulator.chat.refusal = "I can't help with that request."
    [event] = events(await wire.frames("add lo-fi BGM at 35%"))
    assert "content" not in event and event["errorCode"] == "SAFETY"
    assert event["errorMessage"] == "I can't help with that request."
    assert emulator.session(wire.sid).state["draft"]["t"] == []
    assert user(wire, emulator).credits_available == 100
    assert emulator.chat.refusal is None, "one-shot"


async def test_a_plain_adk_server_is_silent_while_a_tool_runs(
    wire: Wire, emulator: Emulator
) -> None:
    emulator.chat.heartbeat, emulator.chat.work_steps = "none", 3
    frames = await wire.frames("add lo-fi BGM at 35%")
    assert frames and all(f.startswith("data: {") and "\n" not in f for f in frames)


async def test_in_stream_error_with_details(wire: Wire, emulator: Emulator) -> None:
    emulator.chat.stream_error, emulator.chat.error_details = "quota exceeded", "Traceback: ..."
    last = (await wire.frames("add lo-fi BGM at 35%"))[-1]
    assert json.loads(last[len("data: ") :]) == {
        "error": "quota exceeded",
        "error_details": "Traceback: ...",
    }


async def test_generation_costs_per_clip_and_editing_once_per_session(
    wire: Wire, emulator: Emulator
) -> None:
    emulator.error_style = "status"
    status, answer, _ = await wire.call(
        "POST", "/run_sse", json=wire.chat_body("generate two 5-second clips of waves")
    )
    assert (status, answer["code"]) == (402, 2001), "200 credits needed, 100 available"
    assert emulator.session(wire.sid).chat_log == []
    emulator.set_credits(wire.user_id, 350)
    emulator.chat.hold()
    body = wire.chat_body("generate two 5-second clips of waves on a beach")
    async with wire.http.post(
        emulator.url + "/run_sse", json=body, headers={"Authorization": f"Bearer {wire.token}"}
    ) as resp:
        assert await resp.content.readline()
        frozen = (user(wire, emulator).credits_available, user(wire, emulator).credits_frozen)
        emulator.chat.release()
        raw = await resp.read()
    assert frozen == (150, 200), "reserved while the generation runs"
    found = [json.loads(f[6:]) for f in raw.decode().split("\n\n") if f.startswith("data: {")]
    calls = [p["functionCall"] for e in found for p in parts(e) if "functionCall" in p]
    assert [c["name"] for c in calls] == ["generate_video_with_seedance"] * 2
    assert calls[0]["args"]["prompt"] == "waves on a beach"
    state = emulator.session(wire.sid).state
    assert len(state["generated_media"]) == 2 and state["draft"]["d"] == 10_000
    assert (user(wire, emulator).credits_available, user(wire, emulator).credits_frozen) == (150, 0)

    await wire.frames("add lo-fi BGM at 35%")
    await wire.frames("add a title 'Waves'")
    assert user(wire, emulator).credits_available == 100, "editing: 50 once per session"
    await wire.frames("generate a 5-second clip of a sunset")
    assert user(wire, emulator).credits_available == 0, "generation: every clip"
    assert len(emulator.session(wire.sid).state["generated_media"]) == 3
    status, answer, _ = await wire.call(
        "POST", "/run_sse", json=wire.chat_body("generate a clip of rain")
    )
    assert (status, answer["code"]) == (402, 2001)
