"""Export end to end: the SDK's Renderer against the emulator's real ffmpeg renderer, over sockets."""

from __future__ import annotations

import filecmp
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

import nemovideo
from nemovideo.render import RenderJob, RenderResult, RenderStatus
from nemovideo.render import _download as dl
from nemovideo.testing import Emulator, fast_client, make_sample_image
from nemovideo.testing.drafts import bgm_track, make_draft, title_track, video_track
from nemovideo.testing.mp4probe import probe_mp4

from ..conftest import serving

SUBMIT = "/api/render/proxy/lambda"
POLLS = 5000  # renders take ~0.2 s; polls are 10 ms apart in tests


@pytest.fixture
async def nemo_client(emulator: Emulator, tmp_path: Path) -> AsyncIterator[nemovideo.NemoClient]:
    """The plugin's ``nemo_client``, overridden for this file: ``max_polls`` lets a render finish."""
    async with fast_client(emulator, tmp_path / "config", max_polls=POLLS) as c:
        yield c


async def _media(emu: Emulator, count: int = 3) -> list[dict[str, Any]]:
    """Images placed in the emulator's files dir as the upload routes would, as video_infos."""
    infos = []
    for n in range(1, count + 1):
        media_id = "m_" + secrets.token_hex(6)
        await make_sample_image(emu.files_dir / f"{media_id}.jpg", f"city {n}", 160, 90)
        infos.append({"media_id": media_id, "name": f"city_{n}.jpg", "kind": "image",
                      "url": emu.cdn_file_url(f"{media_id}.jpg")})  # fmt: skip
    return infos


async def _session(
    client: nemovideo.NemoClient, emu: Emulator, seconds: int = 6
) -> tuple[nemovideo.Session, dict[str, Any]]:
    """A session whose draft is 3 images over ``seconds``, tone BGM at 35% and a 2 s title."""
    controls = emu.render
    controls.width, controls.height, controls.fps = 320, 180, 10
    session = await client.create_session()
    media = await _media(emu)
    ms = seconds * 1000
    draft = make_draft(
        [video_track(media, ms, name="city"), bgm_track("Lo-fi", 0.35, ms),
         title_track("Urban Dreams", 2000)],
        title="Urban Dreams",
    )  # fmt: skip
    state = emu.session(session.id).state
    state["video_infos"], state["draft"] = media, draft
    return session, draft


async def _finished_job(
    client: nemovideo.NemoClient, emu: Emulator, seconds: int = 2
) -> nemovideo.RenderJob:
    """The completed render of a ``_session`` draft of ``seconds``."""
    session, _ = await _session(client, emu, seconds=seconds)
    job = await session.export()
    await job.wait()
    return job


async def test_export_wait_download_real_mp4(
    nemo_client: nemovideo.NemoClient, emulator: Emulator, tmp_path: Path
) -> None:
    session, draft = await _session(nemo_client, emulator)
    job = await session.export(format="mp4", quality="high")
    assert isinstance(job, RenderJob) and job.id.startswith("render_")
    assert job.session_id == session.id
    seen: list[tuple[int, int]] = []
    result = await job.wait(progress=lambda done, total: seen.append((done, total)))
    assert isinstance(result, RenderResult) and result.status == "completed"
    assert result.url is not None and result.url.startswith(emulator.cdn_url + "/files/")
    assert seen[-1] == (100, 100) and all(total == 100 for _, total in seen)
    assert [p for p, _ in seen] == sorted(p for p, _ in seen)

    got: list[tuple[int, int]] = []
    out = tmp_path / "out"
    out.mkdir()  # an existing directory: the server's file name goes in it
    path = await job.download(out, progress=lambda done, total: got.append((done, total)))
    assert path == out / f"{job.id}.mp4"
    info = probe_mp4(path)
    assert info.duration_s == pytest.approx(draft["d"] / 1000, abs=0.05)
    assert (info.width, info.height, info.codec) == (320, 180, "avc1")
    assert info.has_video and info.has_audio and info.audio_codec == "mp4a"
    assert info.fps == pytest.approx(10, abs=0.5)
    served = emulator.files_dir / f"{job.id}.mp4"
    assert path.read_bytes() == served.read_bytes()
    assert got[-1] == (served.stat().st_size, served.stat().st_size)
    assert sorted(p.name for p in out.iterdir()) == [path.name], "no temp file left"

    (submit,) = emulator.requests_to(SUBMIT, "POST")
    body = submit.json
    assert body["id"] == job.id and body["sessionId"] == session.id
    assert body["output"] == {"format": "mp4", "quality": "high"}
    assert body["draft"] == draft, "the draft is posted back verbatim"
    assert all(
        r.headers["Authorization"].startswith("Bearer ") for r in emulator.requests_to(SUBMIT)
    )
    assert emulator.cdn_requests, "the MP4 came from the CDN origin"
    assert not any("Authorization" in r.headers for r in emulator.cdn_requests)


@pytest.mark.parametrize("shape", [1, 2, 3])
async def test_every_poll_shape_is_read(
    nemo_client: nemovideo.NemoClient, emulator: Emulator, tmp_path: Path, shape: int
) -> None:
    session, _ = await _session(nemo_client, emulator, seconds=2)
    emulator.render.poll_shape = shape
    job = await session.export()
    result = await job.wait()
    assert result.url == emulator.cdn_file_url(f"{job.id}.mp4")
    if shape == 3:
        assert result.duration == pytest.approx(2.0) and result.size
    path = await job.download(tmp_path / "out.mp4")
    assert probe_mp4(path).duration_s == pytest.approx(2.0, abs=0.05)


def test_status_parsing_of_documented_shapes() -> None:
    one = RenderStatus.from_json("r", {"id": "r", "status": "processing", "progress": "50%"})
    assert (one.state, one.progress, one.url) == ("processing", 50, None)
    two = RenderStatus.from_json("r", {"status": "completed", "output": {"url": "https://c/x.mp4"}})
    assert (two.state, two.url) == ("completed", "https://c/x.mp4")
    three = RenderStatus.from_json(
        "r", {"taskId": "t", "status": "success", "output": {"url": "u", "size": 9, "duration": 2}}
    )
    assert (three.job_id, three.state, three.size, three.duration) == ("t", "completed", 9, 2.0)
    failed = RenderStatus.from_json("r", {"status": "failed", "error": {"message": "no GPU"}})
    assert (failed.state, failed.error) == ("failed", "no GPU")


async def test_failed_render_raises_with_reason(
    nemo_client: nemovideo.NemoClient, emulator: Emulator
) -> None:
    session, _ = await _session(nemo_client, emulator, seconds=2)
    emulator.render.fail_next("out of GPU memory")
    job = await session.export()
    with pytest.raises(nemovideo.RenderFailedError) as err:
        await job.wait()
    assert err.value.job_id == job.id and err.value.reason == "out of GPU memory"
    assert "out of GPU memory" in str(err.value)


async def test_failed_submit_is_retried_once_with_a_new_id(
    nemo_client: nemovideo.NemoClient, emulator: Emulator
) -> None:
    session, _ = await _session(nemo_client, emulator, seconds=2)
    emulator.faults.server_error(times=1, status=502, path=SUBMIT, method="POST")
    job = await session.export()
    first, second = (r.json["id"] for r in emulator.requests_to(SUBMIT, "POST"))
    assert first != second and job.id == second
    assert (await job.wait()).status == "completed"

    emulator.faults.server_error(times=2, status=503, path=SUBMIT, method="POST")
    with pytest.raises(nemovideo.ServerError):
        await session.export()
    assert len(emulator.requests_to(SUBMIT, "POST")) == 4, "one retry, not more"


async def test_timeout_names_the_job_and_a_fresh_client_resumes_it(
    emulator: Emulator, tmp_path: Path
) -> None:
    config_dir = tmp_path / "config"
    controls = emulator.render
    async with fast_client(emulator, config_dir, max_polls=3) as first:
        session, _ = await _session(first, emulator, seconds=2)
        controls.hold()
        job = await session.export()
        with pytest.raises(nemovideo.RenderTimeoutError) as err:
            await job.wait()
        assert (err.value.job_id, err.value.polls, err.value.status) == (job.id, 3, "processing")
        assert f"resume({job.id!r})" in str(err.value)
        assert len(emulator.requests_to(f"/lambda/{job.id}", "GET")) == 3
        job_id = job.id
    controls.release()
    async with fast_client(emulator, config_dir, max_polls=POLLS) as fresh:
        resumed = await fresh.renderer.resume(job_id)
        assert resumed.id == job_id
        result = await resumed.wait()
        assert result.status == "completed"
        path = await resumed.download(tmp_path / "resumed.mp4")
    assert probe_mp4(path).duration_s == pytest.approx(2.0, abs=0.05)


async def test_resume_unknown_job_fails_early(nemo_client: nemovideo.NemoClient) -> None:
    with pytest.raises(nemovideo.NotFoundError):
        await nemo_client.renderer.resume("render_404")
    with pytest.raises(nemovideo.ValidationError):
        await nemo_client.renderer.resume("  ")


async def test_blocked_plan_and_no_credits_are_told_apart(
    nemo_client: nemovideo.NemoClient, emulator: Emulator
) -> None:
    session, _ = await _session(nemo_client, emulator, seconds=2)
    emulator.block_exports()
    with pytest.raises(nemovideo.ExportBlockedError) as blocked:
        await session.export()
    assert "upgrade" in str(blocked.value).lower()
    assert len(emulator.requests_to(SUBMIT, "POST")) == 1, "402 is not retried"
    emulator.block_exports(blocked=False)
    emulator.faults.error(2001, path=SUBMIT, method="POST")
    with pytest.raises(nemovideo.InsufficientCreditsError) as broke:
        await session.export()
    assert broke.value.registration_url is not None
    assert f"register?bind={nemo_client.user_id}" in broke.value.registration_url


async def test_empty_draft_is_refused_before_sending(
    nemo_client: nemovideo.NemoClient, emulator: Emulator
) -> None:
    session = await nemo_client.create_session()
    with pytest.raises(nemovideo.ValidationError, match="Nothing to export"):
        await session.export()
    with pytest.raises(nemovideo.ValidationError):
        await session.export(draft=nemovideo.Draft.from_json({"t": [{"tt": 0, "sg": []}]}))
    assert emulator.requests_to(SUBMIT) == []


async def test_explicit_draft_is_submitted_as_given(
    nemo_client: nemovideo.NemoClient, emulator: Emulator
) -> None:
    session, draft = await _session(nemo_client, emulator, seconds=2)
    custom = {**draft, "t": draft["t"][:1], "x-unknown": {"kept": True}}
    job = await session.export(draft=nemovideo.Draft.from_json(custom), quality="low")
    (submit,) = emulator.requests_to(SUBMIT, "POST")
    assert submit.json["draft"] == custom and submit.json["output"]["quality"] == "low"
    assert (await job.wait()).url is not None


async def test_interrupted_download_leaves_nothing_and_a_retry_completes(
    nemo_client: nemovideo.NemoClient, emulator: Emulator, tmp_path: Path
) -> None:
    controls = emulator.render
    controls.cdn_missing = True
    job = await _finished_job(nemo_client, emulator)
    controls.truncate_downloads = 100
    out = tmp_path / "out"
    out.mkdir()
    target = out / "video.mp4"
    with pytest.raises(nemovideo.TransportError):
        await job.download(target)
    assert list(out.iterdir()) == [], "no partial file, no temp file"
    fallback = emulator.requests_to(f"/api/render/proxy/{job.id}/download", "GET")
    assert len(fallback) == 1 + nemo_client.config.max_retries
    assert all(r.headers["Authorization"].startswith("Bearer ") for r in fallback)
    assert [r.path for r in emulator.cdn_requests] == [f"/files/{job.id}.mp4"], "404: no retry"
    assert not any("Authorization" in r.headers for r in emulator.cdn_requests)

    controls.truncate_downloads = 1
    path = await job.download(target)
    assert path == target and probe_mp4(path).has_video
    assert filecmp.cmp(path, emulator.store.render_jobs[job.id]["path"], shallow=False)
    assert sorted(p.name for p in out.iterdir()) == ["video.mp4"]


async def test_server_file_name_cannot_escape_the_directory(
    nemo_client: nemovideo.NemoClient, emulator: Emulator, tmp_path: Path
) -> None:
    job = await _finished_job(nemo_client, emulator)
    evil = RenderResult(job.id, "completed", emulator.cdn_url + "/files/..%2F..%2Fevil.mp4")
    job.result = evil
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(nemovideo.ValidationError, match="outside"):
        await job.download(out)
    assert list(out.iterdir()) == [] and emulator.cdn_requests == []
    assert dl.server_file_name(None, "r.mp4") == "r.mp4"
    assert dl.server_file_name("https://cdn/x/video", "r.mp4") == "video.mp4"


async def test_cancel_stops_a_running_job(
    nemo_client: nemovideo.NemoClient, emulator: Emulator
) -> None:
    session, _ = await _session(nemo_client, emulator, seconds=2)
    emulator.render.hold()
    job = await session.export()
    status = await job.cancel()
    assert status.state == "failed" and job.status == "failed"
    with pytest.raises(nemovideo.RenderFailedError, match="cancelled"):
        await job.wait()


def test_result_shows_a_video_player_in_notebooks() -> None:
    result = RenderResult("render_1", "completed", 'https://cdn/x.mp4?a=1&b="2"', 10, 2.0)
    assert result._repr_html_().startswith('<video src="https://cdn/x.mp4?a=1&amp;b=&quot;2&quot;"')
    assert "render_1" in RenderResult("render_1", "failed", None)._repr_html_()


@pytest.mark.parametrize("shape", [1, 2, 3])
async def test_an_answer_without_a_status_is_not_a_job(
    nemo_client: nemovideo.NemoClient, emulator: Emulator, shape: int
) -> None:
    """Resuming must not hand back an ``unknown`` job for an answer that describes none."""
    await nemo_client.create_session()
    emulator.render.poll_shape = shape
    emulator.store.render_jobs["render_7"] = {
        "id": "render_7", "user_id": nemo_client.user_id, "status": None, "progress": None,
    }  # fmt: skip
    with pytest.raises(nemovideo.APIError, match="render_7: the poll answer has no status"):
        await nemo_client.renderer.resume("render_7")
    emulator.store.render_jobs["render_7"]["status"] = "processing"
    job = await nemo_client.renderer.resume("render_7")
    assert job.status == "processing"


async def test_download_into_a_path_under_a_file_names_the_path(
    nemo_client: nemovideo.NemoClient, emulator: Emulator, tmp_path: Path
) -> None:
    job = await _finished_job(nemo_client, emulator)
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file, not a folder")
    target = blocker / "videos" / "out.mp4"
    with pytest.raises(nemovideo.ValidationError) as info:
        await job.download(target)
    assert str(target) in str(info.value) and f"{blocker} is a file" in str(info.value)
    assert emulator.cdn_requests == [], "refused before downloading"
    assert blocker.read_text() == "a file, not a folder"


async def test_download_idle_wait_is_bounded_with_a_shared_http_session(
    emulator: Emulator, tmp_path: Path
) -> None:
    """Downloads have no total timeout, but waiting for bytes is bounded by ``request_timeout``,
    whatever the caller's own ``aiohttp.ClientSession`` would allow."""
    async with aiohttp.ClientSession() as shared:
        config = nemovideo.ClientConfig(
            base_url=emulator.url, config_dir=tmp_path / "config", request_timeout=0.3,
            max_retries=0, poll_interval=0.01, max_polls=POLLS,
        )  # fmt: skip
        async with nemovideo.NemoClient(config=config, http_session=shared) as client:
            emulator.render.cdn_missing = True
            job = await _finished_job(client, emulator, seconds=1)
            fallback = f"/api/render/proxy/{job.id}/download"
            emulator.faults.delay(2.0, path=fallback)
            out = tmp_path / "downloads"
            with pytest.raises(nemovideo.TransportError, match="timed out"):
                await job.download(out / "video.mp4")
            assert [f.path for f in emulator.faults.fired] == [fallback]
            assert list(out.iterdir()) == [], "no partial file"


async def test_a_job_id_the_server_makes_up_is_refused_before_any_poll(tmp_path: Path) -> None:
    """A render service answering ``{"id": "../../credits"}`` gets no request sent to that path."""
    web = aiohttp.web
    seen: list[str] = []

    async def submit(request: web.Request) -> web.Response:
        seen.append(request.path)
        return web.json_response(
            {"success": True, "data": {"id": "../../credits", "status": "pending"}}
        )

    async def anything(request: web.Request) -> web.Response:
        seen.append(request.path)
        return web.json_response({"code": 0, "data": {}})

    app = web.Application()
    app.router.add_post("/api/render/proxy/lambda", submit)
    app.router.add_route("*", "/{tail:.*}", anything)
    async with (
        serving(app) as url,
        nemovideo.NemoClient(base_url=url, config_dir=tmp_path, token="nmv_usr_x") as client,
    ):
        draft = nemovideo.Draft.from_json(make_draft([title_track("Hi", 1000)]))
        with pytest.raises(nemovideo.APIError, match="unusable job id"):
            await client.renderer.export("5529798706024415232", draft=draft)
    assert seen == ["/api/render/proxy/lambda"], "nothing but the submit reached the server"
