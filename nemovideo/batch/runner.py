"""The batch runner: every job through session -> upload -> chat -> render -> download, exactly once.

Each job is a small state machine whose every step is recorded in the journal *before* its side
effect (``journal.py``). On a restart, a job carries on from its last recorded step:

- ``session``: the recorded session is reattached (``client.session(id)``), never created again;
- ``upload``: files already recorded are not uploaded again;
- ``sending`` (the POST may or may not have reached the server): the message is never re-sent;
  the session's state is read until the draft shows the work (then it was sent), and when it
  does not change the job is marked ``needs-attention`` with the reason and the session id;
- ``render``: the render id chosen before the submit is polled (``client.renderer.resume``), or
  submitted under that same id when the server does not know it;
- download: a ``.part`` file beside the output is continued with an HTTP Range request; the
  output appears only whole (renamed), and its size and SHA-256 go into the journal.

A job's failure is recorded with its typed error and does not stop the others. A 2001 (no
credits), 402 (export blocked), 429 (rate limited past the policy) or 1001 stops starting new
jobs: the jobs left are reported ``pending`` with that error, ready for the next run.

Test hook (not for production): with ``NEMOVIDEO_BATCH_TEST_KILL_AT=<step>[:<job id>[:<signal>]]``
in the environment, the process sends itself SIGKILL (or ``INT``, ``TERM``...) right after that
step (see ``docs/batch.md``), so tests can kill a real batch at an exact point and prove the
resume.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import re
import signal
import stat
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, Union, cast

import aiohttp
import attrs

from nemovideo._util.files import BackgroundFlusher, sync_and_close
from nemovideo.batch.journal import JobRow, Journal
from nemovideo.batch.manifest import BatchJob, Manifest, load_manifest, manifest_from_jobs
from nemovideo.batch.shard import parse_shard, shard_jobs
from nemovideo.chat import send_message
from nemovideo.errors import (
    APIError,
    AuthenticationError,
    DownloadError,
    ExportBlockedError,
    InsufficientCreditsError,
    NemoError,
    NotFoundError,
    RateLimitError,
    SessionNotFoundError,
    TransportError,
    ValidationError,
)
from nemovideo.render import new_render_id
from nemovideo.render._download import prepend, video_head, write_all

if TYPE_CHECKING:
    from nemovideo.client import NemoClient
    from nemovideo.draft import Draft
    from nemovideo.render import ExportFormat, ExportQuality, RenderJob
    from nemovideo.session import Session

__all__ = ["KILL_HOOK_ENV", "BatchResult", "JobAttentionError", "JournaledError", "run_batch"]

KILL_HOOK_ENV = "NEMOVIDEO_BATCH_TEST_KILL_AT"
_CHUNK = 64 * 1024
_STOPPERS = (InsufficientCreditsError, ExportBlockedError, RateLimitError, AuthenticationError)
_NOT_RECEIVED = (*_STOPPERS, SessionNotFoundError, ValidationError)
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
_WHOLE_RANGE = re.compile(r"bytes \*/(\d+)")

EventCallback = Callable[[str, Mapping[str, Any]], Any]
_Carry = tuple[list[str], tuple[str, dict[str, Any]]]
"""A job's last upload, journaled with the intent of ``sending`` (the next record)."""


class JobAttentionError(NemoError):
    """A job the runner will not guess about: settle it by hand (``docs/batch.md``).

    :ivar session_id: the session to look at.
    """

    def __init__(self, message: str, *, session_id: str | None = None) -> None:
        super().__init__(message)
        self.session_id = session_id

    def __reduce__(self) -> Any:
        return (_rebuild_attention, (str(self), self.session_id))


def _rebuild_attention(message: str, session_id: str | None) -> JobAttentionError:
    return JobAttentionError(message, session_id=session_id)


class JournaledError(NemoError):
    """A job's error as an earlier run recorded it: ``error_type`` names the original class."""

    def __init__(
        self, message: str, *, error_type: str | None = None, code: int | None = None
    ) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.code = code

    def __reduce__(self) -> Any:
        return (_rebuild_journaled, (str(self), self.error_type, self.code))


def _rebuild_journaled(message: str, error_type: str | None, code: int | None) -> JournaledError:
    return JournaledError(message, error_type=error_type, code=code)


@attrs.frozen
class BatchResult:
    """What became of one job in this run.

    ``status``: ``"done"`` (``path`` holds the whole video), ``"failed"`` (``error`` says why;
    ``--retry-failed`` runs it again), ``"needs-attention"`` (the runner could not tell whether
    the message reached the server; ``error.session_id`` is the session to look at) or
    ``"pending"`` (not finished: the batch stopped, ``error`` says why; the next run goes on).
    ``resumed`` is true for a job finished by an earlier run.
    """

    job_id: str
    status: str
    path: Path | None = None
    render_id: str | None = None
    session_id: str | None = None
    error: NemoError | None = attrs.field(default=None, eq=False)
    size: int | None = None
    sha256: str | None = None
    resumed: bool = False
    seconds: float | None = attrs.field(default=None, eq=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the error as ``{"type", "message", "code"}``."""
        error = None
        if self.error is not None:
            error = {
                "type": getattr(self.error, "error_type", None) or type(self.error).__name__,
                "message": str(self.error),
                "code": getattr(self.error, "code", None),
            }
            url = getattr(self.error, "registration_url", None)
            if url:
                error["registration_url"] = url
        return {
            "job_id": self.job_id,
            "status": self.status,
            "path": str(self.path) if self.path else None,
            "render_id": self.render_id,
            "session_id": self.session_id,
            "error": error,
            "size": self.size,
            "sha256": self.sha256,
            "resumed": self.resumed,
        }


def draft_fingerprint(draft_json: Any) -> str:
    """A stable hash of a draft, to tell whether the agent changed it."""
    text = json.dumps(draft_json, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _no_hook(at: str, job_id: str) -> None:
    """The kill hook when the test variable is not set."""


def _kill_hook() -> Callable[[str, str], None]:
    step, job, name = ([*os.environ.get(KILL_HOOK_ENV, "").split(":"), "", ""])[:3]
    if not step:
        return _no_hook
    number = getattr(signal, f"SIG{name}", signal.SIGKILL) if name else signal.SIGKILL

    def hook(at: str, job_id: str) -> None:
        if at == step and (not job or job == job_id):
            os.kill(os.getpid(), number)

    return hook


def _error_fields(exc: NemoError) -> dict[str, Any]:
    code = getattr(exc, "code", None)
    return {
        "error_type": type(exc).__name__,
        "error": str(exc)[:2000],
        "error_code": code if isinstance(code, int) else None,
    }


def _stored_error(row: JobRow) -> NemoError | None:
    if not row.error:
        return None
    if row.status == "needs-attention":
        return JobAttentionError(row.error, session_id=row.session_id)
    return JournaledError(row.error, error_type=row.error_type, code=row.error_code)


class _Stopped(Exception):
    def __init__(self, error: NemoError) -> None:
        self.error = error


@attrs.frozen
class _Landing:
    """A downloaded job whose ``done`` record is on its way to the journal: its worker goes on
    to the next job; once ``committed``, ``part`` is renamed to the output and ``result`` is
    reported (a result is never reported before the journal holds it, and an output never
    appears before its ``done``: a resume finds either the part, or the journal's ``done``)."""

    committed: asyncio.Future[None]
    result: BatchResult
    part: Path
    final: Path


@attrs.define
class _Context:
    client: NemoClient
    journal: Journal
    out_dir: Path
    one_session: bool
    emit: EventCallback
    hook: Callable[[str, str], None]
    shared_lock: asyncio.Lock = attrs.Factory(asyncio.Lock)
    parts: dict[Path, set[str]] = attrs.Factory(dict)
    folders: set[Path] = attrs.Factory(set)
    stop: NemoError | None = None


async def _event(ctx: _Context, kind: str, **data: Any) -> None:
    outcome = ctx.emit(kind, data)
    if asyncio.iscoroutine(outcome):
        await outcome


async def _shared_session(ctx: _Context, jobs: Iterable[BatchJob]) -> Session:
    """``--one-session``: one session, every job's files uploaded once (journaled in ``meta``)."""
    async with ctx.shared_lock:
        journal, client = ctx.journal, ctx.client
        sid = await journal.get_meta("shared_session")
        if sid is None:
            session = await client.create_session(task_name="batch")
            await journal.set_meta("shared_session", session.id, "session")
            ctx.hook("session", "*")
        else:
            session = client.session(sid)
        done = json.loads(await journal.get_meta("shared_uploads") or "[]")
        wanted: list[str] = []
        for job in jobs:
            wanted += [str(p) for p in job.paths if str(p) not in wanted]
        for path in wanted:
            if path in done:
                continue
            await session.upload([path])
            done.append(path)
            await journal.set_meta("shared_uploads", json.dumps(done), "upload")
            ctx.hook("upload", "*")
        urls = [u for job in jobs for u in job.urls]
        if urls and await journal.get_meta("shared_urls") is None:
            await session.upload_urls(urls)
            await journal.set_meta("shared_urls", json.dumps(urls), "upload-urls")
        return session


async def _recover(session: Session, before: str) -> bool:
    """Was a message whose POST may have reached the server acted on? Read state, never re-send.

    True once the draft differs from the one recorded before the send (and has settled); False
    when it stays the same over ``recovery_max_polls`` reads.
    """
    config = session.client.config
    wait = config.recovery_first_wait
    for _ in range(max(1, config.recovery_max_polls)):
        state = await session.state()
        seen = draft_fingerprint(state.draft.raw)
        if seen != before:
            for _ in range(20):
                await asyncio.sleep(config.settle_wait)
                again = draft_fingerprint((await session.state()).draft.raw)
                if again == seen:
                    break
                seen = again
            return True
        await asyncio.sleep(wait)
        wait = config.recovery_wait
    return False


async def _known_render(ctx: _Context, session: Session, render_id: str | None) -> RenderJob | None:
    """The render under ``render_id`` if the server knows it (polled once), else None. For a
    job stopped in ``sending`` it also answers whether the message was sent: the render is
    submitted only after the reply (``sent``, a ``record_later``, may not have reached the
    journal before a kill)."""
    if render_id is None:
        return None
    try:
        return await ctx.client.renderer.resume(render_id, session_id=session.id)
    except NotFoundError:
        return None


async def _send(
    ctx: _Context, job: BatchJob, session: Session, render_id: str, carry: _Carry | None
) -> tuple[JobAttentionError | None, Draft | None]:
    """Journal ``sending``, POST the instruction, journal ``sent``; a failure after the POST may
    have reached the server is settled by reading state, never by sending again.

    ``sending`` is one record, made once the chat has read the session's state and fsynced
    before the POST: the instruction, the id the job's render will have and the hash of the
    draft that read returned. So a journal without it proves the POST never left, even after
    a power loss; a journal with it is settled by reading state (a kill in the fsync's
    millisecond, before the POST, leaves an unchanged draft: ``needs-attention``, never a
    guess). ``sent`` is a ``record_later``: the render id and the hash recover it.

    Returns the job's ``needs-attention`` (None: sent) and the draft the reply read once the
    edit had landed, for the export to submit instead of reading it again (None: read it).
    """
    journal = ctx.journal
    before: str | None = None

    async def sending(draft: Draft) -> None:
        nonlocal before
        fingerprint = draft_fingerprint(draft.raw)
        await journal.record(
            job.id,
            "sending",
            {"instruction": job.instruction, "render_id": render_id},
            phase="sending",
            render_id=render_id,
            draft_before=fingerprint,
            durable=True,
            after=None if carry is None else carry[1],
            **({} if carry is None else {"uploads": carry[0]}),
        )
        before = fingerprint
        if carry is not None:
            ctx.hook("upload", job.id)
        ctx.hook("sending", job.id)

    pieces = 0

    def on_text(_piece: str) -> None:
        nonlocal pieces
        pieces += 1
        if pieces <= 2:
            ctx.hook("posted" if pieces == 1 else "mid-stream", job.id)

    try:
        reply = await send_message(
            session,
            job.instruction,
            on_text=None if ctx.hook is _no_hook else on_text,  # a call a text event otherwise
            before_post=sending,
        )
    except BaseException as exc:
        if before is None:  # stopped before the POST: a ``sending`` committed is withdrawn,
            fields: dict[str, Any] = {"phase": "uploaded"}
            if carry is not None:  # and the last upload recorded
                fields["uploads"] = carry[0]
            with contextlib.suppress(Exception):
                after = None if carry is None else carry[1]
                await journal.record(
                    job.id, "unsent", {"error": type(exc).__name__}, after=after, **fields
                )
            raise
        if isinstance(exc, _NOT_RECEIVED):
            await journal.record(job.id, "unsent", {"error": type(exc).__name__}, phase="uploaded")
            raise
        if not isinstance(exc, NemoError):
            raise
        if await _recover(session, before):
            await ctx.journal.record(
                job.id, "sent", {"recovered": type(exc).__name__}, phase="sent"
            )
            return None, None
        attention = JobAttentionError(
            f"Job {job.id}: the message may have reached the server ({type(exc).__name__}: "
            f"{exc}) but session {session.id}'s draft did not change; it was not sent again.",
            session_id=session.id,
        )
        return attention, None
    journal.record_later(job.id, "sent", {"text": reply.text[:500]}, phase="sent")
    ctx.hook("sent", job.id)
    if reply.question is not None:
        attention = JobAttentionError(
            f"Job {job.id}: the agent asked a question instead of editing "
            f"({reply.question.title or 'a choice'}); answer it in session {session.id}.",
            session_id=session.id,
        )
        return attention, None
    return None, None if reply.pending else reply.draft


def _part_of(final: Path, render_id: str) -> Path:
    """Where the render's bytes go until the journal says ``done``: named after the render, so
    bytes of another render (a retried job, another manifest writing the same name) are never
    continued or taken for this one."""
    return final.with_name(f".{final.name}.{render_id}.part")


async def _download(
    ctx: _Context, job: BatchJob, sources: list[str], part: Path, final: Path
) -> tuple[int, str]:
    """The first of ``sources`` that works into ``part`` (``_part_of``), continuing a part left
    by a killed run with a Range request, synced; ``(size, sha256)``. The part is renamed to
    ``final`` by ``_place`` once ``done`` is committed."""
    for number, url in enumerate(sources, 1):
        try:
            start = _part_length(part, ctx.folders)
            prefix = await asyncio.to_thread(_hash_prefix, part, start) if start else None
            try:
                return await _fetch(ctx, job, url, part, start, prefix)
            except _Overlong:  # longer than the file: not this render's bytes, start over
                os.unlink(part)
                return await _fetch(ctx, job, url, part, 0, None)
        except (TransportError, APIError):
            if number == len(sources):
                raise
        except OSError as exc:
            if isinstance(exc, NemoError):
                raise
            raise DownloadError(
                f"Cannot save {final}: {exc.strerror or exc}", path=str(final)
            ) from None
    raise AssertionError("unreachable: the last source raises")  # pragma: no cover


def _place(ctx: _Context, part: Path, final: Path) -> None:
    """Rename a whole part to its output (after ``done`` is committed) and drop other renders'
    parts of that output."""
    try:
        os.replace(part, final)
        _discard_parts(ctx, final)
    except OSError as exc:
        raise DownloadError(
            f"Cannot save {final}: {exc.strerror or exc}", path=str(final)
        ) from None


def _place_left_parts(rows: Iterable[JobRow]) -> None:
    """Finish the rename of a ``done`` job whose run was killed between the commit and the
    rename: its output is missing and its part is there, whole (the journal's size and hash)."""
    for row in rows:
        if row.output is None or row.render_id is None:
            continue
        final = Path(row.output)
        part = _part_of(final, row.render_id)
        with contextlib.suppress(OSError):
            if final.exists() or part.stat().st_size != row.size:
                continue
            if _hash_prefix(part, None).hexdigest() == row.sha256:
                os.replace(part, final)


class _Overlong(Exception):
    """A part longer than the file the server has (a 416 naming a smaller size)."""


async def _fetch(
    ctx: _Context, job: BatchJob, url: str, part: Path, start: int, prefix: Any
) -> tuple[int, str]:
    """GET ``url`` into ``part`` from ``start`` on (Range); ``(byte count, sha256)``.

    ``prefix`` is the SHA-256 state of the part's first ``start`` bytes (None when there is no
    part), so the whole file is hashed as it is written, never read back."""
    name = part.name.removeprefix(".").rsplit(".", 2)[0]
    hooked = False

    async def consume(resp: aiohttp.ClientResponse) -> tuple[int, str]:
        nonlocal hooked
        offset, total = 0, resp.content_length
        if resp.status == 416:  # nothing after ``start``: the part is whole, or too long
            whole = _WHOLE_RANGE.match(resp.headers.get("Content-Range", ""))
            size = int(whole.group(1)) if whole else -1
            if size == start and prefix is not None:  # killed before its ``done`` landed
                synced = os.open(part, os.O_RDONLY)  # the kill may have come before its sync
                await asyncio.to_thread(sync_and_close, synced)
                return start, prefix.hexdigest()
            if 0 <= size < start:
                raise _Overlong
            raise TransportError(f"Download of {name}: 416 without a usable Content-Range")
        if resp.status == 206:
            match = _CONTENT_RANGE.match(resp.headers.get("Content-Range", ""))
            if match is None or int(match.group(1)) > start:
                raise TransportError(f"Download of {name}: an unusable Content-Range")
            offset = int(match.group(1))
            total = None if match.group(3) == "*" else int(match.group(3))
        if offset == 0:
            digest = hashlib.sha256()
        elif offset == start and prefix is not None:
            digest = prefix.copy()
        else:
            digest = await asyncio.to_thread(_hash_prefix, part, offset)
        chunks: AsyncIterator[bytes] = resp.content.iter_chunked(_CHUNK)
        if offset == 0:  # a 200 that is no video (an error page, JSON): nothing is written
            chunks = prepend(await video_head(resp, name), chunks)
        fd = os.open(part, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            os.ftruncate(fd, offset)
            os.lseek(fd, offset, os.SEEK_SET)
            flusher = BackgroundFlusher(fd)  # a big render reaches the disk as it arrives
            done = offset
            try:
                async for chunk in chunks:
                    write_all(fd, chunk)
                    flusher.wrote(len(chunk))
                    digest.update(chunk)
                    done += len(chunk)
                    if not hooked and (total is None or done < total):
                        hooked = True
                        ctx.hook("download-partial", job.id)
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                raise TransportError(f"Download of {name} broke after {done} bytes") from exc
            await flusher.sync()
        finally:
            os.close(fd)
        if total is not None and done != total:
            raise TransportError(f"Download of {name} is incomplete: {done} of {total} bytes")
        return done, digest.hexdigest()

    return await ctx.client.api.download(url, consume, start=start)


def _discard_parts(ctx: _Context, final: Path) -> None:
    """Parts of other renders of this output (a job retried after its download began, another
    manifest's): the ones in the directory when this run first wrote there, since only those can
    be another render's (this run writes one part per job, renamed when whole). The directory is
    listed once a run, not once a job."""
    found = ctx.parts.get(final.parent)
    if found is None:
        try:
            names = {e.name for e in os.scandir(final.parent) if e.name.endswith(".part")}
        except OSError:
            names = set()
        found = ctx.parts[final.parent] = names
    prefix = f".{final.name}."
    for name in [n for n in found if n.startswith(prefix) and "." not in n[len(prefix) : -5]]:
        found.discard(name)
        with contextlib.suppress(OSError):
            (final.parent / name).unlink()


def _part_length(part: Path, made: set[Path]) -> int:
    """Make the output's directory (once a run: ``made``); the length of a part a killed run
    left (0: none)."""
    if part.parent not in made:
        part.parent.mkdir(parents=True, exist_ok=True)
        made.add(part.parent)
    try:
        found = os.stat(part)
    except FileNotFoundError:
        return 0
    return found.st_size if stat.S_ISREG(found.st_mode) else 0


def _hash_prefix(part: Path, length: int | None) -> Any:
    digest = hashlib.sha256()
    left = length
    with open(part, "rb") as source:
        while left is None or left > 0:
            block = source.read(1 << 20 if left is None else min(1 << 20, left))
            if not block:
                break
            digest.update(block)
            if left is not None:
                left -= len(block)
    return digest


async def _render(
    ctx: _Context,
    job: BatchJob,
    session: Session,
    render_id: str | None,
    *,
    fresh: bool = False,
    draft: Draft | None = None,
    render: RenderJob | None = None,
) -> tuple[str, list[str]]:
    """The render of ``job``: ``render`` when the caller already found it, a recorded id polled,
    or submitted under that id (``fresh``: it was journaled with this run's ``sending``, so the
    server cannot know it yet), else a new id recorded first; returns ``(render_id, download
    sources)``."""
    if render is None:
        if render_id is None:
            render_id = new_render_id()
            await ctx.journal.record(
                job.id, "render-chosen", phase="render", render_id=render_id, durable=True
            )
            ctx.hook("render-chosen", job.id)
        elif fresh:
            ctx.hook("render-chosen", job.id)
        else:
            render = await _known_render(ctx, session, render_id)
    if render is None:
        render = await session.export(
            format=cast("ExportFormat", job.format),
            quality=cast("ExportQuality", job.quality),
            draft=draft,
            render_id=render_id,
        )
        ctx.hook("render-submitted", job.id)
    polled = False

    def progress(percent: int, _total: int) -> None:
        nonlocal polled
        if not polled and percent < 100:
            polled = True
            ctx.hook("render-polled", job.id)

    result = await render.wait(progress=None if ctx.hook is _no_hook else progress)
    fallback = str(ctx.client.api.url("/api/render/proxy/{id}/download", {"id": render.id}))
    return render.id, [u for u in (result.url, fallback) if u]


async def _run_job(
    ctx: _Context, job: BatchJob, row: JobRow, jobs: list[BatchJob]
) -> BatchResult | _Landing:
    started = time.monotonic()
    journal, client = ctx.journal, ctx.client
    begin: dict[str, Any] = {
        "status": "running",
        "attempts": row.attempts + 1,
        "error": None,
        "error_type": None,
        "error_code": None,
    }
    await _event(ctx, "start", job_id=job.id)
    phase = row.phase
    if ctx.one_session:
        await journal.record(job.id, "start", **begin)
        session = await _shared_session(ctx, jobs)
        if row.session_id is None:
            await journal.record(job.id, "session", phase="uploaded", session_id=session.id)
            phase = "uploaded"
    elif row.session_id is None:
        session = await client.create_session(task_name=job.id[:100])
        phase = "session" if job.files or job.urls else "uploaded"
        await journal.record(job.id, "session", phase=phase, session_id=session.id, **begin)
        ctx.hook("session", job.id)
    else:
        await journal.record(job.id, "start", **begin)
        session = client.session(row.session_id)
    carry: _Carry | None = None
    if phase in ("new", "session"):
        uploads = list(row.uploads)
        paths = job.paths
        for index, path in enumerate(paths):
            if index < len(uploads):
                continue
            media = await session.upload([path])
            uploads.append(media[0].url or job.files[index] if media else job.files[index])
            if index == len(paths) - 1 and not job.urls:  # nothing is sent before the intent
                carry = (list(uploads), ("upload", {"file": job.files[index]}))
                break
            await journal.record(job.id, "upload", {"file": job.files[index]}, uploads=uploads)
            ctx.hook("upload", job.id)
        if job.urls:
            await session.upload_urls(list(job.urls))
            await journal.record(job.id, "uploaded", {"urls": len(job.urls)}, phase="uploaded")
        phase = "uploaded"
    attention: JobAttentionError | None = None
    draft: Draft | None = None  # the draft to render, when the reply just read it
    known: RenderJob | None = None  # the render, when resuming found it
    render_id: str | None = row.render_id
    fresh = False
    if phase == "uploaded":
        fresh = render_id is None  # an id journaled earlier may have been submitted: resume it
        render_id = render_id or new_render_id()
        attention, draft = await _send(ctx, job, session, render_id, carry)
        phase = "sent"
    elif phase == "sending":
        known = await _known_render(ctx, session, render_id)
        if known is not None:
            await journal.record(job.id, "sent", {"recovered": "the render exists"}, phase="sent")
            phase = "sent"
        elif row.draft_before is None:
            attention = JobAttentionError(
                f"Job {job.id}: the run stopped while its message was being sent, and the "
                "journal holds no hash of the draft before it, so it cannot tell whether session "
                f"{session.id} got it; it was not sent again.",
                session_id=session.id,
            )
        elif await _recover(session, row.draft_before):
            await journal.record(job.id, "sent", {"recovered": "the draft changed"}, phase="sent")
            phase = "sent"
        else:
            attention = JobAttentionError(
                f"Job {job.id}: the run stopped while its message was being sent, and session "
                f"{session.id}'s draft has not changed since; it was not sent again.",
                session_id=session.id,
            )
    if attention is not None:
        await journal.record(
            job.id,
            "needs-attention",
            status="needs-attention",
            error=str(attention),
            error_type="JobAttentionError",
        )
        return BatchResult(
            job.id,
            "needs-attention",
            session_id=session.id,
            error=attention,
            seconds=time.monotonic() - started,
        )
    render_id, sources = await _render(
        ctx, job, session, render_id, fresh=fresh, draft=draft, render=known
    )
    final = job.output(ctx.out_dir)
    part = _part_of(final, render_id)
    size, digest = await _download(ctx, job, sources, part, final)
    ctx.hook("downloaded", job.id)
    committed = journal.submit(
        job.id,
        "done",
        {"path": str(final)},
        status="done",
        phase="done",
        output=str(final),
        size=size,
        sha256=digest,
    )
    result = BatchResult(
        job.id,
        "done",
        path=final,
        render_id=render_id,
        session_id=session.id,
        size=size,
        sha256=digest,
        seconds=time.monotonic() - started,
    )
    return _Landing(committed, result, part, final)


async def _attempt(
    ctx: _Context, job: BatchJob, row: JobRow, jobs: list[BatchJob]
) -> BatchResult | _Landing:
    try:
        return await _run_job(ctx, job, row, jobs)
    except _STOPPERS as exc:
        await ctx.journal.record(
            job.id, "stopped", {"error": type(exc).__name__}, status="pending", **_error_fields(exc)
        )
        raise _Stopped(exc) from None
    except NemoError as exc:
        row = await ctx.journal.row(job.id)
        await _record_failure(ctx, job.id, exc)
        return BatchResult(
            job.id, "failed", render_id=row.render_id, session_id=row.session_id, error=exc
        )


async def _record_failure(ctx: _Context, job_id: str, exc: NemoError) -> None:
    """Journal a job's failure with its typed error (``--retry-failed`` runs it again)."""
    fields = _error_fields(exc)
    await ctx.journal.record(
        job_id, "failed", {"error": fields["error_type"]}, status="failed", **fields
    )


def _from_row(
    job: BatchJob, row: JobRow, *, status: str | None = None, error: NemoError | None = None
) -> BatchResult:
    return BatchResult(
        job.id,
        status or row.status,
        path=Path(row.output) if row.output else None,
        render_id=row.render_id,
        session_id=row.session_id,
        error=error or _stored_error(row),
        size=row.size,
        sha256=row.sha256,
        resumed=True,
    )


async def _settle(book: Journal, rows: Mapping[str, JobRow], verdicts: Mapping[str, str]) -> None:
    """Apply a person's verdict on ``needs-attention`` jobs: ``"sent"`` (the message took effect:
    go on to the render) or ``"unsent"`` (it did not: send it, once)."""
    for job_id, verdict in verdicts.items():
        row = rows.get(job_id)
        if row is None or row.status != "needs-attention":
            state = "not in this batch" if row is None else f"{row.status}, not needs-attention"
            raise ValidationError(f"Cannot settle job {job_id!r}: it is {state}.")
        if verdict not in ("sent", "unsent"):
            raise ValidationError(f"Settle job {job_id!r} as 'sent' or 'unsent', not {verdict!r}.")
        await book.record(
            job_id,
            "settled",
            {"verdict": verdict},
            status="pending",
            phase="sent" if verdict == "sent" else "uploaded",
            error=None,
            error_type=None,
            error_code=None,
        )


def default_journal(manifest: str | os.PathLike[str] | None, shard: tuple[int, int]) -> Path:
    """``<manifest>.journal.db`` beside the manifest (``.shard-I-of-N`` when sharded);
    ``batch.db`` for jobs given in Python."""
    suffix = "" if shard == (1, 1) else f".shard-{shard[0]}-of-{shard[1]}"
    if manifest is None:
        return Path(f"batch{suffix}.db")
    return Path(f"{manifest}{suffix}.journal.db")


async def prepare(
    jobs: str | os.PathLike[str] | Manifest | Iterable[BatchJob | Mapping[str, Any]],
    *,
    out_dir: str | os.PathLike[str] | None,
    max_upload_bytes: int,
) -> tuple[Manifest, str | None]:
    """The checked manifest (read in a thread), and its path when ``jobs`` named a file."""
    if isinstance(jobs, Manifest):
        return jobs, None
    if isinstance(jobs, (str, os.PathLike)):
        manifest = await asyncio.to_thread(
            load_manifest, jobs, out_dir=out_dir, max_upload_bytes=max_upload_bytes
        )
        return manifest, os.fspath(jobs)
    return await asyncio.to_thread(
        manifest_from_jobs, list(jobs), out_dir=out_dir or ".", max_upload_bytes=max_upload_bytes
    ), None


Jobs = Union[str, "os.PathLike[str]", Manifest, Iterable[BatchJob | Mapping[str, Any]]]
"""What ``client.batch`` runs: a manifest path, a ``Manifest``, or ``BatchJob`` values / dicts."""


class BatchOptions(TypedDict, total=False):
    """The options of ``client.batch`` (see its docstring), written once for every door."""

    journal: str | os.PathLike[str] | None
    concurrency: int
    out_dir: str | os.PathLike[str] | None
    one_session: bool
    retry_failed: bool
    shard: tuple[int, int] | str
    settle: Mapping[str, str] | None
    on_event: EventCallback | None


async def run_batch(
    client: NemoClient,
    jobs: Jobs,
    *,
    journal: str | os.PathLike[str] | None = None,
    concurrency: int = 4,
    out_dir: str | os.PathLike[str] | None = None,
    one_session: bool = False,
    retry_failed: bool = False,
    shard: tuple[int, int] | str = (1, 1),
    settle: Mapping[str, str] | None = None,
    on_event: EventCallback | None = None,
) -> AsyncGenerator[BatchResult, None]:
    """Run ``jobs`` (a manifest path, a ``Manifest``, or ``BatchJob``s / dicts) and yield one
    ``BatchResult`` per job of the shard, finished ones (from the journal) first.

    See ``NemoClient.batch`` for the options; ``on_event(kind, data)`` sees ``"start"`` for each
    job started and ``"finish"`` as each ends (the CLI's progress display uses them).
    """
    if not isinstance(concurrency, int) or isinstance(concurrency, bool) or concurrency < 1:
        raise ValidationError(f"concurrency must be an integer >= 1, got {concurrency!r}")
    shard = parse_shard(shard)
    manifest, manifest_path = await prepare(
        jobs, out_dir=out_dir, max_upload_bytes=client.config.max_upload_bytes
    )
    if out_dir is None:
        out_dir = Path(manifest_path).parent if manifest_path else Path(".")
    mine = shard_jobs(manifest.jobs, shard)
    path = Path(journal) if journal is not None else default_journal(manifest_path, shard)
    book = await Journal.open(
        path, manifest.digest, [j.id for j in mine], shard=f"{shard[0]}/{shard[1]}"
    )
    ctx = _Context(
        client,
        book,
        Path(out_dir),
        one_session,
        on_event or (lambda kind, data: None),
        _kill_hook(),
    )
    try:
        rows = {r.job_id: r for r in book.rows_at_open}
        if settle:
            await _settle(book, rows, settle)
            rows = {r.job_id: r for r in await book.rows()}
        finished = [r for r in rows.values() if r.status == "done"]
        if finished:
            await asyncio.to_thread(_place_left_parts, finished)
        todo: list[BatchJob] = []
        earlier: list[BatchResult] = []
        for job in mine:
            row = rows[job.id]
            if row.status in ("done", "needs-attention") or (
                row.status == "failed" and not retry_failed
            ):
                earlier.append(_from_row(job, row))
                continue
            if row.status == "failed":
                retry: dict[str, Any] = {"status": "pending"}
                if row.error_type == "RenderFailedError":
                    retry["render_id"] = None
                await book.record(job.id, "retry", {"after": row.error_type}, **retry)
            todo.append(job)
        await _event(
            ctx,
            "batch",
            total=len(mine),
            todo=len(todo),
            journal=str(path),
            manifest=manifest_path,
            shard=f"{shard[0]}/{shard[1]}",
        )
        for result in earlier:
            yield result
        if any(rows[j.id].status == "failed" for j in todo):  # retried: read what changed
            rows = {r.job_id: r for r in await book.rows()}
        async for result in _work(ctx, todo, rows, mine, 1 if one_session else concurrency):
            yield result
    finally:
        await book.close()


async def _work(
    ctx: _Context,
    todo: list[BatchJob],
    rows: Mapping[str, JobRow],
    mine: list[BatchJob],
    concurrency: int,
) -> AsyncIterator[BatchResult]:
    queue: asyncio.Queue[BatchResult | Exception] = asyncio.Queue()
    pending = list(reversed(todo))

    landings: set[asyncio.Future[None]] = set()

    async def report(result: BatchResult) -> None:
        await _event(ctx, "finish", job_id=result.job_id, status=result.status)
        await queue.put(result)

    async def land(landing: _Landing) -> None:
        result = landing.result
        try:
            await landing.committed
            ctx.hook("done-journaled", result.job_id)
            try:
                _place(ctx, landing.part, landing.final)
            except DownloadError as exc:
                await _record_failure(ctx, result.job_id, exc)
                result = attrs.evolve(result, status="failed", path=None, error=exc)
            else:
                ctx.hook("done", result.job_id)
            await queue.put(result)
        except Exception as exc:  # a broken journal: end the batch with it
            await queue.put(exc)

    async def worker() -> None:
        try:
            while pending:
                job = pending.pop()
                if not pending:  # the last job started: checkpoint now, not in the close
                    ctx.journal.checkpoint_soon()
                if ctx.stop is not None:
                    await queue.put(BatchResult(job.id, "pending", error=ctx.stop))
                    continue
                try:
                    outcome = await _attempt(ctx, job, rows[job.id], mine)
                    if isinstance(outcome, BatchResult):
                        await report(outcome)
                    else:  # ``done`` rides the next commit (the next job's first)
                        await _event(ctx, "finish", job_id=job.id, status="done")
                        task = asyncio.ensure_future(land(outcome))
                        landings.add(task)
                        task.add_done_callback(landings.discard)
                except _Stopped as stop:
                    ctx.stop = ctx.stop or stop.error
                    row = await ctx.journal.row(job.id)
                    await queue.put(
                        BatchResult(
                            job.id,
                            "pending",
                            session_id=row.session_id,
                            render_id=row.render_id,
                            error=stop.error,
                        )
                    )
        except Exception as exc:  # a bug or a broken journal: end the batch with it
            await queue.put(exc)
        finally:  # no next job of this worker's will carry a ``done`` to the journal
            ctx.journal.flush()

    workers = [asyncio.ensure_future(worker()) for _ in range(min(concurrency, len(todo)))]
    try:
        for _ in range(len(todo)):
            item = await queue.get()
            if isinstance(item, Exception):
                raise item
            yield item
    finally:
        for task in [*workers, *landings]:
            task.cancel()
        await asyncio.gather(*workers, *landings, return_exceptions=True)
