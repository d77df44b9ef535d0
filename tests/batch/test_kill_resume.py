"""SIGKILL a real ``nemovideo batch`` at every step, resume it, and read the emulator's own log:
one ``/run_sse`` POST and one render per job, each output whole, nothing left over."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from nemovideo.batch import read_journal
from nemovideo.testing import Emulator

from .conftest import assert_exactly_once, parts_in, run_cli, write_manifest

IDS = ("a", "b", "c")

STEPS = [
    "session",  # the session exists, nothing uploaded
    "upload",  # mid-upload: the first of two files is in
    "posted",  # right after the chat POST reached the server (its first words)
    "mid-stream",  # while the answer streams
    "sent",  # the reply is in; no render yet
    "render-chosen",  # the render id is journaled, the submit not sent
    "render-submitted",  # right after the render submit
    "render-polled",  # mid-render
    "download-partial",  # mid-download: part of the MP4 on disk
    "downloaded",  # the part is whole, its ``done`` not committed: no output yet
    "done-journaled",  # ``done`` committed, the part not yet renamed to the output
    "done",  # between jobs
]


@pytest.mark.parametrize("step", STEPS)
async def test_killed_at_a_step_resumes_exactly_once(
    emu: Emulator, tmp_path: Path, step: str
) -> None:
    if step == "render-polled":
        emu.render.pending_s = 0.3
    if step == "download-partial":
        emu.render.width, emu.render.height, emu.render.fps = 640, 360, 25
    manifest = write_manifest(tmp_path, IDS, files_per_job=2)
    out = tmp_path / "videos"
    words = ("batch", str(manifest), "--concurrency", "1", "--out-dir", str(out))
    code, _, err = await run_cli(emu, tmp_path, *words, kill_at=f"{step}:b")
    assert code == -9, f"the hook killed the run at {step}: {err}"
    _, rows, steps = read_journal(f"{manifest}.journal.db")
    b_done = step in ("done", "done-journaled")
    # b's ``done`` rides c's first commit: the kill may find c's session journaled already
    c_statuses = ("pending", "running") if b_done else ("pending",)
    assert [r.status for r in rows[:2]] == ["done", "done" if b_done else "running"]
    assert rows[2].status in c_statuses
    if step in ("downloaded", "done-journaled"):
        (part,) = parts_in(out)
        assert part.startswith(".b.mp4.render_") and not (out / "b.mp4").exists()
        whole = (out / part).stat().st_size
    if step == "download-partial":
        (part,) = [p.name for p in out.iterdir() if p.name.endswith(".part")]
        assert part.startswith(".b.mp4.render_"), "named after its render"
        assert not (out / "b.mp4").exists(), "no partial file under the final name"

    code, stdout, err = await run_cli(emu, tmp_path, *words)
    assert code == 0, stdout + err
    assert_exactly_once(emu, out, IDS)
    uploads = emu.requests_to("/api/upload-video", "POST")
    assert len(uploads) == 2 * len(IDS), "each file uploaded once"
    if step == "download-partial":
        ranged = [r for r in emu.cdn_requests if "Range" in r.headers]
        assert len(ranged) == 1 and ranged[0].path.endswith(".mp4")
        assert ranged[0].headers["Range"] != "bytes=0-"
    if step == "downloaded":  # a Range request from the part's end, answered 416: no bytes
        (ranged,) = [r for r in emu.cdn_requests if "Range" in r.headers]
        assert ranged.headers["Range"] == f"bytes={whole}-"
        assert len([r for r in emu.cdn_requests if r.path == ranged.path]) == 2
    if step == "done-journaled":  # the resume renames the part: nothing downloaded again
        assert len(emu.cdn_requests) == len(IDS)
    _, rows, steps = read_journal(f"{manifest}.journal.db")
    assert {r.status for r in rows} == {"done"}
    if step in ("posted", "mid-stream"):
        sent = [s for s in steps if s["job_id"] == "b" and s["step"] == "sent"]
        assert len(sent) == 1 and "recovered" in json.loads(sent[0]["detail"])
    for row in rows:
        assert row.sha256 and row.size == (out / f"{row.job_id}.mp4").stat().st_size


async def _killed_then_edited(
    emu: Emulator, tmp_path: Path, kill_at: str, *statements: str
) -> tuple[Path, Path, tuple[str, ...]]:
    """Run the three jobs one at a time, killed at ``kill_at``, then change the journal with
    ``statements`` (the state a kill at another instant would leave); the command's words."""
    manifest = write_manifest(tmp_path, IDS)
    out = tmp_path / "videos"
    words = ("batch", str(manifest), "--concurrency", "1", "--out-dir", str(out))
    code, _, _ = await run_cli(emu, tmp_path, *words, kill_at=kill_at)
    assert code == -9
    conn = sqlite3.connect(f"{manifest}.journal.db", isolation_level=None)
    try:
        for statement in statements:
            conn.execute(statement)
    finally:
        conn.close()
    return manifest, out, words


async def test_a_lost_sent_record_is_recovered_from_the_render(
    emu: Emulator, tmp_path: Path
) -> None:
    """``sent`` is not waited for (it rides the next commit), so a kill can lose it after the
    render was submitted: the resume finds the render ``sending`` chose on the server, so the
    message was sent, and polls it: no second POST, no second render, no state read."""
    manifest, out, words = await _killed_then_edited(
        emu,
        tmp_path,
        "render-submitted:b",
        "DELETE FROM steps WHERE job_id = 'b' AND step = 'sent'",  # what a kill before the
        "UPDATE jobs SET phase = 'sending' WHERE job_id = 'b'",  # commit of ``sent`` leaves
    )
    session_b = next(s.session_id for s in emu.store.sessions.values() if s.task_name == "b")
    states_before = len(emu.requests_to(f"/api/state/nemo_agent/me/{session_b}"))
    assert states_before, "the first run read b's state before its POST"
    code, stdout, _ = await run_cli(emu, tmp_path, *words)
    assert code == 0, stdout
    assert_exactly_once(emu, out, IDS)
    _, _, steps = read_journal(f"{manifest}.journal.db")
    (sent,) = [s for s in steps if s["job_id"] == "b" and s["step"] == "sent"]
    assert json.loads(sent["detail"]) == {"recovered": "the render exists"}
    assert len(emu.requests_to(f"/api/state/nemo_agent/me/{session_b}")) == states_before, (
        "the render answered: no state read"
    )


async def test_killed_before_the_post_is_marked_needs_attention(
    emu: Emulator, tmp_path: Path
) -> None:
    """Killed after "sending" was journaled: the state cannot tell whether the POST went out, so
    the job is not guessed about: needs-attention, with the reason and the session id, and the
    message is never sent. The other jobs finish; exit code 1."""
    manifest = write_manifest(tmp_path, IDS)
    out = tmp_path / "videos"
    words = ("batch", str(manifest), "--concurrency", "1", "--out-dir", str(out))
    code, _, _ = await run_cli(emu, tmp_path, *words, kill_at="sending:b")
    assert code == -9
    code, stdout, _ = await run_cli(emu, tmp_path, *words, "--json")
    assert code == 1
    lines = [json.loads(line) for line in stdout.splitlines()]
    result = next(x for x in lines if x.get("event") == "result" and x["job_id"] == "b")
    session_b = next(s.session_id for s in emu.store.sessions.values() if s.task_name == "b")
    assert result["status"] == "needs-attention" and result["session_id"] == session_b
    assert session_b in result["error"]["message"]
    assert not [r for r in emu.requests_to("/run_sse") if r.json["session_id"] == session_b]
    summary = lines[-1]
    assert summary["event"] == "summary" and summary["counts"]["needs-attention"] == 1
    assert summary["counts"]["done"] == 2 and summary["exit_code"] == 1

    code, stdout, _ = await run_cli(emu, tmp_path, *words, "--settle", "a=sent")
    assert code == 2, "only a needs-attention job can be settled"
    code, stdout, _ = await run_cli(emu, tmp_path, *words, "--settle", "b=unsent")
    assert code == 0, stdout
    assert len([r for r in emu.requests_to("/run_sse") if r.json["session_id"] == session_b]) == 1
    assert_exactly_once(emu, out, IDS)


async def test_a_sending_record_without_a_draft_hash_is_not_guessed_about(
    emu: Emulator, tmp_path: Path
) -> None:
    """``sending`` always holds the hash of the draft read before the POST; a row without it
    (a journal edited by hand, or written by a pre-release nemovideo) cannot be settled by
    reading state: needs-attention, and nothing is sent."""
    _, _, words = await _killed_then_edited(
        emu, tmp_path, "sending:b", "UPDATE jobs SET draft_before = NULL WHERE job_id = 'b'"
    )
    code, stdout, _ = await run_cli(emu, tmp_path, *words, "--json")
    assert code == 1, stdout
    results = [json.loads(line) for line in stdout.splitlines()]
    b = next(x for x in results if x.get("event") == "result" and x["job_id"] == "b")
    assert b["status"] == "needs-attention" and "no hash of the draft" in b["error"]["message"]
    assert len(emu.requests_to("/run_sse", "POST")) == 2, "a's and c's, never b's"


@pytest.mark.parametrize("step", ["upload:*", "posted:b", "render-chosen:b", "done:b"])
async def test_one_session_killed_and_resumed(emu: Emulator, tmp_path: Path, step: str) -> None:
    """``--one-session``: the shared session and its uploads are journaled too; after a kill,
    each instruction still reaches the one session once, and each job has one render."""
    manifest = write_manifest(tmp_path, IDS, files_per_job=1, vary=True)
    out = tmp_path / "videos"
    words = ("batch", str(manifest), "--one-session", "--out-dir", str(out))
    code, _, _ = await run_cli(emu, tmp_path, *words, kill_at=step)
    assert code == -9
    code, stdout, _ = await run_cli(emu, tmp_path, *words)
    assert code == 0, stdout
    (session,) = emu.store.sessions.values()
    said = [m["parts"][0]["text"] for m in session.chat_log]
    assert said == [json.loads(line)["instruction"] for line in manifest.read_text().splitlines()]
    assert len(emu.requests_to("/api/upload-video", "POST")) == 3, "each file once"
    renders = emu.store.render_jobs
    assert len(renders) == 3 and len(emu.requests_to("/api/render/proxy/lambda", "POST")) == 3
    for job_id in IDS:
        assert (out / f"{job_id}.mp4").stat().st_size > 0
    assert sorted(p.name for p in out.iterdir()) == [f"{i}.mp4" for i in IDS]


async def test_a_cdn_that_ignores_ranges_gets_the_whole_file_again(
    emu: Emulator, tmp_path: Path
) -> None:
    """Killed mid-download, resumed against an origin that answers a Range request with the
    whole file (200): the part starts over, and the output is still whole."""
    emu.render.width, emu.render.height, emu.render.fps = 640, 360, 25
    emu.render.cdn_ranges = False
    manifest = write_manifest(tmp_path, IDS)
    out = tmp_path / "videos"
    words = ("batch", str(manifest), "--concurrency", "1", "--out-dir", str(out))
    code, _, _ = await run_cli(emu, tmp_path, *words, kill_at="download-partial:b")
    assert code == -9 and len(parts_in(out)) == 1
    code, stdout, _ = await run_cli(emu, tmp_path, *words)
    assert code == 0, stdout
    assert_exactly_once(emu, out, IDS)
    ranged = [r for r in emu.cdn_requests if "Range" in r.headers]
    assert len(ranged) == 1, "it asked for the rest, and got the whole file"


async def test_ctrl_c_exits_130_and_the_same_command_resumes(emu: Emulator, tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path, IDS)
    out = tmp_path / "videos"
    words = ("batch", str(manifest), "--concurrency", "2", "--out-dir", str(out))
    code, _, err = await run_cli(emu, tmp_path, *words, kill_at="sent:b:INT")
    assert code == 130 and "run the same command to resume" in err
    code, stdout, _ = await run_cli(emu, tmp_path, *words)
    assert code == 0, stdout
    assert_exactly_once(emu, out, IDS)


async def test_a_part_longer_than_its_render_starts_over(emu: Emulator, tmp_path: Path) -> None:
    """A part with more bytes than the render has (written to by something else after the
    kill): the Range request from its end is answered 416 with the file's real size, so the
    part is dropped and the download starts over; the output is the render's bytes."""
    manifest = write_manifest(tmp_path, IDS)
    out = tmp_path / "videos"
    words = ("batch", str(manifest), "--concurrency", "1", "--out-dir", str(out))
    code, _, _ = await run_cli(emu, tmp_path, *words, kill_at="downloaded:b")
    assert code == -9
    (part,) = parts_in(out)
    size = (out / part).stat().st_size
    (out / part).write_bytes((out / part).read_bytes() + b"\0" * 100)
    code, stdout, _ = await run_cli(emu, tmp_path, *words)
    assert code == 0, stdout
    assert_exactly_once(emu, out, IDS)
    ranged = [r for r in emu.cdn_requests if "Range" in r.headers]
    assert [r.headers["Range"] for r in ranged] == [f"bytes={size + 100}-"]
    assert len([r for r in emu.cdn_requests if r.path == ranged[0].path]) == 3, "whole again"
