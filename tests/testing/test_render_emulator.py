"""The emulator's render proxy with a raw aiohttp client: job states, shapes, refusals, faults."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from nemovideo.testing import Emulator
from nemovideo.testing._render import ffmpeg as _ffmpeg
from nemovideo.testing._render.ffmpeg import make_sample_image, render_draft
from nemovideo.testing.drafts import make_draft, title_track, video_track
from nemovideo.testing.mp4probe import probe_mp4

ATTRIBUTION = {"X-Skill-Source": "t", "X-Skill-Version": "1", "X-Skill-Platform": "unknown"}
SUBMIT = "/api/render/proxy/lambda"


class Raw:
    def __init__(self, http: aiohttp.ClientSession, emu: Emulator) -> None:
        self.http, self.emu, self.token = http, emu, ""

    async def call(self, method: str, path: str, **kw: Any) -> tuple[int, Any]:
        headers = {**ATTRIBUTION, "Authorization": f"Bearer {self.token}", **kw.pop("headers", {})}
        async with self.http.request(method, self.emu.url + path, headers=headers, **kw) as resp:
            raw = await resp.read()
            return resp.status, json.loads(raw) if "json" in resp.content_type else raw

    async def login(self) -> str:
        async with self.http.post(self.emu.url + "/api/auth/anonymous-token",
                                  headers={"X-Client-Id": str(uuid.uuid4())}) as resp:  # fmt: skip
            self.token = (await resp.json())["data"]["token"]
        _, body = await self.call("POST", "/api/tasks/me/with-session/nemo_agent", json={})
        sid: str = body["data"]["session_id"]
        return sid


@pytest.fixture
async def raw(emulator: Emulator) -> AsyncIterator[Raw]:
    controls = emulator.render
    controls.width, controls.height, controls.fps = 160, 90, 10
    async with aiohttp.ClientSession() as http:
        yield Raw(http, emulator)


async def _draft(emu: Emulator, seconds: int = 2, src_missing: bool = False) -> dict[str, Any]:
    await make_sample_image(emu.files_dir / "m_aa.png", "A", 64, 36)
    url = emu.cdn_file_url("m_gone.png" if src_missing else "m_aa.png")
    media = [{"media_id": "m_aa", "name": "a.png", "url": url, "kind": "image"}]
    return make_draft([video_track(media, seconds * 1000), title_track("Hi", 1000)])


async def _poll_until_done(raw: Raw, job_id: str) -> list[dict[str, Any]]:
    seen = []
    for _ in range(3000):  # up to a minute on a slow machine
        _, body = await raw.call("GET", f"{SUBMIT}/{job_id}")
        seen.append(body.get("data", body))
        if seen[-1]["status"] in ("completed", "failed"):
            return seen
        await asyncio.sleep(0.02)
    raise AssertionError("the job never finished")


async def test_job_goes_pending_processing_completed(raw: Raw, emulator: Emulator) -> None:
    sid = await raw.login()
    controls = emulator.render
    controls.pending_s = 0.05
    controls.hold()
    job = {"id": "render_1", "sessionId": sid, "draft": await _draft(emulator), "output": {}}
    status, body = await raw.call("POST", SUBMIT, json=job)
    assert (status, body) == (200, {"success": True, "data": {"id": "render_1", "status": "pending", "progress": 5}})  # fmt: skip
    _, first = await raw.call("GET", f"{SUBMIT}/render_1")
    assert first["data"]["status"] == "pending"
    for _ in range(3000):
        if (await raw.call("GET", f"{SUBMIT}/render_1"))[1]["data"]["status"] != "pending":
            break
        await asyncio.sleep(0.02)
    for _ in range(40):
        _, held = await raw.call("GET", f"{SUBMIT}/render_1")
        assert held["data"]["status"] == "processing" and "outputUrl" not in held["data"]
        if held["data"]["progress"] == 95:
            break
        await asyncio.sleep(0.01)
    controls.release()
    seen = await _poll_until_done(raw, "render_1")
    progress = [s["progress"] for s in seen]
    assert progress == sorted(progress) and progress[-1] == 100
    done = seen[-1]
    assert done["outputUrl"] == emulator.cdn_file_url("render_1.mp4")
    assert {"createdAt", "completedAt"} <= set(done)
    info = probe_mp4(emulator.files_dir / "render_1.mp4")
    assert info.duration_s == pytest.approx(2.0, abs=0.05) and (info.width, info.height) == (
        160,
        90,
    )
    assert not info.has_audio, "no audio track in the draft, no audio stream"
    assert emulator.user_for_token(raw.token).credits_available == 100, "export is free"


@pytest.mark.parametrize("shape", [2, 3])
async def test_other_poll_shapes(raw: Raw, emulator: Emulator, shape: int) -> None:
    sid = await raw.login()
    emulator.render.poll_shape = shape
    await raw.call(
        "POST", SUBMIT, json={"id": "r2", "sessionId": sid, "draft": await _draft(emulator)}
    )
    done = (await _poll_until_done(raw, "r2"))[-1]
    assert "success" not in done and "data" not in done
    assert done["output"]["url"] == emulator.cdn_file_url("r2.mp4")
    if shape == 3:
        assert done["taskId"] == "r2" and done["output"]["duration"] == 2.0
        assert done["output"]["size"] == (emulator.files_dir / "r2.mp4").stat().st_size


async def test_refusals(raw: Raw, emulator: Emulator) -> None:
    sid = await raw.login()
    draft = await _draft(emulator)
    status, body = await raw.call(
        "POST", SUBMIT, json={"id": "e", "sessionId": sid, "draft": {"t": []}}
    )
    assert status == 422 and body["success"] is False and "empty" in body["error"]
    status, body = await raw.call("POST", SUBMIT, json={"id": "s", "sessionId": sid})
    assert status == 400 and "draft" in body["error"], "the draft is part of the request"
    status, body = await raw.call(
        "POST", SUBMIT, json={"sessionId": sid, "draft": draft}, headers={"X-Skill-Source": ""}
    )
    assert body["code"] == 402
    emulator.block_exports()
    assert (await raw.call("POST", SUBMIT, json={"sessionId": sid, "draft": draft}))[1][
        "code"
    ] == 402
    emulator.block_exports(blocked=False)
    assert (await raw.call("POST", SUBMIT, json={"id": "u", "sessionId": "1", "draft": draft}))[1][
        "code"
    ] == 1002
    assert emulator.store.render_jobs == {}
    status, body = await raw.call("GET", f"{SUBMIT}/nope")
    assert status == 404 and body == {"success": False, "error": "Render job not found: nope"}


async def test_failure_missing_source_and_fallback_download(raw: Raw, emulator: Emulator) -> None:
    sid = await raw.login()
    emulator.render.fail_next("boom")
    await raw.call(
        "POST", SUBMIT, json={"id": "f", "sessionId": sid, "draft": await _draft(emulator)}
    )
    failed = (await _poll_until_done(raw, "f"))[-1]
    assert (failed["status"], failed["error"]) == ("failed", "boom")
    assert (await raw.call("GET", "/api/render/proxy/f/download"))[0] == 404

    draft = await _draft(emulator, src_missing=True)
    await raw.call("POST", SUBMIT, json={"id": "p", "sessionId": sid, "draft": draft})
    assert (await _poll_until_done(raw, "p"))[-1]["status"] == "completed"
    status, data = await raw.call("GET", "/api/render/proxy/p/download")
    assert status == 200 and data == (emulator.files_dir / "p.mp4").read_bytes()
    raw.token = "nmv_usr_someone_else"
    assert (await raw.call("GET", "/api/render/proxy/p/download"))[1]["code"] == 1001


async def test_video_segments_and_close_with_a_running_job(tmp_path: Path) -> None:
    clip = await render_draft(
        make_draft([video_track([{"media_id": "m_x", "url": "x.png"}], 1000)]),
        tmp_path, tmp_path / "m_clip.mp4", width=64, height=36, fps=10,
    )  # fmt: skip
    media = [{"media_id": "m_clip", "url": f"http://cdn/files/{clip.name}", "kind": "video"}]
    out = await render_draft(make_draft([video_track(media, 2500)]), tmp_path, tmp_path / "v.mp4",
                             width=96, height=54, fps=10)  # fmt: skip
    assert probe_mp4(out).duration_s == pytest.approx(2.5, abs=0.05), "a short clip is looped"
    with pytest.raises(ValueError):
        await render_draft({"t": []}, tmp_path, tmp_path / "e.mp4")

    async with Emulator() as emu, aiohttp.ClientSession() as http:
        raw = Raw(http, emu)
        emu.render.hold()
        sid = await raw.login()
        await raw.call(
            "POST", SUBMIT, json={"id": "h", "sessionId": sid, "draft": await _draft(emu)}
        )
    assert emu.store.render_jobs["h"]["status"] == "failed", "closing cancels running renders"


def _fake_ffmpeg(tmp_path: Path, stalls: int) -> Path:
    """An "ffmpeg" that stalls on its first ``stalls`` runs (the first one silent, later ones
    repeating the same progress block as the real deadlock does), then succeeds and writes its
    output (its last argument)."""
    script = tmp_path / "ffmpeg"
    script.write_text(
        "#!/bin/sh\n"
        f'n=$(cat "{tmp_path}/runs" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > "{tmp_path}/runs"\n'
        f'if [ "$n" -eq 1 ] && [ "$n" -le {stalls} ]; then exec sleep 60; fi\n'
        f'while [ "$n" -le {stalls} ]; do echo "frame=300"; echo "progress=continue"; '
        "sleep 0.02; done\n"
        'echo "out_time_us=1000000"; echo "progress=end"\n'
        'for out; do :; done; : > "$out"\n'
    )
    script.chmod(0o755)
    return script


@pytest.mark.parametrize(("stalls", "succeeds"), [(2, True), (3, False)])
async def test_a_stalled_ffmpeg_is_killed_and_run_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stalls: int, succeeds: bool
) -> None:
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(_fake_ffmpeg(tmp_path, stalls)))
    monkeypatch.setattr(_ffmpeg, "STALL_S", 0.2)
    seen: list[float] = []
    draft = make_draft([video_track([{"media_id": "m_x", "url": "x.png"}], 2000)])
    out = tmp_path / "out.mp4"
    if succeeds:
        await render_draft(draft, tmp_path, out, progress=seen.append)
        assert seen == [0.5] and out.is_file()
    else:
        with pytest.raises(_ffmpeg.RenderError, match=r"stalled .* in 3 attempts"):
            await render_draft(draft, tmp_path, out, progress=seen.append)
        assert not out.exists()
    assert int((tmp_path / "runs").read_text()) == min(stalls + 1, _ffmpeg.ATTEMPTS)
