"""Hostile render service: failures in both documented shapes, lost and refused submits, poll
answers that describe no job, and job ids that try to name another endpoint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import nemovideo
from nemovideo.testing.drafts import example_draft

from ._hostile import (
    SESSION_ID,
    Handler,
    Hostile,
    assert_no_secret,
    client_for,
    envelope,
    expect_error,
    hang,
    html,
    json_text,
    lost,
    outcome,
    sequence,
)

SUBMIT = "/api/render/proxy/lambda"
POLL = "/api/render/proxy/lambda/"
DRAFT = nemovideo.Draft.from_json(example_draft())
ACCEPTED = json_text('{"success": true, "data": {"status": "pending", "progress": 5}}')


def submitted_ids(srv: Hostile) -> list[str]:
    return [json.loads(s.body)["id"] for s in srv.requests("POST", SUBMIT) if s.path == SUBMIT]


@pytest.mark.parametrize(
    "answer",
    [
        json_text('{"success": false, "error": "boom"}'),
        json_text('{"success": true, "data": {"status": "failed", "error": "boom"}}'),
        json_text('{"status": "failed", "error": {"message": "boom"}}'),
        json_text('{"taskId": "render_1", "status": "FAILED", "errorMessage": "boom"}'),
    ],
    ids=["success-false", "data-failed", "bare-failed", "shape3-failed"],
)
@pytest.mark.parametrize("call", ["wait", "resume-then-wait"])
async def test_a_failed_render_is_a_render_failed_error_with_the_reason(
    hostile: Hostile, tmp_path: Path, secret: str, caplog: pytest.LogCaptureFixture,
    answer: Handler, call: str,
) -> None:  # fmt: skip
    hostile.on("POST", SUBMIT, ACCEPTED)
    hostile.on("GET", POLL, answer)
    async with client_for(hostile, tmp_path, secret) as client:
        if call == "wait":
            job = await client.session(SESSION_ID).export(draft=DRAFT)
            error = await expect_error(job.wait())
        else:

            async def resumed() -> Any:
                job = await client.renderer.resume("render_1")
                return await job.wait()

            error = await expect_error(resumed())
    assert isinstance(error, nemovideo.RenderFailedError), repr(error)
    assert error.reason == "boom", repr(error)
    assert_no_secret([secret], error=error, records=caplog.records)


async def test_a_failed_poll_via_refresh_reports_the_state(
    hostile: Hostile, tmp_path: Path, secret: str
) -> None:
    hostile.on(
        "GET", POLL, json_text('{"success": true, "data": {"status": "failed", "error": "boom"}}')
    )
    async with client_for(hostile, tmp_path, secret) as client:
        job = nemovideo.RenderJob(client.renderer, "render_1")
        status = await outcome(job.refresh())
    if isinstance(status, nemovideo.NemoError):
        assert isinstance(status, nemovideo.RenderFailedError) and status.reason == "boom"
    else:
        assert (status.state, status.error) == ("failed", "boom")


@pytest.mark.parametrize("how", ["reset", "timeout"])
async def test_a_submit_whose_answer_is_lost_is_resent_with_the_same_id(
    hostile: Hostile, tmp_path: Path, secret: str, how: str
) -> None:
    first = lost() if how == "reset" else hang()
    hostile.on("POST", SUBMIT, sequence(first, ACCEPTED))
    async with client_for(hostile, tmp_path, secret) as client:
        job = await outcome(client.session(SESSION_ID).export(draft=DRAFT))
    ids = submitted_ids(hostile)
    assert isinstance(job, nemovideo.RenderJob), repr(job)
    assert len(ids) == 2, ids
    assert len(set(ids)) == 1, f"the copy named another job, so the server saw two: {ids}"
    assert job.id == ids[0]


@pytest.mark.parametrize(
    "refusal",
    [html(502), json_text('{"code": 500, "message": "x"}', 500),
     json_text('{"success": false, "error": "queue full"}')],
    ids=["502-html", "500-json", "success-false"],
)  # fmt: skip
async def test_a_refused_submit_is_retried_once_with_a_new_id(
    hostile: Hostile, tmp_path: Path, secret: str, refusal: Handler
) -> None:
    hostile.on("POST", SUBMIT, sequence(refusal, ACCEPTED))
    async with client_for(hostile, tmp_path, secret) as client:
        job = await outcome(client.session(SESSION_ID).export(draft=DRAFT))
    ids = submitted_ids(hostile)
    assert isinstance(job, nemovideo.RenderJob), repr(job)
    assert len(ids) == 2 and ids[0] != ids[1], ids
    assert job.id == ids[1]


@pytest.mark.parametrize("refusal", [html(503), json_text('{"success": false, "error": "no"}')],
                         ids=["503", "success-false"])  # fmt: skip
async def test_a_submit_refused_twice_raises_after_exactly_two_sends(
    hostile: Hostile, tmp_path: Path, secret: str, caplog: pytest.LogCaptureFixture,
    refusal: Handler,
) -> None:  # fmt: skip
    hostile.on("POST", SUBMIT, refusal)
    async with client_for(hostile, tmp_path, secret) as client:
        error = await expect_error(client.session(SESSION_ID).export(draft=DRAFT))
    assert isinstance(error, (nemovideo.ServerError, nemovideo.RenderFailedError)), repr(error)
    assert len(set(submitted_ids(hostile))) == 2
    assert_no_secret([secret], error=error, records=caplog.records)


@pytest.mark.parametrize(
    "answer",
    [
        json_text('{"success": true, "data": {"progress": 50}}'),
        json_text('{"success": true}'),
        json_text('{"progress": 50, "output": {"url": "https://cdn.example.com/a.mp4"}}'),
        envelope({"id": "render_1"}),
        json_text('{"success": true, "data": {"status": ""}}'),
        json_text('{"success": true, "data": {"status": 7}}'),
        json_text("[]"),
        json_text('"completed"'),
    ],
    ids=[
        "no-status",
        "success-only",
        "bare-no-status",
        "envelope",
        "empty",
        "number",
        "list",
        "string",
    ],
)
@pytest.mark.parametrize("call", ["resume", "refresh", "wait"])
async def test_a_poll_answer_without_a_status_is_an_api_error(
    hostile: Hostile, tmp_path: Path, secret: str, answer: Handler, call: str
) -> None:
    hostile.on("GET", POLL, answer)
    async with client_for(hostile, tmp_path, secret) as client:
        job = nemovideo.RenderJob(client.renderer, "render_1")
        if call == "resume":
            error = await expect_error(client.renderer.resume("render_1"))
        elif call == "refresh":
            error = await expect_error(job.refresh())
        else:
            error = await expect_error(job.wait())
    assert isinstance(error, nemovideo.APIError), repr(error)


async def test_a_job_that_never_finishes_times_out_by_render_timeout(
    hostile: Hostile, tmp_path: Path, secret: str
) -> None:
    hostile.on("GET", POLL, json_text('{"status": "processing", "progress": NaN}'))
    async with client_for(hostile, tmp_path, secret, render_timeout=0.3) as client:
        job = nemovideo.RenderJob(client.renderer, "render_1")
        error = await expect_error(job.wait())
    assert isinstance(error, nemovideo.RenderTimeoutError), repr(error)
    assert "render_1" in str(error)


async def test_a_poll_that_never_answers_is_a_transport_error(
    hostile: Hostile, tmp_path: Path, secret: str
) -> None:
    hostile.on("GET", POLL, hang())
    async with client_for(hostile, tmp_path, secret) as client:
        error = await expect_error(nemovideo.RenderJob(client.renderer, "render_1").wait())
    assert isinstance(error, (nemovideo.TransportError, nemovideo.RenderTimeoutError)), repr(error)


HOSTILE_IDS = ["../../credits", "..", ".", "a/b", "a\\b", "x" * 300, "render\r\n1", "render\x001",
               "render\x1b[2J", "", "render\u00851"]  # fmt: skip


@pytest.mark.parametrize("job_id", HOSTILE_IDS, ids=repr)
async def test_a_hostile_job_id_from_the_caller_is_refused_before_sending(
    hostile: Hostile, tmp_path: Path, secret: str, job_id: str
) -> None:
    async with client_for(hostile, tmp_path, secret) as client:
        error = await expect_error(client.renderer.resume(job_id))
        assert isinstance(error, nemovideo.ValidationError), repr(error)
        with pytest.raises(nemovideo.ValidationError):
            nemovideo.RenderJob(client.renderer, job_id)
    assert hostile.seen == [], "nothing is sent for an id that is not one path segment"


SERVER_IDS = [i for i in HOSTILE_IDS if i] + [" render_1", 1.5, True, {"id": "render_1"}, ["r"]]


@pytest.mark.parametrize("job_id", SERVER_IDS, ids=repr)
async def test_a_hostile_job_id_from_the_server_is_an_api_error_and_never_requested(
    hostile: Hostile, tmp_path: Path, secret: str, job_id: Any
) -> None:
    hostile.on("POST", SUBMIT, envelope({"id": job_id, "status": "pending"}))
    hostile.on("GET", "/", json_text('{"status": "completed", "outputUrl": "https://x/a.mp4"}'))
    async with client_for(hostile, tmp_path, secret) as client:

        async def export_and_wait() -> Any:
            job = await client.session(SESSION_ID).export(draft=DRAFT)
            await job.wait()
            return job

        result = await outcome(export_and_wait())
    paths = [s.path for s in hostile.seen]
    if isinstance(job_id, (str, dict, list)):
        assert isinstance(result, nemovideo.APIError), f"accepted the server's id: {result!r}"
        assert all(p == SUBMIT for p in paths), paths
