"""The journal's group commit: concurrent records land whole and in each job's order and share
commits; a ``record_later`` rides the next commit (or the close), and a commit that fails for it
fails the next record; a closed journal refuses records and leaves no thread behind."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from pathlib import Path
from types import MappingProxyType

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


async def test_a_submitted_record_rides_the_next_commit_and_says_when_it_landed(
    tmp_path: Path,
) -> None:
    """``submit`` (a finished job's ``done``) waits for company like a ``record_later``, and its
    future is done only once the record is committed: what the runner reports a result on."""
    journal = await Journal.open(tmp_path / "j.db", "digest", ["a", "b", "c"])
    landed = journal.submit("a", "done", status="done", phase="done", size=3)
    await asyncio.sleep(0)
    assert not landed.done(), "nothing carried it yet"
    _, rows, _ = read_journal(tmp_path / "j.db")
    assert rows[0].status == "pending"
    await journal.record("b", "session", phase="session", session_id="s-b")
    await landed
    _, rows, steps = read_journal(tmp_path / "j.db")
    assert (rows[0].status, rows[0].size) == ("done", 3)
    assert steps[0]["at"] == steps[1]["at"], "one commit for both"

    alone = journal.submit("c", "done", status="done", phase="done")
    journal.flush()  # nothing else is coming: hand it over now, not in 50 ms
    await asyncio.wait_for(alone, 5)
    assert (await journal.row("c")).status == "done"
    await journal.close()


async def test_a_submitted_record_that_cannot_be_written_fails_its_future(tmp_path: Path) -> None:
    journal = await Journal.open(tmp_path / "j.db", "digest", ["a"])
    other = sqlite3.connect(tmp_path / "j.db", isolation_level=None)
    other.execute("DROP TABLE steps")
    other.close()
    landed = journal.submit("a", "done", status="done", phase="done")
    journal.flush()
    with pytest.raises(JournalError, match="Cannot write the journal"):
        await landed  # its waiter hears of it (the runner ends the batch with it)
    await journal.close()


async def test_a_step_s_details_are_json_whatever_mapping_and_values_they_come_in(
    tmp_path: Path,
) -> None:
    """Details given as any mapping are stored as JSON: a value JSON has no form for (a path)
    as its text, an integer of any size and non-ASCII text as they are; none is lost."""
    journal = await Journal.open(tmp_path / "j.db", "digest", ["a"])
    detail = MappingProxyType({"path": tmp_path / "a.mp4", "big": 10**400, "name": "vidéo"})
    await journal.record("a", "done", detail, after=("upload", {"file": Path("x.jpg")}))
    await journal.close()
    _, _, steps = read_journal(tmp_path / "j.db")
    assert [(s["step"], json.loads(s["detail"])) for s in steps] == [
        ("upload", {"file": "x.jpg"}),
        ("done", {"path": str(tmp_path / "a.mp4"), "big": 10**400, "name": "vidéo"}),
    ]
