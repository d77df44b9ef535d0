"""The emulator against PROTOCOL.md: headers, claim links, error statuses and uploads (raw wire)."""

from __future__ import annotations

import hashlib
import io
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from nemovideo.testing import Emulator, sample_images
from nemovideo.testing._render.ffmpeg import make_sample_image, render_draft
from nemovideo.testing._server.store import STATUS_FOR_CODE
from nemovideo.testing.drafts import make_draft, video_track

from ..conftest import serving
from ._wire import ATTRIBUTION, SUBMIT, Wire

DOCUMENTED_FIELDS = [
    "filename",
    "file_type",
    "cdn_url",
    "duration",
    "width",
    "height",
    "fps",
    "hash",
]


@pytest.fixture
async def wire(emulator: Emulator) -> AsyncIterator[Wire]:
    async with aiohttp.ClientSession() as http:
        yield await Wire(http, emulator).login()


def upload_path(wire: Wire) -> str:
    return f"/api/upload-video/nemo_agent/me/{wire.sid}"


# -- headers, claim links, statuses -------------------------------------------------------------


@pytest.mark.parametrize("style", ["body", "status"])
async def test_attribution_headers_gate_export_and_only_export(
    wire: Wire, emulator: Emulator, style: str
) -> None:
    emulator.error_style = style
    plain = {"attribution": False}
    for method, path, kw in [
        ("GET", "/api/credits/balance/simple", {}),
        ("GET", f"/api/state/nemo_agent/me/{wire.sid}/latest", {}),
        ("POST", "/api/tasks/me/with-session/nemo_agent", {"json": {"task_name": "project"}}),
        ("POST", "/api/auth/claim-token", {"json": {"task_id": wire.task_id,
                                                    "session_id": wire.sid}}),
        ("POST", upload_path(wire), {"json": {"urls": ["https://example.com/c.jpg"],
                                              "source_type": "url"}}),
    ]:  # fmt: skip
        status, body, _ = await wire.call(method, path, **plain, **kw)
        assert (status, body["code"]) == (200, 0), path
    status, _, _ = await wire.call("POST", "/run_sse", json=wire.chat_body("hello"), **plain)
    assert status == 200
    draft = make_draft([video_track([{"media_id": "m_a", "url": "a.png"}], 1000)])
    job = {"sessionId": wire.sid, "draft": draft, "output": {"format": "mp4"}}
    for n, name in enumerate(ATTRIBUTION):
        for value in (None, " "):
            headers = {k: v for k, v in ATTRIBUTION.items() if k != name}
            if value is not None:
                headers[name] = value
            status, body, _ = await wire.call(
                "POST", SUBMIT, json={**job, "id": f"r{n}"}, attribution=False, headers=headers
            )
            assert (status, body["code"]) == ((200 if style == "body" else 402), 402), name
    assert emulator.store.render_jobs == {}
    status, body, _ = await wire.call("POST", SUBMIT, json={**job, "id": "ok"})
    assert (status, body["success"]) == (200, True)


async def test_claim_token_needs_both_ids_of_the_session(wire: Wire) -> None:
    both = {"task_id": wire.task_id, "session_id": wire.sid}
    for body in ({"session_id": wire.sid}, {"task_id": wire.task_id}, {}):
        _, answer, _ = await wire.call("POST", "/api/auth/claim-token", json=body)
        assert answer["code"] == 1002, body
    _, answer, _ = await wire.call("POST", "/api/auth/claim-token", json=both)
    assert answer["code"] == 0 and answer["data"]["claim_token"].startswith("clm_")
    assert set(answer["data"]) == {"claim_token", "expires_in"}


@pytest.mark.parametrize("code", sorted(STATUS_FOR_CODE))
async def test_statuses_are_the_documented_ones_with_or_without_a_body(
    wire: Wire, emulator: Emulator, code: int
) -> None:
    assert STATUS_FOR_CODE[code] in (400, 401, 402, 404, 429)
    emulator.error_style = "status"
    emulator.faults.error(code, path="/api/credits")
    status, body, _ = await wire.call("GET", "/api/credits/balance/simple")
    assert (status, body["code"]) == (STATUS_FOR_CODE[code], code)
    emulator.error_style = "body"
    emulator.faults.error(code, path="/api/credits", body=False)
    status, body, headers = await wire.call("GET", "/api/credits/balance/simple")
    assert status == STATUS_FOR_CODE[code] and headers["Content-Type"].startswith("text/plain")
    assert body.decode().startswith(str(status))


# -- uploads -------------------------------------------------------------------------------------


def wav_bytes(seconds: float = 0.5, rate: int = 8000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(2 * int(rate * seconds)))
    return out.getvalue()


async def test_multipart_answer_has_the_documented_fields_measured(
    wire: Wire, emulator: Emulator, tmp_path: Path
) -> None:
    png = await make_sample_image(tmp_path / "a.png", "A", 64, 36)
    gif = await make_sample_image(tmp_path / "g.gif", "G", 48, 20)
    clip = make_draft([video_track([{"media_id": "m_x", "url": "x.png"}], 1000)])
    mp4 = await render_draft(clip, tmp_path, tmp_path / "v.mp4", width=64, height=36, fps=10)
    jpeg = sample_images()[0].read_bytes()
    form = aiohttp.FormData()
    for name, data in [
        ("a.png", png.read_bytes()),
        ("g.gif", gif.read_bytes()),
        ("v.mp4", mp4.read_bytes()),
        ("s.wav", wav_bytes()),
        ("photo", jpeg),
    ]:
        form.add_field("files", data, filename=name)  # fmt: skip
    _, body, _ = await wire.call("POST", upload_path(wire), data=form)
    assert body["code"] == 0 and body["data"]["session_state_applied"] is True
    files = body["data"]["files"]
    assert all(list(f) == DOCUMENTED_FIELDS for f in files), "no undocumented fields"
    measured = [(f["file_type"], f["width"], f["height"], f["duration"], f["fps"]) for f in files]
    assert measured == [
        ("image", 64, 36, None, None),
        ("image", 48, 20, None, None),
        ("video", 64, 36, pytest.approx(1.0, abs=0.05), pytest.approx(10, abs=0.5)),
        ("audio", None, None, 0.5, None),
        ("image", 640, 360, None, None),
    ]
    assert files[4]["filename"] == "photo", "an extensionless name is judged by its content"
    assert files[4]["hash"] == hashlib.sha256(jpeg).hexdigest()[:32]
    assert emulator.session(wire.sid).state["video_infos"] == files

    form = aiohttp.FormData()
    form.add_field("files", jpeg, filename="ok.jpg")
    form.add_field("files", b"just some notes", filename="notes")
    _, body, _ = await wire.call("POST", upload_path(wire), data=form)
    assert body["code"] == 4001 and "Supported formats" in body["message"]
    assert len(list(emulator.files_dir.iterdir())) == len(files), "a refused upload leaves nothing"


@pytest.fixture
async def origin() -> AsyncIterator[tuple[str, list[str]]]:
    """Another loopback web server: an extensionless image, redirects, an HTML page."""
    seen: list[str] = []
    jpeg = sample_images()[1].read_bytes()

    async def handle(request: web.Request) -> web.StreamResponse:
        seen.append(request.path_qs)
        redirects = {"/hop": "/img", "/away": "http://192.0.2.1/a.jpg"}
        if request.path in redirects:
            raise web.HTTPFound(redirects[request.path])
        if request.path == "/img":
            return web.Response(body=jpeg, content_type="image/jpeg")
        if request.path == "/page":
            return web.Response(text="<!doctype html><p>hi</p>", content_type="text/html")
        raise web.HTTPNotFound()

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    async with serving(app) as url:
        yield url, seen


async def test_url_uploads_are_fetched_only_offline_and_judged_by_content(
    wire: Wire, emulator: Emulator, origin: tuple[str, list[str]]
) -> None:
    base, seen = origin
    port = base.rsplit(":", 1)[1]
    jpeg = sample_images()[0].read_bytes()
    (emulator.files_dir / "mine.jpg").write_bytes(jpeg)
    emulator.fake_url("https://img.example.com/photo?id=3", jpeg)
    urls = [
        emulator.cdn_file_url("mine.jpg"),
        f"{base}/img?id=7",
        f"http://localhost:{port}/hop",
        "https://img.example.com/photo?id=3",
        "https://example.com/c.jpg",
    ]
    _, body, _ = await wire.call(
        "POST", upload_path(wire), json={"urls": urls, "source_type": "url"}
    )
    files = body["data"]["files"]
    assert all(list(f) == DOCUMENTED_FIELDS for f in files)
    assert [(f["file_type"], f["width"]) for f in files] == [("image", 640)] * 4 + [("image", None)]
    assert all(f["cdn_url"].startswith(emulator.cdn_url + "/files/") for f in files[:4])
    assert files[4]["cdn_url"] == urls[4], "a real-network URL is never fetched, kept as given"
    assert files[0]["hash"] == hashlib.sha256(jpeg).hexdigest()[:32]
    assert seen == ["/img?id=7", "/hop", "/img"]
    async with wire.http.get(files[3]["cdn_url"]) as resp:
        assert await resp.read() == jpeg, "fetched content is re-hosted on the emulator's CDN"

    stored = len(list(emulator.files_dir.iterdir()))
    for url, why in [
        (f"{base}/page", "not a supported media format"),
        (f"{base}/missing.jpg", "HTTP 404"),
        (f"{base}/away", "real network"),
        ("https://img.example.com/other?id=4", "fake_url"),
        ("ftp://example.com/a.jpg", "http(s)"),
    ]:
        _, body, _ = await wire.call(
            "POST", upload_path(wire), json={"urls": [urls[1], url], "source_type": "url"}
        )
        assert body["code"] == 4001 and why in body["message"], url
    assert [p for p in seen[3:] if p != "/img?id=7"] == ["/page", "/missing.jpg", "/away"]
    assert len(list(emulator.files_dir.iterdir())) == stored, "refused batches leave no file"
    _, body, _ = await wire.call("POST", upload_path(wire), json={"urls": [urls[1]]})
    assert body["code"] == 4001 and "source_type" in body["message"]


async def test_url_content_over_the_limit_is_4002(tmp_path: Path) -> None:
    async with Emulator(max_upload_bytes=100) as emu, aiohttp.ClientSession() as http:
        wire = await Wire(http, emu).login()
        emu.fake_url("https://example.com/big", tmp_path / "big.jpg")
        (tmp_path / "big.jpg").write_bytes(b"\xff\xd8\xff" + bytes(98))
        _, body, _ = await wire.call(
            "POST", upload_path(wire),
            json={"urls": ["https://example.com/big"], "source_type": "url"},
        )  # fmt: skip
        assert body["code"] == 4002 and "100 bytes" in body["message"]
        assert list(emu.files_dir.iterdir()) == []
