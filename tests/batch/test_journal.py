"""The journal's group commit: concurrent records land whole and in each job's order and share
commits; a ``record_later`` rides the next commit (or the close), and a commit that fails for it
fails the next record; a closed journal refuses records and leaves no thread behind."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

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


async def test_a_later_record_rides_the_next_commit(tmp_path: Path) -> None:
    journal = await Journal.open(tmp_path / "j.db", "digest", ["a", "b"])
    await journal.record("a", "sending", phase="sending", durable=True)
    journal.record_later("a", "sent", {"text": "ok"}, phase="sent")
    await journal.record("b", "session", phase="session", session_id="s-b")
    journal.record_later("b", "sent", phase="sent")  # nothing follows: the close commits it
    await journal.close()
    _, rows, steps = read_journal(tmp_path / "j.db")
    assert [(s["job_id"], s["step"]) for s in steps] == [
        ("a", "sending"),
        ("a", "sent"),
        ("b", "session"),
        ("b", "sent"),
    ]
    assert steps[1]["at"] == steps[2]["at"], "one commit for the later record and the next one"
    assert [r.phase for r in rows] == ["sent", "sent"]


async def test_rows_read_after_a_later_record_see_it(tmp_path: Path) -> None:
    journal = await Journal.open(tmp_path / "j.db", "digest", ["a"])
    journal.record_later("a", "sent", phase="sent", render_id="render_1_ab")
    row = await journal.row("a")
    assert (row.phase, row.render_id) == ("sent", "render_1_ab")
    await journal.close()


async def test_a_failed_later_record_fails_the_next_record_and_the_close(tmp_path: Path) -> None:
    """Nobody waits for a ``record_later``: when its commit fails, the journal is not trusted
    any more, so the next record (and the close) raise ``JournalError``."""
    journal = await Journal.open(tmp_path / "j.db", "digest", ["a", "b"])
    await journal.record("a", "session", phase="session")
    other = sqlite3.connect(tmp_path / "j.db", isolation_level=None)
    other.execute("DROP TABLE steps")  # the record's statement now fails inside SQLite
    other.close()
    journal.record_later("a", "sent", phase="sent")
    with pytest.raises(JournalError, match="Cannot write the journal"):
        await journal.record("b", "session", phase="session")
    with pytest.raises(JournalError, match="Cannot write the journal"):
        journal.record_later("b", "sent", phase="sent")
    with pytest.raises(JournalError, match="Cannot write the journal"):
        await journal.close()
    assert not [t for t in threading.enumerate() if t.name == "nemovideo-journal"]
