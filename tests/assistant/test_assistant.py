"""The Assistant drives a whole scripted conversation against the emulator over real sockets."""

from __future__ import annotations

from pathlib import Path

import pytest

import nemovideo
from nemovideo.testing import Emulator, fast_client, sample_images
from nemovideo.testing.mp4probe import probe_mp4

MAKE = "turn these images into a 15-second video with smooth transitions"


async def test_scripted_conversation(emulator: Emulator, tmp_path: Path) -> None:
    notices: list[str] = []
    emulator.render.width, emulator.render.height = 320, 180
    async with fast_client(emulator, tmp_path / "config", max_polls=1000) as client:
        assistant = client.assistant(download_dir=tmp_path / "out", on_notice=notices.append)

        made = await assistant.handle(MAKE, files=sample_images())
        assert made.ok, made.text
        assert made.action == "chat"
        assert [m.name for m in made.media] == ["city_1.jpg", "city_2.jpg", "city_3.jpg"]
        assert made.text.startswith("Uploaded 3 files")
        assert made.summary is not None and "1. Video:" in made.summary
        assert "(0-15s)" in made.summary
        assert "click" not in made.text.lower(), "GUI talk must be translated"
        assert assistant.session is not None
        sid = assistant.session.id
        posts = emulator.requests_to("/run_sse", "POST")
        assert len(posts) == 1

        emulator.chat.silent = True
        edit = await assistant.handle("add lo-fi BGM at 35%")
        assert edit.ok and edit.action == "chat"
        assert edit.changes, "a silent edit is summarised from the draft diff"
        assert "What changed" in edit.text
        emulator.chat.silent = False

        status = await assistant.handle("show me the status")
        assert status.action == "state"
        assert status.summary is not None and "BGM" in status.summary

        balance = await assistant.handle("查一下余额")
        assert balance.action == "credits" and balance.credits is not None
        assert f"{balance.credits.available} credits" in balance.text

        exported = await assistant.handle("export 1080p mp4")
        assert exported.ok, exported.text
        assert exported.action == "export" and exported.path is not None
        info = probe_mp4(exported.path)
        assert info.has_video and info.duration_s == pytest.approx(15, abs=0.6)

        emulator.set_credits(None, 0)
        broke = await client.assistant().handle("add a title 'Urban Dreams'")
        assert isinstance(broke.error, nemovideo.InsufficientCreditsError)
        assert "register?bind=" in broke.text
        assert assistant.session.id == sid
        assert len(emulator.requests_to("/run_sse", "POST")) == 3, "no message was re-sent"


async def test_lost_session_is_replaced_and_said(emulator: Emulator, tmp_path: Path) -> None:
    async with fast_client(emulator, tmp_path / "config") as client:
        assistant = client.assistant()
        first = await assistant.handle("status")
        assert first.ok and assistant.session is not None
        old = assistant.session.id
        emulator.faults.drop_session(old)
        again = await assistant.handle("status")
        assert again.ok and again.new_session
        assert "started a new one" in again.text
        assert assistant.session.id != old


async def test_export_advice_for_empty_draft_and_blocked_plan(
    emulator: Emulator, tmp_path: Path
) -> None:
    async with fast_client(emulator, tmp_path / "config") as client:
        assistant = client.assistant(download_dir=tmp_path)
        empty = await assistant.handle("send me the video")
        assert empty.action == "export" and empty.ok and empty.path is None
        assert "nothing to export" in empty.text
        assert emulator.requests_to("/api/render/proxy/lambda", "POST") == []

        await assistant.handle(MAKE, files=sample_images()[:1])
        emulator.block_exports()
        blocked = await assistant.handle("导出")
        assert isinstance(blocked.error, nemovideo.ExportBlockedError)
        assert "upgrade" in blocked.text.lower()


async def test_bad_file_is_refused_before_anything_is_sent(
    emulator: Emulator, tmp_path: Path
) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("not media")
    async with fast_client(emulator, tmp_path / "config") as client:
        assistant = client.assistant()
        reply = await assistant.handle("", files=[*sample_images(), bad])
        assert isinstance(reply.error, nemovideo.UnsupportedFileError)
        assert "notes.txt" in reply.text and "Supported formats" in reply.text
    assert [r for r in emulator.requests if "upload" in r.path] == []


async def test_two_stage_generation_finishes_or_says_it_is_still_running(
    emulator: Emulator, tmp_path: Path
) -> None:
    emulator.chat.two_stage = True
    sentence = "make a 10 second video from my photos with lo-fi music and the title 'Night'"
    async with fast_client(emulator, tmp_path / "config", recovery_max_polls=200) as client:
        done = await client.assistant().handle(sentence, files=sample_images())
        assert done.ok and done.summary is not None
        assert '3. Title: "Night"' in done.summary
        assert "still finishing" not in done.text

        emulator.chat.stage_two_delay = 30.0
        waiting = await client.assistant().handle(sentence, files=sample_images())
        assert waiting.ok and waiting.summary == "Timeline (1 track): 1. Video: 3 clips (0-10s)"
        assert "still finishing" in waiting.text


async def test_advice_texts_name_the_way_out(emulator: Emulator, tmp_path: Path) -> None:
    emulator.render.width, emulator.render.height = 320, 180
    big_file = tmp_path / "big.mp4"
    big_file.write_bytes(bytes(30_000))
    async with fast_client(emulator, tmp_path / "config", max_upload_bytes=20_000) as client:
        assistant = client.assistant(download_dir=tmp_path)
        await assistant.handle("status")
        register = f"https://nemovideo.com/register?bind={client.user_id}"

        emulator.set_credits(None, 0)
        broke = await assistant.handle("add lo-fi BGM at 35%")
        assert isinstance(broke.error, nemovideo.InsufficientCreditsError)
        assert broke.text == f"You are out of credits. Register to get more: {register}"

        big = await assistant.handle("", files=[big_file])
        assert isinstance(big.error, nemovideo.FileTooLargeError)
        assert "compress the file or trim it" in big.text

        emulator.set_credits(None, 500)
        await assistant.handle(MAKE, files=sample_images())
        emulator.block_exports()
        blocked = await assistant.handle("export")
        assert isinstance(blocked.error, nemovideo.ExportBlockedError)
        assert blocked.text == (
            f"Your plan cannot export videos: register or upgrade to export (register here: "
            f"{register})."
        )

        emulator.block_exports(blocked=False)
        emulator.render.fail_next("GPU lost")
        failed = await assistant.handle("export")
        assert isinstance(failed.error, nemovideo.RenderFailedError)
        assert failed.text == 'The render failed (GPU lost). Say "export" to try again.'


async def test_stages_and_progress_for_upload_and_export(
    emulator: Emulator, tmp_path: Path
) -> None:
    emulator.render.width, emulator.render.height = 320, 180
    events: list[tuple[str, int, int] | str] = []
    async with fast_client(emulator, tmp_path / "config") as client:
        assistant = client.assistant(
            download_dir=tmp_path,
            on_stage=events.append,
            on_progress=lambda done, total: events.append(("progress", done, total)),
        )
        await assistant.handle("turn these into a 4-second video", files=sample_images())
        exported = await assistant.handle("export")
    assert exported.ok and exported.path is not None
    stages = [e for e in events if isinstance(e, str)]
    assert stages == ["upload", "render", "download"]
    render = events[events.index("render") + 1 : events.index("download")]
    assert render and all(e[2] == 100 for e in render if isinstance(e, tuple))
    download = [e for e in events[events.index("download") :] if isinstance(e, tuple)]
    assert download[-1][1] == exported.path.stat().st_size


async def test_waiting_notices_count_seconds(emulator: Emulator, tmp_path: Path) -> None:
    notices: list[str] = []
    emulator.chat.delay, emulator.chat.work_steps = 0.03, 6
    async with fast_client(emulator, tmp_path / "config") as client:
        reply = await client.assistant(on_notice=notices.append).handle("add lo-fi BGM at 35%")
    assert reply.ok
    assert notices and all(n == "Still working... (0 s so far)" for n in notices), notices


async def test_dropped_stream_and_quiet_backend_are_explained(
    emulator: Emulator, tmp_path: Path
) -> None:
    async with fast_client(emulator, tmp_path / "config", stream_idle_timeout=0.2) as client:
        assistant = client.assistant()
        await assistant.handle("status")
        emulator.chat.drop_after = 2
        dropped = await assistant.handle("add lo-fi BGM at 35%")
        assert dropped.ok, dropped.text
        assert "not sent twice" in dropped.text
        assert "What changed:\n- Duration 0s -> 10s\n- Added BGM track Lo-fi" in dropped.text

        emulator.chat.heartbeats_only = True
        quiet = await assistant.handle("add a title 'Night'")
        assert isinstance(quiet.error, nemovideo.StreamTimeoutError)
        assert "was not sent again" in quiet.text and "status" in quiet.text
    assert len(emulator.requests_to("/run_sse", "POST")) == 2


async def test_question_is_shown_numbered_and_answered(emulator: Emulator, tmp_path: Path) -> None:
    emulator.chat.delay = 0.001
    async with fast_client(emulator, tmp_path / "config") as client:
        assistant = client.assistant()
        reply = await assistant.handle("make a video")
        assert reply.ok and reply.question is not None
        assert (
            "1. What should the video show?" in reply.text and "1) Waves on a beach" in reply.text
        )
        bad = await assistant.answer(9)
        assert not bad.ok and isinstance(bad.error, nemovideo.ValidationError)
        assert bad.question is reply.question, "the question stays open after a bad pick"
        done = await assistant.answer(1)
        assert done.ok and done.question is None and done.changes
        assert len(emulator.requests_to("/run_sse", "POST")) == 2
        again = await assistant.answer(1)
        assert "no open question" in again.text


async def test_agent_failure_is_a_reply_with_the_error(emulator: Emulator, tmp_path: Path) -> None:
    emulator.chat.delay = 0.001
    emulator.chat.stream_error = 'tool "render" crashed'
    async with fast_client(emulator, tmp_path / "config") as client:
        reply = await client.assistant().handle("add lo-fi BGM at 35%")
    assert isinstance(reply.error, nemovideo.AgentError)
    assert 'tool "render" crashed' in reply.text and "not sent again" in reply.text
