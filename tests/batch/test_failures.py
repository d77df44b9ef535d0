"""A chosen job's failed render, a 2001 after N jobs, a 429: the closing table, the exit code, the
journal and ``--retry-failed``, against a real ``nemovideo batch`` process."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections import Counter
from pathlib import Path

import pexpect

from nemovideo.batch import read_journal
from nemovideo.testing import FAST_SETTINGS, Emulator

from .conftest import assert_exactly_once, run_cli, write_manifest


def _chats_per_job(emu: Emulator) -> dict[str, int]:
    return {s.task_name: len(s.chat_log) for s in emu.store.sessions.values()}


async def test_a_failed_render_is_recorded_and_retried(emu: Emulator, tmp_path: Path) -> None:
    emu.render.fail_project("b", "Render failed: out of GPU memory")
    manifest = write_manifest(tmp_path, ["a", "b", "c"])
    words = ("batch", str(manifest), "--out-dir", str(tmp_path / "out"))
    code, stdout, _ = await run_cli(emu, tmp_path, *words)
    assert code == 1, stdout
    table = stdout[stdout.index("job ") :]
    assert "b    failed" in table and "out of GPU memory" in table
    assert "a    done" in table and "c    done" in table
    assert f"Journal: {manifest}.journal.db" in stdout
    assert "--retry-failed" in stdout.split("Retry the failed jobs: ", 1)[1]
    _, rows, _ = read_journal(f"{manifest}.journal.db")
    b = next(r for r in rows if r.job_id == "b")
    assert (b.status, b.error_type) == ("failed", "RenderFailedError")

    before = len(emu.requests)
    code, stdout, _ = await run_cli(emu, tmp_path, *words)
    assert code == 1 and "(earlier run)" in stdout
    assert all("/api/auth" in r.path for r in emu.requests[before:]), "nothing redone"

    code, stdout, _ = await run_cli(emu, tmp_path, *words, "--retry-failed")
    assert code == 0, stdout
    assert _chats_per_job(emu) == {"a": 1, "b": 1, "c": 1}, "the message is never re-sent"
    renders = Counter(j.session_id for j in emu.store.render_jobs.values())
    assert sorted(renders.values()) == [1, 1, 2], "only the failed render is submitted again"
    assert (tmp_path / "out" / "b.mp4").stat().st_size > 0


async def test_2001_stops_new_jobs_with_the_link_and_the_count_left(
    emu: Emulator, tmp_path: Path
) -> None:
    emu.faults.error(2001, path="/run_sse", after=2)
    ids = ["a", "b", "c", "d", "e"]
    manifest = write_manifest(tmp_path, ids)
    out = tmp_path / "out"
    words = ("batch", str(manifest), "--concurrency", "1", "--out-dir", str(out))
    code, stdout, _ = await run_cli(emu, tmp_path, *words)
    assert code == 4, stdout
    assert "Stopped starting new jobs" in stdout and "3 job(s) left" in stdout
    assert "/register?bind=anon_" in stdout
    assert sorted(s.task_name for s in emu.store.sessions.values()) == ["a", "b", "c"]
    _, rows, _ = read_journal(f"{manifest}.journal.db")
    assert [r.status for r in rows] == ["done", "done", "pending", "pending", "pending"]

    code, stdout, _ = await run_cli(emu, tmp_path, *words, "--json")
    assert code == 0, stdout
    events = [json.loads(line) for line in stdout.splitlines()]
    assert events[0]["event"] == "batch" and events[0]["todo"] == 3
    assert [e["job_id"] for e in events if e["event"] == "start"] == ["c", "d", "e"]
    assert events[-1]["counts"]["done"] == 5
    assert _chats_per_job(emu) == dict.fromkeys(ids, 1)
    accepted = [r for r in emu.requests_to("/run_sse", "POST")]
    assert len(accepted) == 6, "five messages, plus the one refused with 2001 before it ran"
    assert len(emu.store.render_jobs) == 5


async def test_a_short_429_is_waited_out(emu: Emulator, tmp_path: Path) -> None:
    emu.faults.rate_limit(times=1, retry_after=0.01, path="/run_sse")
    manifest = write_manifest(tmp_path, ["a", "b"])
    out = tmp_path / "out"
    code, stdout, _ = await run_cli(emu, tmp_path, "batch", str(manifest), "--out-dir", str(out))
    assert code == 0, stdout
    assert_exactly_once_accepting_refusals(emu, ["a", "b"])


async def test_a_429_past_the_policy_stops_cleanly(emu: Emulator, tmp_path: Path) -> None:
    emu.faults.rate_limit(times=50, retry_after=0.01, path="/run_sse")
    manifest = write_manifest(tmp_path, ["a", "b", "c"])
    out = tmp_path / "out"
    words = ("batch", str(manifest), "--concurrency", "1", "--out-dir", str(out))
    code, stdout, _ = await run_cli(emu, tmp_path, *words)
    assert code == 5, stdout
    assert "Stopped starting new jobs" in stdout and "3 job(s) left" in stdout
    _, rows, _ = read_journal(f"{manifest}.journal.db")
    assert {r.status for r in rows} == {"pending"}
    emu.faults.clear()
    code, stdout, _ = await run_cli(emu, tmp_path, *words)
    assert code == 0, stdout
    assert_exactly_once_accepting_refusals(emu, ["a", "b", "c"])
    assert_exactly_once(emu, out, ["a", "b", "c"], refused_chats=True)


def assert_exactly_once_accepting_refusals(emu: Emulator, ids: list[str]) -> None:
    assert _chats_per_job(emu) == dict.fromkeys(ids, 1)
    assert len(emu.store.render_jobs) == len(ids)


async def test_a_terminal_gets_one_overall_bar(emu: Emulator, tmp_path: Path) -> None:
    """On a terminal: one line redrawn on stderr with the counts and an ETA, and the table."""
    manifest = write_manifest(tmp_path, ["a", "b", "c"])
    config = tmp_path / "cfg"
    config.mkdir()
    (config / "config.json").write_text(json.dumps(dict(FAST_SETTINGS)))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEMO_", "NEMOVIDEO_"))}
    env.update(NEMO_API_URL=emu.url, NEMO_CONFIG_DIR=str(config))

    def in_a_terminal() -> tuple[str, int]:
        child = pexpect.spawn(sys.executable, ["-m", "nemovideo", "batch", str(manifest),
                                               "--concurrency", "1"],
                              env=env, cwd=str(tmp_path), timeout=90, encoding="utf-8")  # fmt: skip
        try:
            child.expect(pexpect.EOF)
        finally:
            child.close(force=True)
        return child.before or "", child.exitstatus or 0

    screen, code = await asyncio.to_thread(in_a_terminal)
    assert code == 0, screen
    assert "\r[########................] [1/3] 1 done, 1 running, 0 failed, ETA" in screen
    assert " 2 running" not in screen, "one job at a time"
    assert "] [3/3] 3 done" in screen and "\x1b[K" in screen
    assert "3 done, 0 failed, 0 need attention, 0 left." in screen
