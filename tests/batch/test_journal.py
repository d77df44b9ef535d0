"""The journal's own thread: concurrent records land whole and in each job's order and share
commits; a closed journal refuses records and leaves no thread behind."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from nemovideo.batch import Journal, JournalError, read_journal

STEPS = ("session", "sending", "draft", "sent", "done")


async def test_concurrent_records_land_in_each_jobs_order(tmp_path: Path) -> None:
    ids = [f"job-{n}" for n in range(40)]
    journal = await Journal.open(tmp_path / "j.db", "digest", ids)

    async def job(job_id: str) -> None:
        for step in STEPS:
            await journal.record(job_id, step, {"n": step}, phase=step, durable=step == "sending")
            await asyncio.sleep(0)

    await asyncio.gather(*(job(i) for i in ids))
    await journal.close()
    assert not [t for t in threading.enumerate() if t.name == "nemovideo-journal"]
    _, rows, steps = read_journal(tmp_path / "j.db")
    assert {r.job_id: r.phase for r in rows} == dict.fromkeys(ids, "done")
    for job_id in ids:
        assert [s["step"] for s in steps if s["job_id"] == job_id] == list(STEPS)
    assert len(steps) == len(ids) * len(STEPS)
    commits = {s["at"] for s in steps}  # a commit stamps its records with one time
    assert len(commits) < len(steps), "records queued together share a commit"


async def test_a_record_after_close_is_refused_and_leaves_no_thread(tmp_path: Path) -> None:
    journal = await Journal.open(tmp_path / "j.db", "digest", ["a", "b"])
    await journal.record("a", "session", phase="session")
    await journal.close()
    outcomes = await asyncio.gather(
        journal.record("a", "sent", phase="sent"),
        journal.record("b", "sending", phase="sending", durable=True),
        return_exceptions=True,
    )
    assert all(isinstance(o, JournalError) for o in outcomes), outcomes
    assert "is closed; nothing was written" in str(outcomes[0])
    assert not [t for t in threading.enumerate() if t.name == "nemovideo-journal"]
    _, rows, steps = read_journal(tmp_path / "j.db")
    assert [s["step"] for s in steps] == ["session"]
    assert [r.phase for r in rows] == ["session", "new"]
