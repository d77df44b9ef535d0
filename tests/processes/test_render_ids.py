"""Render ids across processes (issue 21): eight workers of one user export in the same instant,
started by ``spawn`` and by ``fork``, and no submit is refused as a duplicate id.

The workers share one config dir, so they are one user with one token, as the workers of one
deployment are; every submit must name a job of its own on its first send.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import re
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

import nemovideo
from nemovideo.testing import Emulator, fast_client, sample_images
from nemovideo.testing.drafts import make_draft, video_track

from ..conftest import FAST
from ._workers import export_at_once

SUBMIT = "/api/render/proxy/lambda"
WORKERS = 8


async def ready_sessions(client: nemovideo.NemoClient, emu: Emulator, count: int) -> list[str]:
    """``count`` sessions whose drafts hold one uploaded clip each, ready to export."""
    ids = []
    for _ in range(count):
        session = await client.create_session()
        await session.upload(sample_images()[:1])
        infos = emu.session(session.id).state["video_infos"]
        emu.session(session.id).state["draft"] = make_draft([video_track(infos, 1000)])
        ids.append(session.id)
    return ids


@pytest.mark.parametrize("method", ["spawn", "fork"])
async def test_eight_processes_export_at_once_and_no_submit_is_refused(
    emulator: Emulator, tmp_path: Path, method: str
) -> None:
    emulator.render.pending_s = 600.0  # the jobs only need to exist: no MP4 is rendered
    config_dir = tmp_path / "shared-config"
    async with fast_client(emulator, config_dir) as client:
        sessions = await ready_sessions(client, emulator, WORKERS)
    context = multiprocessing.get_context(method)
    with context.Manager() as manager, ProcessPoolExecutor(WORKERS, mp_context=context) as pool:
        barrier = manager.Barrier(WORKERS)
        loop = asyncio.get_running_loop()
        futures = [
            loop.run_in_executor(
                pool, export_at_once, emulator.url, str(config_dir), sid, json.dumps(FAST), barrier
            )
            for sid in sessions
        ]
        ids = await asyncio.wait_for(asyncio.gather(*futures), 120)
    assert all(re.fullmatch(r"render_\d{13}_[0-9a-f]{16}", job_id) for job_id in ids), ids
    assert len(set(ids)) == WORKERS
    assert len(emulator.requests_to(SUBMIT, "POST")) == WORKERS, "a submit was refused and re-sent"
    jobs = emulator.store.render_jobs
    assert sorted(jobs) == sorted(ids)
    assert {jobs[job_id].session_id for job_id in ids} == set(sessions)


# -- duplicate ids, as docs/protocol.md says the service refuses them ------------------------


async def test_a_first_send_refused_as_a_duplicate_id_is_retried_once_with_a_new_id(
    emulator: Emulator, nemo_client: nemovideo.NemoClient
) -> None:
    emulator.render.pending_s = 600.0
    (sid,) = await ready_sessions(nemo_client, emulator, 1)
    emulator.render.refuse_next("Duplicate render id: already in use", status=409)
    job = await nemo_client.renderer.export(sid)
    sent = [r.json["id"] for r in emulator.requests_to(SUBMIT, "POST")]
    assert len(sent) == 2 and sent[0] != sent[1] == job.id
    assert list(emulator.store.render_jobs) == [job.id]


async def test_a_duplicate_refusal_of_both_sends_raises_and_starts_nothing(
    emulator: Emulator, nemo_client: nemovideo.NemoClient
) -> None:
    (sid,) = await ready_sessions(nemo_client, emulator, 1)
    emulator.render.refuse_next("Duplicate render id", status=409)
    emulator.render.refuse_next("Duplicate render id", status=409)
    with pytest.raises(nemovideo.APIError) as caught:
        await nemo_client.renderer.export(sid)
    assert caught.value.http_status == 409
    assert len(emulator.requests_to(SUBMIT, "POST")) == 2 and emulator.store.render_jobs == {}


@pytest.mark.parametrize("style", ["status", "body"])
async def test_a_resend_after_a_lost_answer_refused_as_a_duplicate_polls_that_job(
    emulator: Emulator, nemo_client: nemovideo.NemoClient, style: str
) -> None:
    emulator.render.width, emulator.render.height, emulator.render.fps = 64, 36, 5
    emulator.render.strict_ids, emulator.render.error_style = True, style
    (sid,) = await ready_sessions(nemo_client, emulator, 1)
    emulator.faults.lose_answer(path=SUBMIT, method="POST")
    job = await nemo_client.renderer.export(sid)
    sent = [r.json["id"] for r in emulator.requests_to(SUBMIT, "POST")]
    assert sent == [job.id, job.id], "the re-send keeps its id and no third submit follows"
    assert list(emulator.store.render_jobs) == [job.id] and job.session_id == sid
    assert job.status is not None, "the job was polled"
    assert (await job.wait()).status == "completed"


async def test_ids_are_unique_per_user_so_another_users_id_is_no_conflict(
    emulator: Emulator, tmp_path: Path
) -> None:
    emulator.render.pending_s = 600.0
    async with (
        fast_client(emulator, tmp_path / "a") as a,
        fast_client(emulator, tmp_path / "b") as b,
    ):
        (sid_a,) = await ready_sessions(a, emulator, 1)
        (sid_b,) = await ready_sessions(b, emulator, 1)
        draft = (await a.session(sid_a).state()).draft
        body = {"id": "render_shared", "draft": draft.to_json()}
        for client, sid in ((a, sid_a), (b, sid_b)):
            await client.api.request(
                "POST", SUBMIT, json_body={**body, "sessionId": sid}, envelope="render"
            )
        job_a = await a.renderer.resume("render_shared")
        job_b = await b.renderer.resume("render_shared")
    assert (job_a.status, job_b.status) == ("pending", "pending")
    owners = {record.user_id for record in emulator.store.render_jobs.values()}
    assert len(emulator.store.render_jobs) == 2 and len(owners) == 2
