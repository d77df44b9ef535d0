"""``client.batch`` in Python (async and blocking), ``--one-session``, shards and ``--report``,
and journals that belong to another manifest."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pickle
import sqlite3
import threading
from pathlib import Path

import pytest

import nemovideo
from nemovideo.batch import (
    BatchJob,
    BatchResult,
    Journal,
    JournaledError,
    JournalError,
    load_manifest,
    read_journal,
    shard_jobs,
)
from nemovideo.testing import FAST_SETTINGS, Emulator, fast_client

from .conftest import INSTRUCTION, parts_in, run_cli, sha256_of, write_manifest


async def test_client_batch_yields_typed_results(emu: Emulator, tmp_path: Path) -> None:
    write_manifest(tmp_path, ["a", "b"])
    jobs = [BatchJob(i, INSTRUCTION, files=[str(tmp_path / f"photos/{i}/0.jpg")]) for i in "ab"]
    emu.render.fail_project("b")
    journal, out = tmp_path / "batch.db", tmp_path / "out"
    async with fast_client(emu, tmp_path / "cfg") as client:
        results = [r async for r in client.batch(jobs, journal=journal, out_dir=out)]
        by_id = {r.job_id: r for r in results}
        assert isinstance(by_id["a"], nemovideo.BatchResult) and by_id["a"].status == "done"
        assert by_id["a"].path == tmp_path / "out" / "a.mp4"
        assert by_id["a"].sha256 == sha256_of(by_id["a"].path)
        assert by_id["b"].status == "failed"
        assert isinstance(by_id["b"].error, nemovideo.RenderFailedError)
        assert by_id["b"].session_id and by_id["b"].render_id
        json.dumps([r.to_dict() for r in results])

        again = {r.job_id: r async for r in client.batch(jobs, journal=journal, out_dir=out)}
        assert again["a"].resumed and again["a"].sha256 == by_id["a"].sha256
        assert isinstance(again["b"].error, JournaledError)
        assert again["b"].error.error_type == "RenderFailedError"
        assert pickle.loads(pickle.dumps(again["b"])).to_dict() == again["b"].to_dict()
        assert len(emu.store.render_jobs) == 2, "nothing redone"

        retried = [
            r async for r in client.batch(jobs, journal=journal, out_dir=out, retry_failed=True)
        ]
        assert {r.job_id: r.status for r in retried} == {"a": "done", "b": "done"}
        assert len(emu.requests_to("/run_sse", "POST")) == 2
    assert sorted(p.name for p in out.iterdir()) == ["a.mp4", "b.mp4"]


async def test_the_blocking_form(emu: Emulator, tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path, ["a", "b"])

    def run() -> list[BatchResult]:
        with nemovideo.SyncNemoClient(base_url=emu.url, config_dir=tmp_path / "cfg",
                                      **FAST_SETTINGS) as client:  # fmt: skip
            return list(client.batch(manifest, concurrency=2))

    results = await asyncio.to_thread(run)
    assert sorted((r.job_id, r.status) for r in results) == [("a", "done"), ("b", "done")]
    assert all(r.path is not None and r.path.parent == tmp_path for r in results)


async def test_one_session_uploads_once_and_renders_each(emu: Emulator, tmp_path: Path) -> None:
    ids = ["a", "b", "c"]
    manifest = write_manifest(tmp_path, ids, files_per_job=2)
    out = tmp_path / "out"
    async with fast_client(emu, tmp_path / "cfg") as client:
        results = [r async for r in client.batch(manifest, one_session=True, out_dir=out)]
    assert [r.status for r in results] == ["done"] * 3
    assert len(emu.store.sessions) == 1
    (session,) = emu.store.sessions.values()
    assert len(session.chat_log) == 3 and len({r.session_id for r in results}) == 1
    assert len(emu.requests_to("/api/upload-video", "POST")) == 6, "each file once"
    assert len({r.render_id for r in results}) == 3
    for result in results:
        render = emu.store.render_jobs[result.render_id or ""]
        assert result.path and sha256_of(result.path) == sha256_of(render.path or "")


def test_shards_split_deterministically(tmp_path: Path) -> None:
    ids = [f"sku-{n}" for n in range(200)]
    manifest = write_manifest(tmp_path, ids[:3])
    jobs = [BatchJob(i, "x") for i in ids]
    parts = [shard_jobs(jobs, (i, 4)) for i in range(1, 5)]
    assert sorted(j.id for part in parts for j in part) == sorted(ids)
    assert all(20 < len(part) < 80 for part in parts)
    assert [j.id for j in shard_jobs(list(reversed(jobs)), (2, 4))] == [
        j.id for j in reversed(parts[1])
    ], "a job's shard depends on its id only"
    assert load_manifest(manifest).jobs == load_manifest(manifest).jobs


async def test_shards_run_apart_and_report_merges(emu: Emulator, tmp_path: Path) -> None:
    ids = ["a", "b", "c", "d", "e", "f"]
    manifest = write_manifest(tmp_path, ids)
    out = tmp_path / "out"
    for shard in ("1/2", "2/2"):
        code, stdout, _ = await run_cli(emu, tmp_path, "batch", str(manifest), "--shard", shard,
                                        "--out-dir", str(out))  # fmt: skip
        assert code == 0, stdout
    journals = [tmp_path / f"jobs.jsonl.shard-{i}-of-2.journal.db" for i in (1, 2)]
    code, stdout, _ = await run_cli(emu, tmp_path, "batch", "--report", *map(str, journals))
    assert code == 0, stdout
    assert "6 jobs in 2 of 2 shard(s): 6 done" in stdout
    assert sorted(p.name for p in out.iterdir()) == [f"{i}.mp4" for i in ids]
    code, stdout, _ = await run_cli(emu, tmp_path, "batch", "--report", str(journals[0]),
                                    "--json")  # fmt: skip
    assert code == 1
    report = json.loads(stdout)
    assert report["missing_shards"] == [2] and report["counts"] == {"done": len(report["jobs"])}
    assert len(emu.requests_to("/run_sse", "POST")) == 6


async def test_a_journal_of_another_manifest_is_refused(emu: Emulator, tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path, ["a"])
    code, _, _ = await run_cli(emu, tmp_path, "batch", str(manifest))
    assert code == 0
    sent = len(emu.requests)
    manifest.write_text(manifest.read_text().replace("5-second", "6-second"))
    code, _, err = await run_cli(emu, tmp_path, "batch", str(manifest))
    assert code == 2 and "journal of another manifest" in err
    journal = tmp_path / "jobs.jsonl.journal.db"
    with sqlite3.connect(journal) as db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    code, _, err = await run_cli(emu, tmp_path, "batch", str(manifest), "--journal", str(journal))
    assert code == 2 and "schema '99'" in err
    assert all("/api/auth" in r.path for r in emu.requests[sent:]), "nothing sent"
    code, _, err = await run_cli(emu, tmp_path, "batch", "--report", str(manifest))
    assert code == 2 and "is not a nemovideo batch journal" in err


async def test_two_runs_on_one_journal_are_refused(emu: Emulator, tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path, ["a"])
    plan = load_manifest(manifest)
    held = await Journal.open(f"{manifest}.journal.db", plan.digest, [j.id for j in plan.jobs])
    try:
        code, _, err = await run_cli(emu, tmp_path, "batch", str(manifest))
        assert code == 2 and "Another nemovideo batch is running" in err
        assert not emu.requests_to("/run_sse")
    finally:
        await held.close()
    code, stdout, _ = await run_cli(emu, tmp_path, "batch", str(manifest))
    assert code == 0, stdout


async def test_a_cdn_miss_falls_back_to_the_api_download(emu: Emulator, tmp_path: Path) -> None:
    emu.render.cdn_missing = True
    manifest = write_manifest(tmp_path, ["a"])
    async with fast_client(emu, tmp_path / "cfg") as client:
        (result,) = [r async for r in client.batch(manifest)]
    assert result.status == "done", result.error
    render = emu.store.render_jobs[result.render_id or ""]
    assert result.sha256 == sha256_of(render.path or "")
    assert emu.requests_to(f"/api/render/proxy/{render.id}/download", "GET")


async def test_a_download_that_is_no_video_fails_the_job_and_saves_nothing(
    emu: Emulator, tmp_path: Path
) -> None:
    """A 200 whose body is no video (here a JSON error document, from the CDN and the API's
    fallback alike) is refused from its first bytes, as ``RenderJob.download`` refuses it: the
    job fails with a typed error, and no output and no part file appear."""
    page = tmp_path / "error.mp4"
    page.write_text('{"code": 1, "message": "storage is unavailable"}')
    manifest = write_manifest(tmp_path, ["a"])
    emu.render.template = page
    async with fast_client(emu, tmp_path / "cfg") as client:
        (result,) = [r async for r in client.batch(manifest, out_dir=tmp_path / "out")]
    assert result.status == "failed"
    assert isinstance(result.error, nemovideo.APIError)
    assert "instead of a video; nothing was saved" in str(result.error)
    assert "storage is unavailable" in str(result.error)
    assert list((tmp_path / "out").iterdir()) == []


async def test_the_render_submits_the_draft_the_reply_read(emu: Emulator, tmp_path: Path) -> None:
    """The reply read the draft once the edit had landed; the export submits that draft instead
    of reading the state a third time, and the render is of the edited draft."""
    manifest = write_manifest(tmp_path, ["a"])
    async with fast_client(emu, tmp_path / "cfg") as client:
        (result,) = [r async for r in client.batch(manifest)]
    assert result.status == "done"
    session_id = result.session_id or ""
    reads = emu.requests_to(f"/api/state/nemo_agent/me/{session_id}", "GET")
    assert len(reads) == 2, "one before the POST, one after the answer: none for the export"
    render = emu.store.render_jobs[result.render_id or ""]
    assert render.draft == emu.session(session_id).state["draft"]
    assert render.draft.get("t"), "the edited draft (its tracks), not the empty one"


async def test_a_reply_still_waiting_for_its_second_stage_renders_the_latest_draft(
    emu: Emulator, tmp_path: Path
) -> None:
    """When the answer's second stage (music, title) has not landed by the reply's last look,
    the export reads the state again rather than submit a draft known to be unfinished."""
    emu.chat.two_stage = True
    emu.chat.stage_two_delay = 30.0  # the music and title land long after the reply gives up
    instruction = "make a 10 second video from my photos with lo-fi music at 35% and a title"
    manifest = write_manifest(tmp_path, ["a"], instruction=instruction)
    async with fast_client(emu, tmp_path / "cfg") as client:
        (result,) = [r async for r in client.batch(manifest)]
    assert result.status == "done"
    session_id = result.session_id or ""
    reads = emu.requests_to(f"/api/state/nemo_agent/me/{session_id}", "GET")
    (submit,) = emu.requests_to("/api/render/proxy/lambda", "POST")
    (post,) = emu.requests_to("/run_sse", "POST")
    after_answer = [r for r in reads if r.time >= post.time]
    assert len(after_answer) == 1 + 5 + 1, "after the answer, five recovery checks, the export's"
    assert after_answer[-1].time <= submit.time


async def test_a_download_cut_within_its_first_bytes_is_a_typed_failure(
    emu: Emulator, tmp_path: Path
) -> None:
    """The connection drops before the first 16 bytes (the ones that tell a video): the job
    fails with a ``TransportError``, not an aiohttp exception, and leaves no part file."""
    tiny = tmp_path / "tiny.mp4"
    tiny.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 8)  # 20 bytes: cut after 10
    emu.render.template = tiny
    emu.render.cdn_missing = True  # the API's download path, which can cut a download
    emu.render.truncate_downloads = 1
    manifest = write_manifest(tmp_path, ["a"])
    async with fast_client(emu, tmp_path / "cfg", max_retries=0) as client:
        (result,) = [r async for r in client.batch(manifest, out_dir=tmp_path / "out")]
    assert result.status == "failed", result
    assert isinstance(result.error, nemovideo.TransportError), repr(result.error)
    assert list((tmp_path / "out").iterdir()) == []


async def test_a_part_of_another_render_is_never_continued(emu: Emulator, tmp_path: Path) -> None:
    """Bytes left by another render of the same output (a job retried after its download began,
    another manifest) are not the start of this one: the part file is named after its render."""
    manifest = write_manifest(tmp_path, ["a"])
    stale = tmp_path / ".a.mp4.render_1_deadbeef.part"
    stale.write_bytes(b"not this render" * 100)
    async with fast_client(emu, tmp_path / "cfg") as client:
        (result,) = [r async for r in client.batch(manifest)]
    render = emu.store.render_jobs[result.render_id or ""]
    assert result.sha256 == sha256_of(render.path or "") == sha256_of(tmp_path / "a.mp4")
    assert not [r for r in emu.cdn_requests if "Range" in r.headers]
    assert parts_in(tmp_path) == []


async def test_the_journal_leaves_its_schema_and_no_thread_behind(
    emu: Emulator, tmp_path: Path
) -> None:
    """A record is one statement into a view of this connection's own (TEMP), written on the
    journal's own thread: the file holds only the documented tables, and the thread ends with
    the run."""
    manifest = write_manifest(tmp_path, ["a", "b", "c"])
    async with fast_client(emu, tmp_path / "cfg") as client:
        results = [r async for r in client.batch(manifest, concurrency=3)]
    assert {r.status for r in results} == {"done"}
    for thread in [t for t in threading.enumerate() if t.name == "nemovideo-journal"]:
        thread.join(10)
        assert not thread.is_alive()
    conn = sqlite3.connect(f"{manifest}.journal.db")
    try:
        schema = sorted(conn.execute("SELECT type, name FROM sqlite_master"))
        steps = [s for (s,) in conn.execute("SELECT step FROM steps WHERE job_id = 'a'")]
    finally:
        conn.close()
    assert [name for kind, name in schema if kind in ("table", "view", "trigger")] == [
        "jobs",
        "meta",
        "steps",
    ]
    assert steps == ["session", "upload", "sending", "sent", "done"]


async def test_no_result_is_reported_before_the_journal_holds_it(
    emu: Emulator, tmp_path: Path
) -> None:
    """A finished job's ``done`` rides the next job's first commit, so its worker never waits
    for it; its result is reported only once committed: the journal, read by another
    connection as each result arrives, already says ``done`` with the file's size and hash."""
    ids = [f"j{n}" for n in range(6)]
    manifest = write_manifest(tmp_path, ids)
    journal = tmp_path / "batch.db"
    async with fast_client(emu, tmp_path / "cfg") as client:
        batch = client.batch(manifest, journal=journal, concurrency=2, out_dir=tmp_path / "out")
        async for result in batch:
            _, rows, _ = read_journal(journal)
            row = next(r for r in rows if r.job_id == result.job_id)
            assert (row.status, row.size, row.sha256) == ("done", result.size, result.sha256)
            assert result.path is not None and result.path.stat().st_size == result.size
    _, rows, steps = read_journal(journal)
    assert [s["step"] for s in steps].count("done") == len(ids)


async def test_a_done_that_cannot_be_journaled_ends_the_batch(
    emu: Emulator, tmp_path: Path
) -> None:
    """The journal breaks as a job finishes (its table dropped under it): the result is not
    reported as done, the batch ends with ``JournalError``, and nothing is left running."""
    manifest = write_manifest(tmp_path, ["a", "b"])
    journal = tmp_path / "batch.db"

    def on_event(kind: str, _data: object) -> None:
        if kind == "finish":
            other = sqlite3.connect(journal, isolation_level=None)
            other.execute("DROP TABLE steps")
            other.close()

    seen: list[BatchResult] = []
    async with fast_client(emu, tmp_path / "cfg") as client:
        batch = client.batch(manifest, journal=journal, concurrency=1, on_event=on_event)
        with pytest.raises(JournalError, match="Cannot write the journal"):
            async for result in batch:
                seen.append(result)
    assert seen == []
    assert not [t for t in threading.enumerate() if t.name == "nemovideo-journal"]


async def test_an_output_that_cannot_be_put_in_place_fails_its_job_only(
    emu: Emulator, tmp_path: Path
) -> None:
    """The rename into place fails (a directory took the output's name): that job is
    ``failed`` with a typed ``DownloadError`` naming the path, the others finish, and the
    whole part stays; once the way is clear, ``--retry-failed`` puts it in place without
    downloading a byte again (its Range request is answered 416)."""
    manifest = write_manifest(tmp_path, ["a", "b"])
    out = tmp_path / "out"
    (out / "a.mp4").mkdir(parents=True)
    async with fast_client(emu, tmp_path / "cfg") as client:
        results = {r.job_id: r async for r in client.batch(manifest, out_dir=out)}
        assert results["b"].status == "done"
        assert results["a"].status == "failed" and results["a"].path is None
        assert isinstance(results["a"].error, nemovideo.DownloadError)
        assert "a.mp4" in str(results["a"].error)
        _, rows, _ = read_journal(f"{manifest}.journal.db")
        assert [r.status for r in rows] == ["failed", "done"]
        (part,) = parts_in(out)
        whole = (out / part).stat().st_size
        (out / "a.mp4").rmdir()
        before = len(emu.cdn_requests)
        again = [r async for r in client.batch(manifest, out_dir=out, retry_failed=True)]
    assert {r.job_id: r.status for r in again} == {"a": "done", "b": "done"}
    assert [r.headers.get("Range") for r in emu.cdn_requests[before:]] == [f"bytes={whole}-"]
    assert sha256_of(out / "a.mp4") == next(r.sha256 for r in again if r.job_id == "a")
    assert parts_in(out) == [] and part.startswith(".a.mp4.render_")


async def test_a_render_past_the_flush_step_is_saved_whole_and_leaves_nothing_open(
    emu: Emulator, tmp_path: Path
) -> None:
    """A render past the background flush's step (8 MB, as ``RenderJob.download``) goes to disk
    while it arrives and is synced before its ``done``: the output is whole, its hash is the
    render's, and neither a part nor an open descriptor is left."""
    big = tmp_path / "big.mp4"
    big.write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(20 << 20))
    emu.render.template = big
    manifest = write_manifest(tmp_path, ["a"])
    async with fast_client(emu, tmp_path / "cfg") as client:
        (result,) = [r async for r in client.batch(manifest, out_dir=tmp_path / "out")]
    assert result.status == "done", result
    assert result.size == big.stat().st_size
    assert result.sha256 == sha256_of(big) == sha256_of(tmp_path / "out" / "a.mp4")
    assert parts_in(tmp_path / "out") == []
    held = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the listing's own descriptor is gone by now
            held.append(os.readlink(f"/proc/self/fd/{fd}"))
    assert not [path for path in held if path.startswith(str(tmp_path))], held
