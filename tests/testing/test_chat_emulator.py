"""The emulator's ``/run_sse`` and scripted agent, seen from a raw aiohttp client (no SDK code)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from nemovideo.draft import Draft
from nemovideo.testing import ChatControls, Emulator
from nemovideo.testing._agent.agent import plan_reply
from nemovideo.testing._server.store import initial_state

ATTRIBUTION = {"X-Skill-Source": "t", "X-Skill-Version": "1", "X-Skill-Platform": "unknown"}
IMAGES = [
    {"media_id": f"m_{n}", "name": f"city_{n}.jpg", "url": f"http://cdn.test/files/m_{n}.jpg",
     "kind": "image", "size": 1, "width": 1920, "height": 1080, "duration_ms": 0}
    for n in (1, 2, 3)
]  # fmt: skip


class Chat:
    def __init__(self, http: aiohttp.ClientSession, emu: Emulator) -> None:
        self.http, self.emu = http, emu
        self.token = ""
        self.sid = ""

    async def start(self) -> Chat:
        headers = {"X-Client-Id": str(uuid.uuid4())}
        async with self.http.post(self.emu.url + "/api/auth/anonymous-token",
                                  headers=headers) as resp:  # fmt: skip
            self.token = (await resp.json())["data"]["token"]
        async with self.http.post(
            self.emu.url + "/api/tasks/me/with-session/nemo_agent",
            json={"task_name": "project"},
            headers=self.headers(),
        ) as resp:
            self.sid = (await resp.json())["data"]["session_id"]
        return self

    def headers(self) -> dict[str, str]:
        return {**ATTRIBUTION, "Authorization": f"Bearer {self.token}"}

    def body(self, text: str) -> dict[str, Any]:
        return {"app_name": "nemo_agent", "user_id": "me", "session_id": self.sid,
                "new_message": {"role": "user", "parts": [{"text": text}]}}  # fmt: skip

    async def raw(self, text: str) -> tuple[int, str, bytes]:
        async with self.http.post(self.emu.url + "/run_sse", json=self.body(text),
                                  headers=self.headers()) as resp:  # fmt: skip
            return resp.status, resp.content_type, await resp.read()

    async def frames(self, text: str) -> list[str]:
        status, ctype, raw = await self.raw(text)
        assert (status, ctype) == (200, "text/event-stream"), raw
        return [f for f in raw.decode().split("\n\n") if f]


@pytest.fixture
async def chat(emulator: Emulator) -> AsyncIterator[Chat]:
    emulator.chat.delay = 0.001
    async with aiohttp.ClientSession() as http:
        yield await Chat(http, emulator).start()


def data(frames: list[str]) -> list[dict[str, Any]]:
    return [json.loads(f[len("data: ") :]) for f in frames if f.startswith("data: {")]


async def test_edit_stream_is_adk_shaped(chat: Chat, emulator: Emulator) -> None:
    emulator.session(chat.sid).state["video_infos"] = [dict(m) for m in IMAGES]
    frames = await chat.frames("turn these images into a 12-second video with smooth transitions")
    assert all("\r" not in f for f in frames)
    assert all(f.startswith("data: ") and "\n" not in f for f in frames if "heartbeat" not in f)
    assert frames.count("event: heartbeat\ndata: {}") == emulator.chat.work_steps
    events = data(frames)
    call = next(e for e in events if "functionCall" in e["content"]["parts"][0])
    answer = next(e for e in events if "functionResponse" in e["content"]["parts"][0])
    assert call["content"]["role"] == "model" and call["longRunningToolIds"]
    assert answer["content"]["role"] == "user" and answer["author"] == "nemo_agent"
    fc, fr = call["content"]["parts"][0]["functionCall"], answer["content"]["parts"][0]
    assert fc["name"] == "edit_multitrack" and fc["id"].startswith("adk-")
    assert fr["functionResponse"]["id"] == fc["id"]
    assert all(e["invocationId"] == events[0]["invocationId"] for e in events)
    texts = [e for e in events if "text" in e["content"]["parts"][0]]
    assert any(e.get("partial") for e in texts)
    assert all("partial" not in e or e["partial"] is True for e in texts)
    final = [e["content"]["parts"][0]["text"] for e in texts if "partial" not in e]
    assert "Export button" in final[-1]
    draft = emulator.session(chat.sid).state["draft"]
    assert Draft.from_json(draft).summary() == "Timeline (1 track): 1. Video: 3 clips (0-12s)"
    [track] = draft["t"]
    assert [s["id"] for s in track["sg"]] == ["sg_1", "sg_2", "sg_3"]
    assert [s["m"]["src"] for s in track["sg"]] == [m["url"] for m in IMAGES]
    assert {s["m"]["transition"] for s in track["sg"]} == {"fade"}
    assert sum(s["d"] for s in track["sg"]) == draft["d"] == 12_000


@pytest.mark.parametrize(
    ("style", "beat"),
    [("empty", "data: "), ("comment", ": heartbeat"), ("event", "event: heartbeat\ndata: {}")],
)
async def test_heartbeat_styles(chat: Chat, emulator: Emulator, style: str, beat: str) -> None:
    ctl = emulator.chat
    ctl.heartbeat, ctl.work_steps = style, 3
    frames = await chat.frames("add lo-fi BGM at 35%")
    assert frames.count(beat) == 3


async def test_simple_dialect(chat: Chat, emulator: Emulator) -> None:
    emulator.chat.dialect = "simple"
    types = [e["type"] for e in data(await chat.frames("add a title 'Hi'"))]
    assert types == ["text", "tool_call", "heartbeat", "heartbeat", "tool_result", "text"]


async def test_silent_edit_has_no_text(chat: Chat, emulator: Emulator) -> None:
    emulator.chat.silent = True
    events = data(await chat.frames("add lo-fi BGM at 35%"))
    assert not any("text" in e["content"]["parts"][0] for e in events)
    assert emulator.session(chat.sid).state["draft"]["t"][0]["tt"] == 1


async def test_credits_are_frozen_then_spent_once_per_session(
    chat: Chat, emulator: Emulator
) -> None:
    user = emulator.store.users[emulator.session(chat.sid).user_id]
    await chat.frames("add lo-fi BGM at 35%")
    await chat.frames("add a title 'X'")
    assert (user.credits_available, user.credits_frozen) == (50, 0)
    other = await Chat(chat.http, emulator).start()
    user2 = emulator.store.users[emulator.session(other.sid).user_id]
    user2.credits_available = 10
    emulator.error_style = "status"
    status, _, raw = await other.raw("add lo-fi BGM at 35%")
    assert status == 402 and json.loads(raw)["code"] == 2001
    assert emulator.session(other.sid).chat_log == []
    assert (await other.raw("hello"))[0] == 200


async def test_drop_cuts_the_connection_and_finishes_the_edit(
    chat: Chat, emulator: Emulator
) -> None:
    ctl = emulator.chat
    ctl.drop_after = 2
    with pytest.raises(aiohttp.ClientPayloadError):
        await chat.raw("add lo-fi BGM at 35%")
    assert ctl.dropped == 1 and ctl.drop_after is None
    assert emulator.session(chat.sid).state["draft"]["t"][0]["m"]["name"] == "Lo-fi"
    await chat.frames("hello")  # one-shot: the next stream is whole


@pytest.mark.parametrize("unescaped", [False, True])
async def test_stream_error_frame(chat: Chat, emulator: Emulator, unescaped: bool) -> None:
    ctl = emulator.chat
    ctl.stream_error, ctl.unescaped_error = 'quota "exceeded"', unescaped
    frames = await chat.frames("add lo-fi BGM at 35%")
    last = frames[-1]
    if unescaped:
        assert last == 'data: {"error": "quota "exceeded""}'
    else:
        assert json.loads(last[len("data: ") :]) == {"error": 'quota "exceeded"'}
    assert emulator.session(chat.sid).state["draft"]["t"] == []


# -- the agent's understanding, without sockets --------------------------------------------------


def run(text: str, state: dict[str, Any]) -> dict[str, Any]:
    plan = plan_reply(text, state)
    for step in plan.steps:
        step.edit(state)
    return state


def summary(state: dict[str, Any]) -> str:
    return Draft.from_json(state["draft"]).summary()


def with_images() -> dict[str, Any]:
    state = initial_state()
    state["video_infos"] = [dict(m) for m in IMAGES]
    return state


def test_plan_two_stage_generation_in_one_sentence() -> None:
    state = with_images()
    text = (
        "make a 10 second video from my photos with lo-fi music at 35% and the title 'Urban Dreams'"
    )
    plan = plan_reply(text, state)
    assert [s.args["action"] for s in plan.steps] == ["create_video", "add_bgm", "add_title"]
    run(text, state)
    assert summary(state) == (
        "Timeline (3 tracks): 1. Video: 3 clips (0-10s) 2. BGM: Lo-fi (0-10s, 35%) "
        '3. Title: "Urban Dreams" (0-3s)'
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("make it vertical", (1080, 1920, "9:16")),
        ("change the aspect ratio to 1:1", (1920, 1920, "1:1")),
        ("square please", (1080, 1080, "1:1")),
    ],
)
def test_plan_canvas(text: str, expected: tuple[int, int, str]) -> None:
    state = run(text, with_images())
    canvas = state["canvas_config"]
    assert (canvas["width"], canvas["height"], canvas["aspect_ratio"]) == expected


def test_plan_edits_and_refusals() -> None:
    state = run("turn these images into a 9s video with no transitions", with_images())
    segments = state["draft"]["t"][0]["sg"]
    assert {s["m"]["transition"] for s in segments} == {"none"}
    assert [s["d"] for s in segments] == [3000, 3000, 3000]
    run("add a title “Hello”", state)
    run("trim it to 6 seconds", state)
    assert (
        summary(state) == 'Timeline (2 tracks): 1. Video: 3 clips (0-6s) 2. Title: "Hello" (0-3s)'
    )
    assert not plan_reply("remove the music", state).edits
    assert "nothing to remove" in plan_reply("remove the music", state).intro
    run("remove the title", state)
    assert summary(state) == "Timeline (1 track): 1. Video: 3 clips (0-6s)"
    nothing = plan_reply("turn these images into a video", initial_state())
    assert not nothing.edits and "Upload button" in nothing.intro
    assert not plan_reply("what's the weather", state).edits


def test_controls_live_per_emulator() -> None:
    a, b = Emulator(), Emulator()
    assert a.chat is a.chat and a.chat is not b.chat
    assert isinstance(a.chat, ChatControls)


@pytest.mark.parametrize(
    ("sentence", "title"),
    [
        ("add a title Urban Dreams", "Urban Dreams"),
        ("add the title: Urban Dreams, then stop", "Urban Dreams"),
        ("add title called Summer in Paris.", "Summer in Paris"),
        ("add a caption saying Hello world and add music", "Hello world"),
        ("add a title 'Quoted, with a comma'", "Quoted, with a comma"),
    ],
)
def test_titles_are_read_with_or_without_quotes(sentence: str, title: str) -> None:
    state = run("turn these images into a 9s video", with_images())
    run(sentence, state)
    assert summary(state).endswith(f'Title: "{title}" (0-3s)')


@pytest.mark.parametrize("sentence", ["add a title", "remove the title Urban Dreams"])
def test_no_title_is_added_without_text_or_when_removing(sentence: str) -> None:
    state = run("turn these images into a 9s video", with_images())
    run(sentence, state)
    assert "Title" not in summary(state)
