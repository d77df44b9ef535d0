"""Render fidelity for a client that must survive a lost answer (issue 15): the submit is
idempotent by id, a refused submit leaves no job, and a failed job polls in both documented forms.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

import nemovideo
from nemovideo.testing import Emulator, RenderRecord, fast_client, sample_images

from ._wire import SUBMIT, Wire, finish, job


@pytest.fixture
async def wire(emulator: Emulator) -> AsyncIterator[Wire]:
    emulator.render.width, emulator.render.height, emulator.render.fps = 64, 36, 5
    async with aiohttp.ClientSession() as http:
        yield await Wire(http, emulator).login()


def outputs(emu: Emulator) -> list[str]:
    return sorted(p.name for p in emu.files_dir.iterdir() if p.suffix == ".mp4")


async def test_a_resent_submit_answers_its_job_and_renders_once(
    wire: Wire, emulator: Emulator
) -> None:
    emulator.render.hold()
    first = await wire.call("POST", SUBMIT, json=job(wire, "r_1"))
    record = emulator.store.render_jobs["r_1"]
    for _ in range(3):
        status, answer, _ = await wire.call("POST", SUBMIT, json=job(wire, "r_1"))
        assert status == 200 and answer["data"]["id"] == "r_1"
        assert answer["data"]["status"] in ("pending", "processing")
    assert first[0] == 200 and emulator.store.render_jobs["r_1"] is record
    emulator.render.release()
    assert (await finish(wire, "r_1"))["status"] == "completed"
    status, answer, _ = await wire.call("POST", SUBMIT, json=job(wire, "r_1"))
    assert (status, answer) == (200, {"success": True, "data": {"id": "r_1",
                                                                "status": "completed",
                                                                "progress": 100}})  # fmt: skip
    assert list(emulator.store.render_jobs) == ["r_1"] and outputs(emulator) == ["r_1.mp4"]


async def test_a_refused_submit_starts_nothing_and_a_new_id_starts_one(
    wire: Wire, emulator: Emulator
) -> None:
    emulator.render.refuse_next("Render queue is full", status=503)
    emulator.render.refuse_next("Still full")
    status, answer, _ = await wire.call("POST", SUBMIT, json=job(wire, "r_a"))
    assert (status, answer) == (503, {"success": False, "error": "Render queue is full"})
    emulator.render.error_style = "body"
    status, answer, _ = await wire.call("POST", SUBMIT, json=job(wire, "r_a"))
    assert (status, answer) == (200, {"success": False, "error": "Still full"})
    assert emulator.store.render_jobs == {}, "a refusal leaves no job and its id unused"
    status, answer, _ = await wire.call("POST", SUBMIT, json=job(wire, "r_b"))
    assert status == 200 and answer["data"] == {"id": "r_b", "status": "pending", "progress": 5}
    assert (await finish(wire, "r_b"))["status"] == "completed"
    assert list(emulator.store.render_jobs) == ["r_b"]


@pytest.mark.parametrize("shape", [1, 2, 3])
async def test_a_failed_job_polls_in_either_documented_form(
    wire: Wire, emulator: Emulator, shape: int
) -> None:
    emulator.render.poll_shape = shape
    emulator.render.fail_next("GPU lost")
    await wire.call("POST", SUBMIT, json=job(wire, "r_f"))
    done = await finish(wire, "r_f")
    assert (done["status"], done["error"]) == ("failed", "GPU lost")
    _, answer, _ = await wire.call("GET", f"{SUBMIT}/r_f")
    if shape == 1:
        assert answer["success"] is True and answer["data"]["status"] == "failed"
    emulator.render.failure_shape = "envelope"
    status, answer, _ = await wire.call("GET", f"{SUBMIT}/r_f")
    assert (status, answer) == (200, {"success": False, "error": "GPU lost"})


async def test_lose_answer_applies_the_request_then_cuts_the_connection(
    wire: Wire, emulator: Emulator
) -> None:
    before = len(emulator.sessions)
    emulator.faults.lose_answer(path="/with-session", method="POST")
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await wire.call("POST", "/api/tasks/me/with-session/nemo_agent", json={})
    assert len(emulator.sessions) == before + 1, "the server acted; only the answer was lost"
    assert [f.kind for f in emulator.faults.fired] == ["lose_answer"]
    assert emulator.faults.pending == []
    status, _, _ = await wire.call("POST", "/api/tasks/me/with-session/nemo_agent", json={})
    assert status == 200 and len(emulator.sessions) == before + 2


@pytest.fixture
async def session(emulator: Emulator, tmp_path: Path) -> AsyncIterator[nemovideo.Session]:
    emulator.render.width, emulator.render.height, emulator.render.fps = 64, 36, 5
    async with fast_client(emulator, tmp_path / "config") as client:
        session = await client.create_session()
        await session.upload(sample_images()[:1])
        await session.send("turn these images into a 2-second video")
        yield session


def submits(emu: Emulator) -> list[Any]:
    return [r.json["id"] for r in emu.requests_to(SUBMIT, "POST") if r.path == SUBMIT]


async def test_export_whose_answer_is_lost_renders_once(
    session: nemovideo.Session, emulator: Emulator
) -> None:
    emulator.faults.lose_answer(path=SUBMIT, method="POST")
    job = await session.export()
    [job_id, again] = submits(emulator)
    assert job.id == job_id == again, "re-sent with the same id"
    assert list(emulator.store.render_jobs) == [job_id]
    assert (await job.wait()).status == "completed"
    assert outputs(emulator) == [f"{job_id}.mp4"]


@pytest.mark.parametrize("style", ["status", "body"])
async def test_export_after_a_refusal_renders_once_with_a_new_id(
    session: nemovideo.Session, emulator: Emulator, style: str
) -> None:
    emulator.render.error_style = style
    emulator.render.refuse_next("Render queue is full", status=503)
    job = await session.export()
    [refused, sent] = submits(emulator)
    assert refused != sent == job.id
    assert list(emulator.store.render_jobs) == [job.id]
    assert (await job.wait()).status == "completed"


@pytest.mark.parametrize("failure_shape", ["data", "envelope"])
async def test_the_client_reads_both_failure_forms(
    session: nemovideo.Session, emulator: Emulator, failure_shape: str
) -> None:
    emulator.render.failure_shape = failure_shape
    emulator.render.fail_next("GPU lost")
    job = await session.export()
    with pytest.raises(nemovideo.RenderFailedError, match="GPU lost") as info:
        await job.wait()
    assert info.value.job_id == job.id
    record = emulator.store.render_jobs[job.id]
    assert isinstance(record, RenderRecord) and record.error == "GPU lost"
