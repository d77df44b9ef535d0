"""Chat text, once: ADK aggregates a model turn, so a turn's final text replaces its partial
chunks; partial text survives only where no final text follows (a cut stream, a final event with
only a call). Closing a stream from another task while a reader iterates closes it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

import nemovideo

from ._hostile import SESSION_ID, Hostile, client_for, hang, outcome, sse, state_answer

CHAT = "/run_sse"


def frame(*parts: dict[str, Any], partial: bool = False, eid: str = "e1") -> str:
    event: dict[str, Any] = {"author": "nemo_agent", "id": eid, "invocationId": "e-1",
                             "content": {"role": "model", "parts": list(parts)}}  # fmt: skip
    if partial:
        event["partial"] = True
    return f"data: {json.dumps(event)}\n\n"


def text(t: str) -> dict[str, Any]:
    return {"text": t}


def call(name: str = "edit_multitrack", cid: str = "c1") -> dict[str, Any]:
    return {"functionCall": {"name": name, "args": {}, "id": cid}}


def result(name: str = "edit_multitrack", cid: str = "c1") -> dict[str, Any]:
    return {"functionResponse": {"name": name, "response": {"ok": True}, "id": cid}}


CASES = {
    "final-extends-the-chunk": (
        [frame(text("Hello "), partial=True), frame(text("Hello gzip world."))],
        "Hello gzip world."),
    "final-repeats-the-chunks": (
        [frame(text("One "), partial=True), frame(text("two."), partial=True),
         frame(text("One two."))], "One two."),
    "final-that-repeats-nothing-keeps-the-chunks": (
        [frame(text("Let me thnk"), partial=True), frame(text("Let me think about it."))],
        "Let me thnk\nLet me think about it."),
    "cut-stream-keeps-the-chunks": (
        [frame(text("Half a "), partial=True), frame(text("sentence"), partial=True)],
        "Half a sentence"),
    "final-with-only-a-call-keeps-the-chunks": (
        [frame(text("Editing now"), partial=True), frame(call()),
         frame(result(), eid="e2"), frame(text("Done"), partial=True, eid="e3"),
         frame(text("Done!"), eid="e3")], "Editing now\nDone!"),
    "final-with-text-and-call-in-one-frame": (
        [frame(text("Adding "), partial=True), frame(text("Adding music."), call()),
         frame(result(), eid="e2")], "Adding music."),
    "call-before-text-in-the-final-frame": (
        [frame(text("Adding "), partial=True), frame(call(), text("Adding music.")),
         frame(result(), eid="e2")], "Adding music."),
    "two-turns": (
        [frame(text("Looking"), partial=True), frame(text("Looking at it."), call()),
         frame(result(), eid="e2"), frame(text("All "), partial=True, eid="e3"),
         frame(text("All set."), eid="e3")], "Looking at it.\nAll set."),
    "no-partials": ([frame(text("Just a final."))], "Just a final."),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
async def test_each_turns_text_appears_once(
    hostile: Hostile, tmp_path: Path, secret: str, case: str
) -> None:
    frames, expected = CASES[case]
    hostile.on("GET", "/api/state/", state_answer())
    hostile.on("POST", CHAT, sse(frames))
    async with client_for(hostile, tmp_path, secret, settle_wait=0.0) as client:
        session = client.session(SESSION_ID)
        async with session.chat("hi") as stream:
            async for _ in stream:
                pass
            assert stream.text == expected
    assert hostile.count("POST", CHAT) == 1


async def test_send_reply_text_appears_once(hostile: Hostile, tmp_path: Path, secret: str) -> None:
    frames, expected = CASES["final-extends-the-chunk"]
    hostile.on("GET", "/api/state/", state_answer())
    hostile.on("POST", CHAT, sse(frames))
    async with client_for(hostile, tmp_path, secret) as client:
        reply = await outcome(client.session(SESSION_ID).send("hi"))
    assert isinstance(reply, nemovideo.ChatReply), repr(reply)
    assert reply.text == expected
    assert hostile.count("POST", CHAT) == 1


async def test_aclose_from_another_task_closes_the_stream(
    hostile: Hostile, tmp_path: Path, secret: str
) -> None:
    hostile.on("GET", "/api/state/", state_answer())

    async def first_then_silence(request: Any, body: bytes) -> Any:
        from aiohttp import web

        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(frame(text("Working"), partial=True).encode())
        return await hang()(request, body)

    hostile.on("POST", CHAT, first_then_silence)
    got: list[object] = []
    first = asyncio.Event()
    async with client_for(hostile, tmp_path, secret, stream_idle_timeout=30.0,
                          stream_timeout=60.0) as client:  # fmt: skip
        stream = client.session(SESSION_ID).chat("hi")

        async def read() -> None:
            async for event in stream:
                got.append(event)
                first.set()

        reader = asyncio.create_task(read())
        await asyncio.wait_for(first.wait(), 5)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await asyncio.wait_for(stream.aclose(), 5)  # no "already running" RuntimeError
        await asyncio.wait_for(reader, 5)  # the reader's loop ended quietly
        assert loop.time() - started < 2
        assert reader.exception() is None
        await stream.aclose()  # twice is fine
    assert len(got) == 1
    assert hostile.count("POST", CHAT) == 1


async def test_aclose_before_reading_and_after_the_end(
    hostile: Hostile, tmp_path: Path, secret: str
) -> None:
    hostile.on("GET", "/api/state/", state_answer())
    hostile.on("POST", CHAT, sse([frame(text("ok"))]))
    async with client_for(hostile, tmp_path, secret) as client:
        never = client.session(SESSION_ID).chat("hi")
        await never.aclose()
        done = client.session(SESSION_ID).chat("hi")
        async for _ in done:
            pass
        await done.aclose()
    assert hostile.count("POST", CHAT) == 1
