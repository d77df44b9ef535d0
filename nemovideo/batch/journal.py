"""The batch journal: one SQLite file (WAL) that makes a batch resumable and exactly once.

Every step is written here *before* its side effect: the session id once created; each upload;
``sending`` before the chat POST (the render id chosen for the job and the hash of the draft the
chat read) and ``sent`` after; the download's size and SHA-256 once renamed into place. After a
crash the runner reads the journal and carries each job on from its last recorded step instead
of starting it again.

Durability: a ``record`` survives a killed process once it returns (WAL, ``synchronous=NORMAL``:
the commit is in the WAL file). The records that guard a credit-spending side effect,
``sending`` (which holds the render id too) and a retried render's ``render-chosen``, are also
synced to disk (``durable=True``), so they survive a power loss too; losing any other record to
a power loss costs a repeated free step (an upload, a download, a state read), never a second
charge. ``record_later`` (``sent``) is not waited for: it rides the next commit, and a kill
before it costs a state read or a render lookup on resume. A new journal is created unsynced and
synced whole (file, directory, WAL) by its first durable record: before that nothing was paid
for, so losing it costs free steps only.

Tables (schema version :data:`SCHEMA_VERSION`, kept in ``meta``):

- ``meta``: ``schema_version``, ``manifest_hash`` (a journal made for another manifest is
  refused), ``shard``, ``shared_session`` and ``shared_uploads`` (``--one-session``);
- ``jobs``: one row per job: ``status`` (``pending``, ``running``, ``done``, ``failed``,
  ``needs-attention``), ``phase`` (the last step reached), ids, output size and hash, the error;
- ``steps``: append-only, one row per step with its time and details (what ``--report`` and a
  human reading the file see).

``sqlite3`` is blocking, so it runs off the event loop, on the journal's own thread, in the order
the work was queued. A record someone waits for is handed to the thread at once (waiting for the
end of the event loop's pass cost each record a third of a millisecond on a busy loop); the
thread takes everything handed over while it was busy (concurrent jobs) into one transaction,
syncs the WAL once when any of it is durable (the other records are released before the sync),
and settles the futures on the loop. Reads (``row``, ``rows``...) run on the same thread after
the records queued before them. The connection needs no lock: the open uses it before the
thread starts, the thread alone while it runs, and the close after it has ended. A record is
one statement, an ``INSERT`` into a TEMP view whose trigger logs the step and updates the row
(``Journal._statement``): SQLite is called once a record, not four times (``BEGIN``,
``INSERT``, ``UPDATE``, ``COMMIT``), and the file's schema is untouched. The WAL is
checkpointed every ``_CHECKPOINT_EVERY`` records and once the last job started, on a connection
of the thread's own (a passive checkpoint does not hold up commits), and at close.

Why this is durable: in WAL mode with ``synchronous=NORMAL`` a commit appends its frames to the
WAL with ``write()`` and does not sync; once ``record`` returns they are in the kernel's page
cache, which a killed process does not lose. A durable record then syncs the WAL (``fdatasync``
on its own descriptor: a sync is per file, so it takes every frame committed before it) and
returns only after that, so ``sending`` is on disk before the POST it guards starts.
Checkpoints keep SQLite's own ordering (WAL synced before the database is written, the database
synced before the WAL is reused); without a WAL file (a filesystem that cannot share memory) a
durable record commits with ``synchronous=FULL`` instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from nemovideo._util.files import datasync
from nemovideo.errors import ValidationError

__all__ = ["SCHEMA_VERSION", "JobRow", "Journal", "JournalError", "read_journal"]

SCHEMA_VERSION = 1
_CHECKPOINT_EVERY = 500
"""Records between two checkpoints (a WAL of about a megabyte)."""
_LATER = 0.05
"""Seconds a ``record_later`` waits for another record's commit before it commits alone."""
_Entry = tuple[str, list[tuple[str, str]], dict[str, Any], bool]
_Request = tuple["asyncio.Future[None] | None", _Entry, bool]
"""A queued record: its future (None: nobody waits), what to write, whether to fsync the WAL."""
_Work = tuple[str, Any]
"""For the journal's thread: ``("write", records)``, ``("call", (future, fn, args))`` or
``("checkpoint", None)``, done in the order queued."""

_encode = json.JSONEncoder(default=str).encode


def _detail(detail: Mapping[str, Any]) -> str:
    """A step's details as JSON (a value JSON has no form for as its ``str``), by one encoder
    for every record: ``json.dumps(..., default=str)`` builds one a call (3.5 us, against 1.9)."""
    return _encode(detail if isinstance(detail, dict) else dict(detail))


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    job_id TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    phase TEXT NOT NULL DEFAULT 'new',
    session_id TEXT,
    uploads TEXT NOT NULL DEFAULT '[]',
    draft_before TEXT,
    render_id TEXT,
    output TEXT,
    size INTEGER,
    sha256 TEXT,
    error_type TEXT,
    error_code INTEGER,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS steps (
    seq INTEGER PRIMARY KEY, -- never deleted from: the rowid grows without AUTOINCREMENT's page
    job_id TEXT NOT NULL,
    step TEXT NOT NULL,
    detail TEXT,
    at REAL NOT NULL
);
"""

_FIELDS = (
    "status",
    "phase",
    "session_id",
    "uploads",
    "draft_before",
    "render_id",
    "output",
    "size",
    "sha256",
    "error_type",
    "error_code",
    "error",
    "attempts",
)


_KNOWN = frozenset(_FIELDS)


class JournalError(ValidationError):
    """A journal that cannot be used for this batch (another manifest, a newer schema, not a
    journal at all); nothing was sent."""


@attrs.frozen
class JobRow:
    """One job as the journal has it."""

    job_id: str
    position: int
    status: str
    phase: str
    session_id: str | None
    uploads: tuple[str, ...]
    draft_before: str | None
    render_id: str | None
    output: str | None
    size: int | None
    sha256: str | None
    error_type: str | None
    error_code: int | None
    error: str | None
    attempts: int
    updated_at: float

    @classmethod
    def from_values(cls, values: tuple[Any, ...]) -> JobRow:
        """A row selected as ``_SELECT_ROWS`` does (the fields in order, as a plain tuple: a
        resume reads a whole catalogue's rows, so no ``sqlite3.Row`` and no dict a row)."""
        uploads = values[5]
        found = () if not uploads or uploads == "[]" else tuple(json.loads(uploads))
        return cls(*values[:5], found, *values[6:])  # type: ignore[call-arg]  # the fields, in order

    def to_dict(self) -> dict[str, Any]:
        """The row as JSON-ready values."""
        data = attrs.asdict(self)
        data["uploads"] = list(self.uploads)
        return data


_SELECT_ROWS = f"SELECT {', '.join(a.name for a in attrs.fields(JobRow))} FROM jobs"


def _select_rows(conn: sqlite3.Connection, job_id: str | None = None) -> list[JobRow]:
    if job_id is None:
        cursor = conn.execute(f"{_SELECT_ROWS} ORDER BY position")
    else:
        cursor = conn.execute(f"{_SELECT_ROWS} WHERE job_id = ?", (job_id,))
    cursor.row_factory = None
    return [JobRow.from_values(values) for values in cursor]


def _connect(path: Path, new: bool = False) -> sqlite3.Connection:
    """``new``: the file is being created, unsynced until its first durable record syncs it whole
    (``Journal._sync``); the caller sets ``synchronous=NORMAL`` once it is set up."""
    conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA synchronous={'OFF' if new else 'NORMAL'}")
    if new:
        conn.execute("PRAGMA page_size=1024")
    if str(conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]).lower() != "wal" and new:
        conn.execute("PRAGMA synchronous=NORMAL")  # no WAL: every commit syncs as it goes
    conn.execute("PRAGMA wal_autocheckpoint=0")  # a checkpoint fsyncs: Journal runs it in a thread
    conn.execute("PRAGMA temp_store=MEMORY")  # the record views (Journal._statement)
    return conn


def _flat(steps: list[tuple[str, str]]) -> list[str]:
    return [text for pair in steps for text in pair]


def _meta(conn: sqlite3.Connection) -> dict[str, str]:
    try:
        return {k: v for k, v in conn.execute("SELECT key, value FROM meta")}
    except sqlite3.DatabaseError:
        return {}


class Journal:
    """An open journal; ``await Journal.open(...)``, then ``record()`` each step.

    Example::

        journal = await Journal.open("batch.db", manifest.digest, [j.id for j in jobs])
        await journal.record("sku-1", "session", session_id=session.id)
    """

    def __init__(
        self, path: Path, conn: sqlite3.Connection, lock: int = -1, *, new: bool = False
    ) -> None:
        self.path = path
        self._conn = conn
        self._lock_fd = lock
        self._requests: queue.SimpleQueue[_Work | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pending: list[_Request] = []
        self._flush_handle: asyncio.TimerHandle | None = None
        self._failure: JournalError | None = None
        self._closed = False
        self._since_checkpoint = 0
        self._statements: dict[tuple[tuple[str, ...], int], str] = {}
        self.rows_at_open: list[JobRow] = []
        """Every job's row as ``open`` found it (read in its thread: no second hop)."""
        self._wal_fd = self._db_fd = -1
        try:  # a durable record fsyncs the WAL through this
            if os.name == "posix":
                self._wal_fd = os.open(f"{path}-wal", os.O_RDONLY)
            if new and self._wal_fd >= 0:  # closed only after SQLite's own (POSIX locks)
                self._db_fd = os.open(path, os.O_RDONLY)
        except OSError:  # no WAL file (a filesystem without WAL): commit with synchronous=FULL
            pass
        self._unsynced = new  # created unsynced: the first durable record syncs it whole

    def __repr__(self) -> str:
        return f"<Journal {str(self.path)!r}>"

    @classmethod
    async def open(
        cls, path: str | Path, digest: str, job_ids: Iterable[str], *, shard: str = "1/1"
    ) -> Journal:
        """Create ``path`` or reopen it; refuse a journal of another manifest or shard.

        :raises JournalError: another manifest's journal, a newer schema, not a journal.
        """
        return await asyncio.to_thread(cls._open_sync, Path(path), digest, list(job_ids), shard)

    @classmethod
    def _open_sync(cls, path: Path, digest: str, job_ids: list[str], shard: str) -> Journal:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise JournalError(f"Cannot open the journal {path}: {exc}") from None
        lock = _lock(path)
        new = os.name == "posix" and not (path.is_file() and path.stat().st_size)
        try:
            conn = _connect(path, new)
        except (OSError, sqlite3.Error) as exc:
            _unlock(lock)
            raise JournalError(f"Cannot open the journal {path}: {exc}") from None
        try:
            with conn:
                conn.execute("BEGIN IMMEDIATE")
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                meta = _meta(conn)
                if not meta:
                    now = time.time()
                    conn.executemany(
                        "INSERT INTO meta VALUES (?, ?)",
                        [
                            ("schema_version", str(SCHEMA_VERSION)),
                            ("manifest_hash", digest),
                            ("shard", shard),
                            ("created_at", str(now)),
                        ],
                    )
                else:
                    _check_meta(path, meta, digest, shard)
                conn.executemany(
                    "INSERT OR IGNORE INTO jobs (job_id, position, updated_at) VALUES (?, ?, ?)",
                    [(job_id, i, time.time()) for i, job_id in enumerate(job_ids)],
                )
            conn.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.DatabaseError as exc:
            conn.close()
            _unlock(lock)
            raise JournalError(f"{path} is not a usable batch journal: {exc}") from None
        except JournalError:
            conn.close()
            _unlock(lock)
            raise
        journal = cls(path, conn, lock, new=new)
        journal.rows_at_open = journal._rows(None)
        return journal

    async def record(
        self,
        job_id: str,
        step: str,
        detail: Mapping[str, Any] | None = None,
        *,
        durable: bool = False,
        after: tuple[str, Mapping[str, Any]] | None = None,
        **fields: Any,
    ) -> None:
        """Append ``step`` to the log and set ``fields`` on the job's row, in a transaction that
        a killed process keeps by the time this returns; ``durable``: fsynced too (it survives
        a power loss). ``after``: a ``(step, detail)`` logged just before ``step``, in the same
        transaction (a step whose record could wait for the next one).

        Group commit: the records handed over while the journal's thread was busy (concurrent
        jobs) go into one transaction, and the durable ones among them share one fsync; a
        record that is not durable never waits for an fsync.
        """
        done = asyncio.get_running_loop().create_future()
        self._queue(done, job_id, step, detail, durable, after, fields)
        await done

    def submit(
        self, job_id: str, step: str, detail: Mapping[str, Any] | None = None, **fields: Any
    ) -> asyncio.Future[None]:
        """A record that rides the next commit, as ``record_later``'s do, and a future done once
        it is committed (failed with ``JournalError`` if it could not be). For a step that
        nothing but its own report waits for: a finished job's ``done`` goes into the next
        job's first commit instead of making one of its own, and its result is reported when
        the future is done. ``flush`` hands it over at once (nothing more is coming)."""
        done = asyncio.get_running_loop().create_future()
        self._queue(done, job_id, step, detail, False, None, fields, eager=False)
        return done

    def flush(self) -> None:
        """Hand what is queued to the journal's thread now instead of waiting for a record to
        carry it (the runner calls it when a worker has no job left)."""
        if self._pending and not self._closed:
            self._flush_now()

    def record_later(
        self, job_id: str, step: str, detail: Mapping[str, Any] | None = None, **fields: Any
    ) -> None:
        """Queue a record that the caller need not wait for: it goes into the next commit (the
        next ``record``'s, within ``_LATER`` seconds, or at close) instead of making its own.

        A killed process can lose it, so only a step whose loss a resume can tell belongs
        here (``sent``: the draft's hash and the render id recover it). A commit that fails
        for it is raised by the next ``record`` or by ``close``.
        """
        self._queue(None, job_id, step, detail, False, None, fields)

    def _queue(
        self,
        done: asyncio.Future[None] | None,
        job_id: str,
        step: str,
        detail: Mapping[str, Any] | None,
        durable: bool,
        after: tuple[str, Mapping[str, Any]] | None,
        fields: dict[str, Any],
        *,
        eager: bool = True,
    ) -> None:
        unknown = fields.keys() - _KNOWN
        if unknown:
            raise ValueError(f"unknown journal fields {sorted(unknown)}")
        if self._closed:
            raise JournalError(f"The journal {self.path} is closed; nothing was written.")
        if self._failure is not None:
            raise JournalError(str(self._failure))
        if "uploads" in fields:
            fields["uploads"] = json.dumps(list(fields["uploads"]))
        steps = [(step, _detail(detail) if detail else "{}")]
        if after is not None:
            steps.insert(0, (after[0], _detail(after[1])))
        synced = durable and self._wal_fd >= 0
        self._pending.append((done, (job_id, steps, fields, durable and not synced), synced))
        if done is not None and eager:  # someone waits: hand it over now, with the lazy ones
            self._flush_now()
        elif self._flush_handle is None:
            self._flush_handle = asyncio.get_running_loop().call_later(_LATER, self._flush)

    def _flush(self) -> None:
        """Hand the queued records to the journal's thread. It is woken at most once for the
        records handed over while it is busy (it takes them all into its next transaction),
        so concurrent jobs share a commit without waiting for one another."""
        self._flush_handle = None
        batch, self._pending = self._pending, []
        if batch:
            self._to_thread(("write", batch))
            self._since_checkpoint += len(batch)
            if self._since_checkpoint >= _CHECKPOINT_EVERY:
                self.checkpoint_soon()

    def _to_thread(self, work: _Work) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._work_forever,
                args=(asyncio.get_running_loop(),),
                name="nemovideo-journal",
                daemon=True,
            )
            self._thread.start()
        self._requests.put(work)

    def checkpoint_soon(self) -> None:
        """Copy the WAL into the database on the journal's thread now (a passive checkpoint, on
        a connection of its own: commits go on meanwhile), so that the close, which
        checkpoints what is left, is short. The runner calls it once the last job started."""
        self._since_checkpoint = 0
        self._to_thread(("checkpoint", None))

    async def _call(self, fn: Any, *args: Any) -> Any:
        """``fn(*args)`` on the journal's thread, after every record queued before it."""
        if self._closed:
            raise JournalError(f"The journal {self.path} is closed.")
        self._flush_now()
        done = asyncio.get_running_loop().create_future()
        self._to_thread(("call", (done, fn, args)))
        return await done

    def _work_forever(self, loop: asyncio.AbstractEventLoop) -> None:
        """The journal's thread, in the order the work was queued: the records handed over
        since its last commit go into one transaction (and one fsync of the WAL when any of
        them is durable; the others are released before it), reads, and checkpoints."""
        requests = self._requests
        checkpointer: sqlite3.Connection | None = None
        try:
            while (first := requests.get()) is not None:
                work = [first]
                with contextlib.suppress(queue.Empty):
                    while (item := requests.get_nowait()) is not None:
                        work.append(item)
                    requests.put(None)  # the close arrived with this work: end after it
                writes: list[_Request] = []
                for kind, payload in work:
                    if kind == "write":
                        writes += payload
                        continue
                    if writes:
                        self._commit(loop, writes)
                        writes = []
                    if kind == "call":
                        done, fn, args = payload
                        _resolve_from(loop, done, fn, *args)
                    else:  # a checkpoint that cannot run now runs at close
                        with contextlib.suppress(sqlite3.Error):
                            checkpointer = checkpointer or _checkpointer(self.path)
                            checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                if writes:
                    self._commit(loop, writes)
        finally:
            if checkpointer is not None:
                checkpointer.close()

    def _commit(self, loop: asyncio.AbstractEventLoop, batch: list[_Request]) -> None:
        try:
            self._write([entry for _, entry, _ in batch])
        except Exception as exc:
            error = self._write_error(exc)
            if any(done is None for done, _, _ in batch):  # nobody waits: the next record fails
                self._failure = self._failure or error
            _hand_back(loop, batch, error)
            return
        durable = [request for request in batch if request[2]]
        if len(durable) < len(batch):  # the others need not wait for the disk
            _hand_back(loop, [r for r in batch if not r[2] and r[0] is not None], None)
        if durable:
            try:
                self._sync_now()
            except Exception as exc:
                _hand_back(loop, durable, self._write_error(exc))
                return
            _hand_back(loop, durable, None)

    def _write_error(self, exc: BaseException) -> JournalError:
        return JournalError(f"Cannot write the journal {self.path}: {exc}")

    def _write(self, entries: list[_Entry]) -> None:
        full = any(entry[3] for entry in entries)
        now = time.time()
        conn = self._conn
        records = [
            (
                self._statement(tuple(fields), len(steps)),
                (job_id, now, *_flat(steps), *fields.values()),
            )
            for job_id, steps, fields, _ in entries
        ]
        if full:
            conn.execute("PRAGMA synchronous=FULL")
        try:
            if len(records) == 1:  # one statement: SQLite's own transaction
                conn.execute(*records[0])
            else:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    for statement, values in records:
                        conn.execute(statement, values)
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.rollback()
                    raise
        finally:
            if full:
                conn.execute("PRAGMA synchronous=NORMAL")

    def _statement(self, fields: tuple[str, ...], steps: int) -> str:
        """The one statement that makes a record of these ``fields`` and ``steps``.

        A record appends its steps to the log and updates the job's row, and costs the event
        loop a call into SQLite per statement: so it is one ``INSERT`` into a TEMP view (this
        connection's only; the file's schema is untouched) whose ``INSTEAD OF`` trigger does
        both, in the statement's own transaction. A view per shape of record (a dozen), made on
        first use.
        """
        key = (fields, steps)
        statement = self._statements.get(key)
        if statement is None:
            name = f"record_{len(self._statements)}"
            pairs = [(f"step{i}", f"detail{i}") for i in range(steps)]
            columns = ["job_id", "at", *[c for pair in pairs for c in pair], *fields]
            log = "".join(
                f"INSERT INTO steps (job_id, step, detail, at) "
                f"VALUES (NEW.job_id, NEW.{step}, NEW.{detail}, NEW.at); "
                for step, detail in pairs
            )
            sets = "".join(f"{field} = NEW.{field}, " for field in fields)
            self._conn.execute(
                f"CREATE TEMP VIEW {name} ({', '.join(columns)}) "
                f"AS SELECT {', '.join('NULL' for _ in columns)}"
            )
            self._conn.execute(
                f"CREATE TEMP TRIGGER {name}_insert INSTEAD OF INSERT ON {name} BEGIN {log}"
                f"UPDATE jobs SET {sets}updated_at = NEW.at WHERE job_id = NEW.job_id; END"
            )
            statement = f"INSERT INTO {name} VALUES ({', '.join('?' for _ in columns)})"
            self._statements[key] = statement
        return statement

    def _sync_now(self) -> None:
        if self._unsynced:  # once, for a new journal: its file and both directory entries
            if self._db_fd >= 0:
                os.fsync(self._db_fd)
            folder = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)
            self._unsynced = False
        datasync(self._wal_fd)

    def _flush_now(self) -> None:
        """Hand over what is queued now (a ``record_later`` may be waiting for company)."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
        self._flush()

    async def row(self, job_id: str) -> JobRow:
        """The job's current row."""
        rows = await self._call(self._rows, job_id)
        return rows[0]  # type: ignore[no-any-return]

    async def rows(self) -> list[JobRow]:
        """Every job's row, in manifest order."""
        rows: list[JobRow] = await self._call(self._rows, None)
        return rows

    def _rows(self, job_id: str | None) -> list[JobRow]:
        return _select_rows(self._conn, job_id)

    async def get_meta(self, key: str) -> str | None:
        """A ``meta`` value (``shared_session``...)."""
        meta: dict[str, str] = await self._call(_meta, self._conn)
        return meta.get(key)

    async def set_meta(self, key: str, value: str, step: str) -> None:
        """Set a ``meta`` value and log ``step`` (job ``*``), in one durable transaction."""
        await self._call(self._set_meta, key, value, step)

    def _set_meta(self, key: str, value: str, step: str) -> None:
        with self._conn:
            self._conn.execute("BEGIN IMMEDIATE")
            self._conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
            self._conn.execute(
                "INSERT INTO steps (job_id, step, detail, at) VALUES (?, ?, ?, ?)",
                ("*", step, json.dumps({key: value}), time.time()),
            )

    async def close(self) -> None:
        """Commit what is queued, close the file (a WAL checkpoint happens here) and let
        another run open it.

        :raises JournalError: a queued record could not be written (the file is closed anyway).
        """
        if not self._closed:
            self._closed = True
            self._flush_now()
            thread, self._thread = self._thread, None
            if thread is not None:  # it syncs what is queued first
                self._requests.put(None)
                await asyncio.shield(asyncio.to_thread(thread.join))
            await asyncio.to_thread(self._close)  # the thread has ended
        if self._failure is not None:
            raise JournalError(str(self._failure))

    def _close(self) -> None:
        self._conn.close()
        for fd in (self._wal_fd, self._db_fd):
            if fd >= 0:
                os.close(fd)
        self._wal_fd = self._db_fd = -1
        _unlock(self._lock_fd)
        self._lock_fd = -1


def _lock(path: Path) -> int:
    """An exclusive lock on ``<journal>.lock`` for the run (released by the kernel if the
    process dies): two runs on one journal would each send the same jobs."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory lock
        return -1
    try:
        fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise JournalError(f"Cannot lock the journal {path}: {exc.strerror or exc}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise JournalError(
            f"Another nemovideo batch is running on the journal {path}: wait for it to end, "
            "or give this run its own --journal (a shard has its own)."
        ) from None
    return fd


def _unlock(fd: int) -> None:
    if fd >= 0:
        os.close(fd)


def _check_meta(path: Path, meta: dict[str, str], digest: str, shard: str) -> None:
    try:
        version = int(meta.get("schema_version", "0"))
    except ValueError:
        version = -1
    if version != SCHEMA_VERSION:
        raise JournalError(
            f"{path} has journal schema {meta.get('schema_version')!r}; this nemovideo reads "
            f"version {SCHEMA_VERSION}. Use the nemovideo that wrote it, or another --journal."
        )
    if meta.get("manifest_hash") != digest:
        raise JournalError(
            f"{path} is the journal of another manifest (or the manifest changed since): "
            "resuming it could send jobs twice or skip them. Restore the manifest it was made "
            "for, or pass another --journal for this one."
        )
    if meta.get("shard", "1/1") != shard:
        raise JournalError(
            f"{path} is the journal of shard {meta.get('shard')}, not {shard}: "
            "each shard keeps its own journal."
        )


def read_journal(path: str | Path) -> tuple[dict[str, str], list[JobRow], list[dict[str, Any]]]:
    """``(meta, rows, steps)`` of a journal, read-only (blocking; for ``--report``).

    :raises JournalError: the file is missing or is not a journal.
    """
    source = Path(path)
    if not source.is_file():
        raise JournalError(f"No journal at {source}.")
    try:
        conn = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        try:
            meta = _meta(conn)
            if "manifest_hash" not in meta:
                raise JournalError(f"{source} is not a nemovideo batch journal.")
            rows = _select_rows(conn)
            steps = [dict(r) for r in conn.execute("SELECT * FROM steps ORDER BY seq")]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise JournalError(f"{source} is not a usable batch journal: {exc}") from None
    return meta, rows, steps


def _hand_back(
    loop: asyncio.AbstractEventLoop, requests: list[_Request], error: JournalError | None
) -> None:
    """Settle the futures of ``requests`` on their event loop (from the journal's thread)."""
    with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
        loop.call_soon_threadsafe(_settle_all, requests, error)


def _settle_all(requests: list[_Request], error: JournalError | None) -> None:
    for done, _, _ in requests:
        if done is not None:
            _settle_one(done, None, error)


def _checkpointer(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)


def _resolve_from(
    loop: asyncio.AbstractEventLoop, done: asyncio.Future[Any], fn: Any, *args: Any
) -> None:
    """Run ``fn(*args)`` here (the journal's thread) and settle ``done`` with its outcome."""
    try:
        result, error = fn(*args), None
    except Exception as exc:
        result, error = None, exc
    with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
        loop.call_soon_threadsafe(_settle_one, done, result, error)


def _settle_one(done: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if not done.done():
        if error is None:
            done.set_result(result)
        else:
            done.set_exception(error)
