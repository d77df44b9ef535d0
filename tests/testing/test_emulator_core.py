"""The emulator's core over real loopback sockets, with a raw aiohttp client (no SDK code)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from nemovideo.cli import main as cli_main
from nemovideo.testing import Emulator, Faults, RecordedRequest
from nemovideo.testing.__main__ import main, serve
from nemovideo.testing.drafts import example_draft

ATTRIBUTION = {"X-Skill-Source": "test-skill", "X-Skill-Version": "1.0.0", "X-Skill-Platform": "unknown"}  # fmt: skip
TOKEN_PATH = "/api/auth/anonymous-token"
SESSION_PATH = "/api/tasks/me/with-session/nemo_agent"
CREDITS_PATH = "/api/credits/balance/simple"


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


class Api:
    """Just enough of a client to drive the emulator: returns (status, JSON body, headers)."""

    def __init__(self, http: aiohttp.ClientSession, emu: Emulator) -> None:
        self.http, self.emu = http, emu

    async def call(
        self,
        method: str,
        path: str,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        **kw: Any,
    ) -> tuple[int, Any, Any]:
        hdrs = {**ATTRIBUTION, **(headers or {})}
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        async with self.http.request(method, self.emu.url + path, headers=hdrs, **kw) as resp:
            raw = await resp.read()
            body = json.loads(raw) if "json" in resp.content_type else raw
            return resp.status, body, resp.headers

    async def token(self, client_id: str | None = None) -> dict[str, Any]:
        status, body, _ = await self.call(
            "POST", TOKEN_PATH, headers={"X-Client-Id": client_id or str(uuid.uuid4())}
        )
        assert status == 200 and body["code"] == 0, body
        data: dict[str, Any] = body["data"]
        return data

    async def session(self, token: str) -> dict[str, Any]:
        status, body, _ = await self.call(
            "POST", SESSION_PATH, token, json={"task_name": "project", "language": "en"}
        )
        assert status == 200 and body["code"] == 0, body
        data: dict[str, Any] = body["data"]
        return data


@pytest.fixture
def api(http: aiohttp.ClientSession, emulator: Emulator) -> Api:
    return Api(http, emulator)


# -- auth -------------------------------------------------------------------------------------


async def test_token_issue_quota_and_reissue_after_expiry(api: Api, emulator: Emulator) -> None:
    cid = str(uuid.uuid4())
    first = await api.token(cid)
    assert first["token"].startswith("nmv_usr_") and first["user_id"].startswith("anon_")
    assert first["credits"] == 100
    assert first["expires_at"].endswith("Z")
    lifetime = datetime.fromisoformat(first["expires_at"].replace("Z", "+00:00")).timestamp()
    assert lifetime - emulator.requests[-1].time == pytest.approx(7 * 24 * 3600, abs=5)

    status, body, headers = await api.call("POST", TOKEN_PATH, headers={"X-Client-Id": cid})
    assert (status, body["code"]) == (429, 429)
    assert 0 < int(headers["Retry-After"]) <= 7 * 24 * 3600

    other = await api.token()
    assert other["user_id"] != first["user_id"]

    emulator.set_credits(first["user_id"], 42)
    emulator.faults.expire_tokens()
    status, body, _ = await api.call("GET", CREDITS_PATH, first["token"])
    assert body["code"] == 1001
    again = await api.token(cid)
    assert again["user_id"] == first["user_id"] and again["credits"] == 42
    assert again["token"] != first["token"]
    user = emulator.user_for_token(again["token"])
    assert user is not None and user.user_id == first["user_id"]
    assert emulator.user_for_token(first["token"]) is None


async def test_natural_expiry_reissues_for_the_same_user(http: aiohttp.ClientSession) -> None:
    async with Emulator(token_ttl=0.0, error_style="status") as emu:
        api = Api(http, emu)
        first = await api.token("cid-1")
        status, body, _ = await api.call("GET", CREDITS_PATH, first["token"])
        assert (status, body["code"]) == (401, 1001)
        assert (await api.token("cid-1"))["user_id"] == first["user_id"]


@pytest.mark.parametrize("style", ["body", "status"])
async def test_missing_client_id_is_http_400(api: Api, emulator: Emulator, style: str) -> None:
    emulator.error_style = style
    status, body, _ = await api.call("POST", TOKEN_PATH)
    assert (status, body["code"], body["message"]) == (400, 400, "Missing X-Client-Id header")


@pytest.mark.parametrize(("style", "http_status"), [("body", 200), ("status", 401)])
async def test_bad_missing_or_expired_token_is_1001(
    api: Api, emulator: Emulator, style: str, http_status: int
) -> None:
    emulator.error_style = style
    tok = (await api.token())["token"]
    for token in (None, "nmv_usr_nope"):
        status, body, _ = await api.call("GET", CREDITS_PATH, token)
        assert (status, body["code"]) == (http_status, 1001) and body["message"]
    assert (await api.call("GET", CREDITS_PATH, tok))[1]["code"] == 0
    status, body, _ = await api.call("GET", CREDITS_PATH, headers={"Authorization": "Basic " + tok})
    assert body["code"] == 1001


# -- sessions, state, credits -----------------------------------------------------------------


async def test_session_create_state_and_claim(api: Api, emulator: Emulator) -> None:
    tok = await api.token()
    sess = await api.session(tok["token"])
    sid = sess["session_id"]
    assert sid.isdigit() and len(sid) == 19 and sess["task_id"].startswith("task_")
    assert sess["user_id"] == tok["user_id"]
    assert emulator.session(sid).user_id == tok["user_id"] and sid in emulator.sessions

    _, body, _ = await api.call("GET", f"/api/state/nemo_agent/me/{sid}/latest", tok["token"])
    data = body["data"]
    assert (data["session_id"], data["task_id"], data["task_name"]) == (
        sid,
        sess["task_id"],
        "project",
    )
    assert data["state"] == {
        "draft": {
            "t": [],
            "d": 0,
            "m": {"title": "project", "width": 1920, "height": 1080, "fps": 30},
        },
        "video_infos": [],
        "canvas_config": {"width": 1920, "height": 1080, "aspect_ratio": "16:9"},
        "generated_media": [],
        "video_analyses": {},
    }
    claim_body = {"task_id": sess["task_id"], "session_id": sid}
    _, body, _ = await api.call("POST", "/api/auth/claim-token", tok["token"], json=claim_body)
    assert body["data"]["claim_token"].startswith("clm_") and body["data"]["expires_in"] == 604800
    _, body, _ = await api.call(
        "POST", "/api/auth/claim-token", tok["token"], json={**claim_body, "task_id": "task_x"}
    )
    assert body["code"] == 1002


async def test_1002_for_unknown_dropped_and_foreign_sessions(api: Api, emulator: Emulator) -> None:
    mine, theirs = (await api.token())["token"], (await api.token())["token"]
    sid = (await api.session(mine))["session_id"]
    state = f"/api/state/nemo_agent/me/{sid}/latest"
    assert (await api.call("GET", state, mine))[1]["code"] == 0
    assert (await api.call("GET", "/api/state/nemo_agent/me/1234567890123456789/latest", mine))[1][
        "code"
    ] == 1002
    for method, path, kw in [
        ("GET", state, {}),
        ("POST", "/api/auth/claim-token", {"json": {"session_id": sid}}),
        (
            "POST",
            f"/api/upload-video/nemo_agent/me/{sid}",
            {"json": {"urls": ["https://x.test/a.jpg"]}},
        ),
        (
            "POST",
            "/run_sse",
            {
                "json": {
                    "app_name": "nemo_agent",
                    "user_id": "me",
                    "session_id": sid,
                    "new_message": {"parts": [{"text": "hi"}]},
                }
            },
        ),
    ]:
        assert (await api.call(method, path, theirs, **kw))[1]["code"] == 1002, path
    emulator.error_style = "status"
    emulator.faults.drop_session(sid)
    status, body, _ = await api.call("GET", state, mine)
    assert (status, body["code"]) == (404, 1002)


async def test_credits_total_is_available_plus_frozen(api: Api, emulator: Emulator) -> None:
    tok = await api.token()
    user = emulator.user_for_token(tok["token"])
    assert user is not None
    user.credits_frozen = 30
    emulator.set_credits(user.user_id, 50)
    _, body, _ = await api.call("GET", CREDITS_PATH, tok["token"])
    assert body["data"] == {"available": 50, "frozen": 30, "total": 80}
    emulator.set_credits(None, 7)
    assert (await api.token())["credits"] == 7


# -- error styles and faults ------------------------------------------------------------------

CODES_BY_STATUS = {
    400: (4001, 4002, 400),
    401: (1001,),
    402: (2001, 402),
    404: (1002,),
    429: (429,),
}
"""The protocol's table, read from the other side (each HTTP status and the codes it carries); a
5xx code is sent as its own status."""
STATUS_OF = {code: status for status, codes in CODES_BY_STATUS.items() for code in codes}
STATUS_OF[503] = 503


@pytest.mark.parametrize("style", ["body", "status"])
async def test_error_fault_in_both_styles(api: Api, emulator: Emulator, style: str) -> None:
    tok = (await api.token())["token"]
    emulator.error_style = style
    for code, http_status in STATUS_OF.items():
        emulator.faults.error(code, path=CREDITS_PATH, message=f"boom {code}")
        status, body, headers = await api.call("GET", CREDITS_PATH, tok)
        assert status == (200 if style == "body" else http_status)
        assert (body["code"], body["message"]) == (code, f"boom {code}")
        assert "Retry-After" not in headers
        if code == 1001:
            tok = (await api.token())["token"]
    assert [f.options["code"] for f in emulator.faults.fired] == list(STATUS_OF)
    assert emulator.error_response(2001, "x", status=418, user_id="u").status == 418


async def test_1001_fault_expires_the_presented_token(api: Api, emulator: Emulator) -> None:
    cid = str(uuid.uuid4())
    tok = await api.token(cid)
    emulator.faults.error(1001, times=1)
    assert (await api.call("GET", CREDITS_PATH, tok["token"]))[1]["code"] == 1001
    assert (await api.token(cid))["user_id"] == tok["user_id"]


async def test_each_fault_kind_fires_exactly_times(api: Api, emulator: Emulator) -> None:
    tok = (await api.token())["token"]
    faults: Faults = emulator.faults

    async def codes(n: int) -> list[tuple[int, Any]]:
        out = []
        for _ in range(n):
            status, body, headers = await api.call("GET", CREDITS_PATH, tok)
            out.append((status, body["code"] if isinstance(body, dict) else body))
            if status == 429:
                assert headers["Retry-After"] == "0.25"
        return out

    faults.rate_limit(times=2, retry_after=0.25, path="/api/credits")
    assert await codes(3) == [(429, 429), (429, 429), (200, 0)]
    faults.server_error(times=2, status=502)
    faults.server_error(times=1, status=504, body=False)
    assert await codes(4) == [(502, 502), (502, 502), (504, b"504 Gateway timeout"), (200, 0)]
    faults.delay(0.001, times=2, path="/api/credits")
    faults.error(2001, times=1)
    assert await codes(3) == [(200, 2001), (200, 0), (200, 0)]
    assert [f.kind for f in faults.fired[-3:]] == ["delay", "error", "delay"]
    assert sum(f.kind == "delay" for f in faults.fired) == 2
    assert sum(f.kind == "rate_limit" for f in faults.fired) == 2
    assert sum(f.kind == "server_error" for f in faults.fired) == 3
    assert faults.pending == []

    faults.error(503, times=1, method="POST")
    faults.error(503, times=1, path="/never/matches")
    assert await codes(1) == [(200, 0)]
    assert len(faults.pending) == 2
    faults.clear()
    assert faults.pending == []
    with pytest.raises(ValueError, match="times"):
        faults.error(503, times=0)


async def test_path_none_spares_the_token_call_unless_named(api: Api, emulator: Emulator) -> None:
    emulator.faults.error(503, times=1)
    await api.token()
    assert emulator.faults.pending and not emulator.faults.fired
    emulator.faults.clear()
    emulator.faults.server_error(times=1, path=TOKEN_PATH)
    status, _, _ = await api.call("POST", TOKEN_PATH, headers={"X-Client-Id": "x"})
    assert status == 503


async def test_reset_connection_is_a_client_side_disconnect(api: Api, emulator: Emulator) -> None:
    tok = (await api.token())["token"]
    emulator.faults.reset_connection(times=1, path=SESSION_PATH)
    with pytest.raises((aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)):
        await api.call("POST", SESSION_PATH, tok, json={})
    await api.session(tok)
    assert len(emulator.requests_to(SESSION_PATH)) == 2

    # aiohttp's client re-sends an idempotent request once when the connection is cut.
    emulator.faults.reset_connection(times=1, method="GET")
    assert (await api.call("GET", CREDITS_PATH, tok))[0] == 200
    assert len(emulator.requests_to(CREDITS_PATH)) == 2
    emulator.faults.reset_connection(times=2, method="GET")
    with pytest.raises((aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)):
        await api.call("GET", CREDITS_PATH, tok)
    assert len(emulator.requests_to(CREDITS_PATH)) == 4
    assert [f.kind for f in emulator.faults.fired] == ["reset_connection"] * 4
    assert (await api.call("GET", CREDITS_PATH, tok))[0] == 200


# -- upload, CDN, chat, render ----------------------------------------------------------------


async def test_upload_urls_round_trip(api: Api, emulator: Emulator) -> None:
    tok = (await api.token())["token"]
    sid = (await api.session(tok))["session_id"]
    path = f"/api/upload-video/nemo_agent/me/{sid}"
    urls = ["https://example.com/c.jpg", "https://example.com/v/clip.MP4?x=1"]
    _, body, _ = await api.call("POST", path, tok, json={"urls": urls, "source_type": "url"})
    files = body["data"]["files"]
    assert body["data"]["session_state_applied"] is True
    assert [(f["filename"], f["file_type"], f["cdn_url"]) for f in files] == [
        ("c.jpg", "image", urls[0]), ("clip.MP4", "video", urls[1])
    ]  # fmt: skip
    assert {"duration", "width", "height", "fps", "hash"} <= set(files[0])
    assert emulator.session(sid).state["video_infos"] == files
    _, body, _ = await api.call("POST", path, tok, json={"urls": ["https://example.com/a.exe"]})
    assert body["code"] == 4001


async def test_multipart_upload_and_cdn_range_without_auth(
    api: Api, emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    tok = (await api.token())["token"]
    sid = (await api.session(tok))["session_id"]
    form = aiohttp.FormData()
    form.add_field("files", b"\x89PNG fake image bytes", filename="a.png", content_type="image/png")
    form.add_field("files", b"RIFF" + bytes(100), filename="b.wav", content_type="audio/wav")
    _, body, _ = await api.call("POST", f"/api/upload-video/nemo_agent/me/{sid}", tok, data=form)
    files = body["data"]["files"]
    assert [f["file_type"] for f in files] == ["image", "audio"]
    assert all(f["cdn_url"].startswith(emulator.cdn_url + "/files/") for f in files)
    assert len(emulator.session(sid).state["video_infos"]) == 2
    assert len(list(emulator.files_dir.iterdir())) == 2

    async with http.get(files[0]["cdn_url"], headers={"Range": "bytes=1-3"}) as resp:
        assert resp.status == 206 and await resp.read() == b"PNG"
    async with http.get(files[1]["cdn_url"]) as resp:
        assert await resp.read() == b"RIFF" + bytes(100)
    async with http.get(emulator.cdn_url + "/files/missing.png") as resp:
        assert resp.status == 404
    assert len(emulator.cdn_requests) == 3
    assert all(isinstance(r, RecordedRequest) for r in emulator.cdn_requests)
    assert emulator.cdn_requests[0].headers["Range"] == "bytes=1-3"
    assert not any("Authorization" in r.headers for r in emulator.cdn_requests)
    assert not any(r.path.startswith("/files/") for r in emulator.requests)


async def test_multipart_refusals_leave_no_file(http: aiohttp.ClientSession) -> None:
    async with Emulator(max_upload_bytes=10) as emu:
        api = Api(http, emu)
        tok = (await api.token())["token"]
        path = f"/api/upload-video/nemo_agent/me/{(await api.session(tok))['session_id']}"
        for name, payload, code in [("big.mp4", bytes(11), 4002), ("x.txt", b"hi", 4001)]:
            form = aiohttp.FormData()
            form.add_field("files", b"0123456789", filename="ok.jpg")
            form.add_field("files", payload, filename=name)
            _, body, _ = await api.call("POST", path, tok, data=form)
            assert body["code"] == code
        assert list(emu.files_dir.iterdir()) == []
        assert emu.sessions[path.rsplit("/", 1)[1]].state["video_infos"] == []


async def test_run_sse_streams_two_adk_events(api: Api, emulator: Emulator) -> None:
    tok = (await api.token())["token"]
    sid = (await api.session(tok))["session_id"]
    message = {"parts": [{"text": "hello there"}]}
    request = {"app_name": "nemo_agent", "user_id": "me", "session_id": sid, "new_message": message}
    headers = {**ATTRIBUTION, "Authorization": f"Bearer {tok}", "Accept": "text/event-stream"}
    async with api.http.post(emulator.url + "/run_sse", json=request, headers=headers) as resp:
        assert resp.content_type == "text/event-stream"
        raw = (await resp.read()).decode()
    frames = [f for f in raw.split("\n\n") if f]
    assert len(frames) == 2 and all(f.startswith("data: ") and "\n" not in f for f in frames)
    partial, final = (json.loads(f[len("data: ") :]) for f in frames)
    assert partial["partial"] is True and "partial" not in final
    assert partial["content"]["parts"][0]["text"] == final["content"]["parts"][0]["text"]
    assert "hello there" in final["content"]["parts"][0]["text"]
    assert final["author"] == "nemo_agent" and final["invocationId"].startswith("e-")
    assert emulator.session(sid).chat_log == [message]
    status, body, _ = await api.call("POST", "/run_sse", tok, json={"session_id": sid})
    assert status == 422 and "detail" in body


async def test_render_attribution_blocking_and_real_output(api: Api, emulator: Emulator) -> None:
    tok = (await api.token())["token"]
    sid = (await api.session(tok))["session_id"]
    emulator.render.width, emulator.render.height = 320, 180
    draft = example_draft()
    job = {"id": "render_1", "sessionId": sid, "draft": draft, "output": {"format": "mp4"}}
    _, body, _ = await api.call(
        "POST", "/api/render/proxy/lambda", tok, json=job, headers={"X-Skill-Platform": ""}
    )
    assert body["code"] == 402
    emulator.block_exports()
    emulator.error_style = "status"
    status, body, _ = await api.call("POST", "/api/render/proxy/lambda", tok, json=job)
    assert (status, body["code"]) == (402, 402)
    emulator.block_exports(blocked=False)
    _, body, _ = await api.call("POST", "/api/render/proxy/lambda", tok, json=job)
    assert body["success"] is True and body["data"]["id"] == "render_1"
    assert body["data"]["status"] == "pending"
    for _ in range(3000):
        _, body, _ = await api.call("GET", "/api/render/proxy/lambda/render_1", tok)
        data = body.get("data", body)
        if data.get("status") in ("completed", "failed"):
            break
        await asyncio.sleep(0.02)
    assert data["status"] == "completed" and data["progress"] == 100
    status, raw, _ = await api.call("GET", "/api/render/proxy/render_1/download", tok)
    assert status == 200 and raw[4:8] == b"ftyp"
    other = (await api.token())["token"]
    assert (await api.call("GET", "/api/render/proxy/lambda/render_1", other))[0] == 404


# -- lifecycle, fixture, CLI ------------------------------------------------------------------


async def test_fixture_and_lifecycle(emulator: Emulator, tmp_path: Path) -> None:
    assert emulator.url.startswith("http://127.0.0.1:") and not emulator.url.endswith("/")
    assert emulator.cdn_url != emulator.url and emulator.data_dir.is_dir()
    with pytest.raises(ValueError):
        emulator.error_style = "loud"
    emu = Emulator()
    with pytest.raises(RuntimeError):
        _ = emu.url
    await emu.start()
    temp = emu.data_dir
    await emu.close()
    assert not temp.exists()
    async with Emulator(data_dir=tmp_path / "data") as kept:
        assert kept.files_dir == tmp_path / "data" / "files"
    assert (tmp_path / "data" / "files").is_dir()


async def test_serve_prints_urls_and_main_refuses_external_hosts(
    http: aiohttp.ClientSession, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--host", "0.0.0.0"]) == 2
    assert "Refusing" in capsys.readouterr().err
    assert cli_main(["emulator", "--host", "0.0.0.0", "--credits", "5"]) == 2
    assert "Refusing" in capsys.readouterr().err
    task = asyncio.create_task(serve("127.0.0.1", 0, 0))
    try:
        out = ""
        for _ in range(500):
            out += capsys.readouterr().out
            if "CDN" in out:
                break
            await asyncio.sleep(0.01)
        url = out.split("API: ")[1].split()[0]
        async with http.get(url + CREDITS_PATH) as resp:
            assert (await resp.json())["code"] == 1001
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
