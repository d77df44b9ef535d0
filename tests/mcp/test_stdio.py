"""``nemovideo mcp`` over stdio, driven by the ``mcp`` SDK's own client against the emulator."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from nemovideo.testing import Emulator, sample_images
from nemovideo.testing.mp4probe import probe_mp4
from tests.mcp.conftest import Served, serve_stdio, text_of, tokens_seen

TOOLS = {"new_session", "upload", "chat", "answer", "state", "export", "credits"}


def _no_token_anywhere(emu: Emulator, served: Served) -> None:
    tokens = tokens_seen(emu)
    assert tokens, "the server never authenticated: the check below would prove nothing"
    stderr = served.stderr.read_text(encoding="utf-8")
    assert "Traceback" not in stderr
    notes = [message or "" for _, _, message in served.notes]
    for token in tokens:
        for text in [*served.texts, *notes, stderr]:
            assert token not in text


async def test_tools_have_names_typed_schemas_and_descriptions(
    emulator: Emulator, tmp_path: Path
) -> None:
    async with serve_stdio(emulator, tmp_path) as served:
        tools = {tool.name: tool for tool in (await served.client.list_tools()).tools}
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool.description and len(tool.description) > 60, tool.name
        assert tool.input_schema["type"] == "object"
        if tool.name not in ("credits", "new_session"):
            session_id = tool.input_schema["properties"]["session_id"]
            assert {"type": "string"} in session_id["anyOf"] and session_id["description"]
            assert "session_id" not in tool.input_schema.get("required", [])
    chat = tools["chat"].input_schema
    assert chat["required"] == ["message"]
    assert chat["properties"]["message"]["type"] == "string"
    assert chat["properties"]["message"]["minLength"] == 1
    upload = tools["upload"].input_schema["properties"]
    for name in ("paths", "urls"):
        assert {"type": "array", "items": {"type": "string"}} in upload[name]["anyOf"]
    export = tools["export"].input_schema
    assert export["required"] == ["out"]
    assert {"job_id", "overwrite", "format"} <= set(export["properties"])
    assert tools["new_session"].input_schema["properties"]["language"]["default"] == "en"
    assert tools["answer"].input_schema["properties"]["choices"]["description"]
    assert tools["state"].annotations is not None and tools["state"].annotations.read_only_hint
    assert tools["credits"].input_schema.get("properties", {}) == {}


async def test_images_to_mp4_with_progress_and_no_token(emulator: Emulator, tmp_path: Path) -> None:
    async with serve_stdio(emulator, tmp_path) as served:
        result = await served.call("new_session", {"language": "en"})
        assert not result.is_error, text_of(result)
        session_id = result.structured_content["session_id"]
        assert session_id in emulator.sessions
        assert session_id in result.structured_content["claim_url"]

        names = [image.name for image in sample_images()]
        result = await served.call("upload", {"paths": names})
        assert not result.is_error, text_of(result)
        assert [m["name"] for m in result.structured_content["media"]] == names
        assert result.structured_content["session_id"] == session_id  # the current one
        assert any(total == 100 and "Uploading" in (m or "") for _, total, m in served.notes)

        served.notes.clear()
        emulator.chat.hold()  # the agent "works" (heartbeats only) until released
        chat = asyncio.ensure_future(
            served.call("chat", {"message": "turn these images into a 6-second video"})
        )
        still = await served.note_containing("Still working")
        assert "so far" in still
        emulator.chat.release()
        result = await chat
        assert not result.is_error, text_of(result)
        assert "What changed in the timeline" in text_of(result)
        assert result.structured_content["changes"]
        values = [value for value, _, _ in served.notes]
        assert values == sorted(values)

        result = await served.call("state", {"picture": True})
        assert not result.is_error, text_of(result)
        assert result.structured_content["ready_for_export"] is True
        assert "Video" in result.structured_content["summary"]
        picture = [block for block in result.content if block.type == "image"]
        assert picture and picture[0].mime_type == "image/svg+xml"

        served.notes.clear()
        result = await served.call("export", {"out": "videos/my-video.mp4"})
        assert not result.is_error, text_of(result)
        saved = Path(result.structured_content["path"])
        assert saved == served.root / "videos" / "my-video.mp4"
        assert result.structured_content["url"].startswith(emulator.cdn_url)
        info = probe_mp4(saved)
        assert result.structured_content["size"] == info.size
        assert info.has_video and (info.width, info.height) == (160, 90)
        assert any(m and m.startswith("Rendering job") for _, _, m in served.notes)
        assert served.notes[-1][:2] == (100, 100)
        assert all(total == 100 for _, total, _ in served.notes[1:])

        result = await served.call("credits")
        assert not result.is_error and result.structured_content["available"] is not None
    _no_token_anywhere(emulator, served)
    assert json.loads((tmp_path / "config" / "mcp-sessions.json").read_text())

    # a restarted server (a new conversation) picks the same project up without an id
    async with serve_stdio(emulator, tmp_path) as again:
        result = await again.call("state")
        assert not result.is_error, text_of(result)
        assert result.structured_content["session_id"] == session_id


async def test_every_failure_is_a_tool_error_with_what_to_do(
    emulator: Emulator, tmp_path: Path
) -> None:
    async with serve_stdio(emulator, tmp_path) as served:
        result = await served.call("state")
        assert result.is_error and "new_session" in text_of(result)

        result = await served.call("upload", {"paths": ["missing.jpg"]})
        assert result.is_error and "missing.jpg" in text_of(result)

        (served.root / "notes.txt").write_text("not a picture")
        result = await served.call("upload", {"paths": ["notes.txt"]})
        assert result.is_error
        assert "UnsupportedFileError" in text_of(result) and "Supported formats" in text_of(result)

        outside = tmp_path / "secret.jpg"
        outside.write_bytes(sample_images()[0].read_bytes())
        for path in (str(outside), "../secret.jpg"):
            result = await served.call("upload", {"paths": [path]})
            assert result.is_error and "--root" in text_of(result)
        (served.root / "link.jpg").symlink_to(outside)
        result = await served.call("upload", {"paths": ["link.jpg"]})
        assert result.is_error and "--root" in text_of(result)
        result = await served.call("export", {"out": "../escaped.mp4"})
        assert result.is_error and not (tmp_path / "escaped.mp4").exists()

        result = await served.call("state", {"session_id": "no-such-session"})
        assert result.is_error and "SessionNotFoundError" in text_of(result)

        result = await served.call("upload", {"paths": [sample_images()[0].name]})
        assert not result.is_error, text_of(result)
        result = await served.call("answer", {"choices": [1]})
        assert result.is_error and "chat" in text_of(result)

        emulator.set_credits(None, 0)
        chats = len(emulator.requests_to("/run_sse", "POST"))
        result = await served.call("chat", {"message": "make a 5-second video"})
        assert result.is_error, text_of(result)
        assert "InsufficientCreditsError" in text_of(result)
        assert "/register?bind=" in text_of(result)
        assert len(emulator.requests_to("/run_sse", "POST")) <= chats + 1

        emulator.set_credits(None, 100)
        result = await served.call("chat", {"message": "turn this image into a 4-second video"})
        assert not result.is_error, text_of(result)
        emulator.block_exports()
        result = await served.call("export", {"out": "blocked.mp4"})
        assert result.is_error and "ExportBlockedError" in text_of(result)
        assert "/workspace/task/" in text_of(result)  # the claim link
        assert not list(served.root.glob("blocked*"))

        result = await served.call("chat", {"message": ""})
        assert result.is_error  # the schema's minLength, reported as a tool error

        result = await served.call("credits")  # still serving after all of that
        assert not result.is_error
    _no_token_anywhere(emulator, served)
    assert "Traceback" not in served.stderr.read_text(encoding="utf-8")


async def test_a_retried_chat_is_not_sent_twice(emulator: Emulator, tmp_path: Path) -> None:
    async with serve_stdio(emulator, tmp_path) as served:
        result = await served.call("upload", {"paths": [p.name for p in sample_images()]})
        assert not result.is_error, text_of(result)
        emulator.chat.hold()
        message = {"message": "turn these images into a 6-second video"}
        first = asyncio.ensure_future(served.call("chat", message))
        await served.note_containing("Still working")
        first.cancel()  # the client gives up on the call (it sends notifications/cancelled)
        await asyncio.gather(first, return_exceptions=True)
        served.notes.clear()
        second = asyncio.ensure_future(served.call("chat", message))
        await served.note_containing("Sending")
        emulator.chat.release()
        result = await second
        assert not result.is_error, text_of(result)
        assert "NOT sent twice" in text_of(result) and result.structured_content["not_resent"]
        assert result.structured_content["changes"]
    assert len(emulator.requests_to("/run_sse", "POST")) == 1


async def test_the_agents_question_is_numbered_and_answered(
    emulator: Emulator, tmp_path: Path
) -> None:
    async with serve_stdio(emulator, tmp_path) as served:
        result = await served.call("chat", {"message": "make a video"})  # nothing uploaded yet
        assert not result.is_error, text_of(result)
        assert "1. What should the video show?" in text_of(result)
        assert "1) Waves on a beach" in text_of(result) and "call answer" in text_of(result)
        question = result.structured_content["question"]
        assert question["questions"][0]["options"][0] == "Waves on a beach"

        result = await served.call("answer", {"choices": [9]})
        assert result.is_error and "ValidationError" in text_of(result)
        result = await served.call("state")
        assert "waiting for an answer" in text_of(result), "a bad pick leaves the question open"

        result = await served.call("answer", {"choices": [1]})
        assert not result.is_error, text_of(result)
        assert result.structured_content["question"] is None
        assert result.structured_content["changes"]
        result = await served.call("answer", {"choices": [1]})
        assert result.is_error and "No question is waiting" in text_of(result)
    assert len(emulator.requests_to("/run_sse", "POST")) == 2


async def test_an_export_past_its_bound_says_how_to_resume_it(
    emulator: Emulator, tmp_path: Path
) -> None:
    async with serve_stdio(emulator, tmp_path) as served:
        result = await served.call("upload", {"paths": [p.name for p in sample_images()]})
        result = await served.call("chat", {"message": "turn these images into a 6-second video"})
        assert not result.is_error, text_of(result)
    emulator.render.hold()  # the render stays "processing" past the bound
    async with serve_stdio(emulator, tmp_path, "--timeout", "2") as bounded:
        result = await bounded.call("export", {"out": "video.mp4"})
        assert result.is_error, text_of(result)
        assert 'job_id="' in text_of(result), text_of(result)
        job_id = result.content[0].text.split('job_id="', 1)[1].split('"', 1)[0]
        assert "keeps running" in text_of(result)
    assert not list(bounded.root.glob("*.mp4"))
    emulator.render.release()
    async with serve_stdio(emulator, tmp_path) as again:
        result = await again.call("export", {"out": "video.mp4", "job_id": job_id})
        assert not result.is_error, text_of(result)
        assert result.structured_content["job_id"] == job_id
        assert probe_mp4(again.root / "video.mp4").has_video
    assert len(emulator.requests_to("/render", "POST")) == 1


async def test_a_rejected_token_is_an_error_that_does_not_show_it(
    emulator: Emulator, tmp_path: Path
) -> None:
    token = "nmv_usr_rejected_0123456789abcdef"
    async with serve_stdio(emulator, tmp_path, NEMO_TOKEN=token) as served:
        result = await served.call("credits")
        assert result.is_error and "AuthenticationError" in text_of(result)
        result = await served.call("new_session")
        assert result.is_error and "AuthenticationError" in text_of(result)
    assert token in tokens_seen(emulator)  # it was sent to the API, and only there
    for text in [*served.texts, served.stderr.read_text(encoding="utf-8")]:
        assert token not in text and token[8:] not in text
