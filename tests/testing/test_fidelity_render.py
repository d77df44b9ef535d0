"""The render proxy against PROTOCOL "Endpoints"/"Render": the submit body, envelopes, cancel."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from nemovideo.testing import Emulator

from ._wire import SUBMIT, Wire, finish, job


@pytest.fixture
async def wire(emulator: Emulator) -> AsyncIterator[Wire]:
    emulator.render.width, emulator.render.height, emulator.render.fps = 64, 36, 5
    async with aiohttp.ClientSession() as http:
        yield await Wire(http, emulator).login()


async def test_the_submit_body_is_checked_as_documented(wire: Wire, emulator: Emulator) -> None:
    snake = job(wire, "r_snake", sessionId=None, session_id=wire.sid)
    for body, field in [(job(wire, "", id=None), "id"), (snake, "sessionId"),
                        (job(wire, "r_nodraft", draft=None), "draft")]:  # fmt: skip
        status, answer, _ = await wire.call("POST", SUBMIT, json=body)
        assert status == 400 and answer["success"] is False and field in answer["error"], field
    assert emulator.store.render_jobs == {}
    status, answer, _ = await wire.call("POST", SUBMIT, json=job(wire, "r_1"))
    assert (status, answer) == (200, {"success": True,
                                      "data": {"id": "r_1", "status": "pending", "progress": 5}})  # fmt: skip
    status, answer, _ = await wire.call("POST", SUBMIT, json=job(wire, "r_1"))
    assert status == 200 and answer["data"]["id"] == "r_1", "a re-sent submit names its job"
    status, answer, _ = await wire.call("POST", SUBMIT, json=job(wire, "r_1", output={"a": 1}))
    assert status == 409 and "new id" in answer["error"], "one id names one submit"
    assert "duplicate" in answer["error"].lower(), "worded as the protocol's duplicate id error"
    other = await Wire(wire.http, emulator).login()
    status, _, _ = await other.call("POST", SUBMIT, json=job(other, "r_1"))
    assert status == 200, "ids are unique per user: another user's id is no conflict"
    assert sorted(emulator.store.render_jobs) == ["r_1", f"r_1@{other.user_id}"]
    assert (await finish(wire, "r_1"))["status"] == "completed"
    assert (await finish(other, "r_1"))["status"] == "completed"


async def test_bare_answers_and_failures_on_http_200(wire: Wire, emulator: Emulator) -> None:
    emulator.render.bare = True
    status, answer, _ = await wire.call("POST", SUBMIT, json=job(wire, "r_bare"))
    assert (status, answer) == (200, {"id": "r_bare", "status": "pending", "progress": 5})
    status, answer, _ = await wire.call("GET", f"{SUBMIT}/nope")
    assert (status, answer) == (404, {"error": "Render job not found: nope"})
    await finish(wire, "r_bare")
    status, answer, _ = await wire.call("POST", f"{SUBMIT}/r_bare/cancel")
    assert (status, answer) == (200, {"id": "r_bare", "status": "completed", "progress": 100})

    emulator.render.bare = False
    emulator.render.error_style = "body"
    for method, path, body in [("GET", f"{SUBMIT}/nope", None),
                               ("POST", SUBMIT, job(wire, "r_bare", output={}))]:  # fmt: skip
        status, answer, _ = await wire.call(method, path, json=body)
        assert status == 200 and answer["success"] is False and answer["error"]


async def test_cancel_stops_a_running_job(wire: Wire, emulator: Emulator) -> None:
    emulator.render.hold()
    await wire.call("POST", SUBMIT, json=job(wire, "r_c"))
    status, answer, _ = await wire.call("POST", f"{SUBMIT}/r_c/cancel")
    assert status == 200 and answer["success"] is True and answer["data"]["id"] == "r_c"
    assert answer["data"]["status"] == "failed"
    done = await finish(wire, "r_c")
    assert (done["status"], done["error"]) == ("failed", "Render cancelled")
    assert "outputUrl" not in done
    emulator.render.release()
    assert (await wire.call("GET", "/api/render/proxy/r_c/download"))[0] == 404


async def test_download_fallback_needs_the_bearer_token(wire: Wire, emulator: Emulator) -> None:
    await wire.call("POST", SUBMIT, json=job(wire, "r_d"))
    done = await finish(wire, "r_d")
    assert done["outputUrl"].startswith(emulator.cdn_url + "/files/")
    path = "/api/render/proxy/r_d/download"
    status, body, _ = await wire.call("GET", path, token=None)
    assert body["code"] == 1001
    other = await Wire(wire.http, emulator).login()
    assert (await other.call("GET", path))[0] == 404, "another user's job is not theirs"
    status, data, headers = await wire.call("GET", path)
    assert status == 200 and data[4:8] == b"ftyp" and headers["Content-Type"] == "video/mp4"
    async with wire.http.get(done["outputUrl"]) as resp:
        assert resp.status == 200 and await resp.read() == data
    assert not any("Authorization" in r.headers for r in emulator.cdn_requests)
