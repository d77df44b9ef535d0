"""The Renderer and RenderJob (the package docstring shows how to use them)."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import secrets
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from nemovideo._http import endpoints as api
from nemovideo._http.api import Api, Service
from nemovideo._http.paths import check_id, id_text
from nemovideo._util.numbers import finite_float
from nemovideo._util.plain import refuse_pickle
from nemovideo._util.types import ProgressCallback
from nemovideo.draft._model import Draft
from nemovideo.errors import (
    APIError,
    ExportBlockedError,
    NemoError,
    RenderFailedError,
    RenderTimeoutError,
    ServerError,
    TransportError,
    ValidationError,
)
from nemovideo.render import _download as dl
from nemovideo.render._formats import ExportFormat, ExportQuality, ExportResolution, export_output
from nemovideo.render._status import RenderResult, RenderStatus, has_status
from nemovideo.session import check_session_id

if TYPE_CHECKING:
    from nemovideo._http.retry import Call
    from nemovideo.client import NemoClient

log = logging.getLogger("nemovideo.render")

__all__ = ["ProgressCallback", "RenderJob", "RenderResult", "RenderStatus", "Renderer"]

"""``progress(done, total)``: percent of 100 while rendering, bytes while downloading."""


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_DUPLICATE_WORDS = ("duplicate", "already in use", "already exists")


def new_render_id() -> str:
    """``render_<ms timestamp>_<16 hex digits>``: unique across processes and machines.

    The timestamp keeps ids sortable by submit time for a reader; the 64 random bits make two
    submits in one millisecond (eight workers exporting at once, two machines of one user)
    as good as certain never to share an id (docs/protocol.md, "Render").
    """
    return f"render_{int(time.time() * 1000)}_{secrets.token_hex(8)}"


def is_duplicate_id(error: NemoError) -> bool:
    """True when the service refused a submit because its job id is already in use.

    The protocol documents the refusal only as a "duplicate id error": a 409, or a refusal whose
    text says the id is a duplicate, in either render envelope.
    """
    if isinstance(error, APIError) and (error.http_status == 409 or error.code == 409):
        return True
    if not isinstance(error, (APIError, RenderFailedError)):
        return False
    text = (error.reason or "") if isinstance(error, RenderFailedError) else error.message
    return "id" in text.lower() and any(word in text.lower() for word in _DUPLICATE_WORDS)


def check_job_id(job_id: object) -> str:
    """``job_id`` if it is a safe opaque id, else ``ValidationError`` (nothing is sent).

    The same rule as session ids (``_paths.check_id``): one URL path segment, so no id can name
    another endpoint.
    """
    return check_id(job_id, "render job id", "render_1718000000000")


def _positive(value: object, *, zero: bool = False) -> bool:
    number = finite_float(value) if not isinstance(value, str) else None
    return number is not None and (number >= 0 if zero else number > 0)


class RenderJob:
    """A render job on the server, by id. Cheap: holds the id and the last poll answer.

    Export, wait, save; a job no longer wanted is cancelled; a stored id resumes a job::

        >>> import asyncio, tempfile
        >>> from pathlib import Path
        >>> from nemovideo.testing import Emulator, fast_client, sample_images
        >>> async def main() -> None:
        ...     with tempfile.TemporaryDirectory() as tmp:
        ...         async with Emulator() as emu, fast_client(emu, tmp) as client:
        ...             emu.render.width, emu.render.height = 320, 180  # a quick render
        ...             session = await client.create_session()
        ...             await session.upload(sample_images())
        ...             await session.send("turn these images into a 4-second video")
        ...             job = await session.export()
        ...             later = await client.renderer.resume(job.id)  # e.g. after a restart
        ...             result = await later.wait(progress=lambda pct, total: None)
        ...             path = await later.download(Path(tmp) / "video")  # -> video.mp4
        ...             print(result.status, path.name)
        ...             unwanted = await session.export()
        ...             print((await unwanted.cancel()).state)
        >>> asyncio.run(main())
        completed video.mp4
        failed

    :ivar id: the job id; store it to ``client.renderer.resume(id)`` after a restart.
    :vartype id: str
    :ivar session_id: the session it renders; None for a job resumed without one.
    :vartype session_id: str | None
    :ivar last: the latest status the server gave (submit answer or poll); None before any.
    :ivar result: set once a poll finds the job completed.
    """

    def __init__(self, renderer: Renderer, job_id: str, *, session_id: str | None = None) -> None:
        self._renderer = renderer
        self.id = check_job_id(job_id)
        self.session_id = None if session_id is None else check_session_id(session_id)
        self.last: RenderStatus | None = None
        self.result: RenderResult | None = None

    def __reduce__(self) -> NoReturn:
        refuse_pickle("RenderJob")

    def __repr__(self) -> str:
        state = self.last.state if self.last else "submitted"
        return f"<RenderJob id={self.id!r} session_id={self.session_id!r} {state}>"

    @property
    def status(self) -> str | None:
        """The latest known state (``"completed"``, ``"failed"`` or an in-progress word).

        None until the server has reported one (in the submit answer, ``refresh()`` or ``wait()``).
        """
        return self.last.state if self.last else None

    @property
    def progress(self) -> int | None:
        """The latest known progress in percent (0-100); None until the server reports one."""
        return self.last.progress if self.last else None

    @property
    def _api(self) -> Api:
        return self._renderer.client.api

    async def refresh(self) -> RenderStatus:
        """Poll once and return the job's status.

        :raises APIError: when the answer carries no ``status`` (it is not a render job's answer).
        """
        data = await self._api.send(api.RENDER_POLL, segments={"id": self.id})
        if not has_status(data):
            raise APIError(
                f"Render {self.id}: the poll answer has no status, so it does not describe a "
                f"render job (got {str(data)[:120]!r}).",
                http_status=200,
            )
        status = RenderStatus.from_json(self.id, data)
        self.last = status
        if status.state == "completed":
            self.result = RenderResult(
                self.id,
                "completed",
                status.url,
                status.size,
                status.duration,
                self._api.request_id(),
            )
        return status

    async def wait(
        self,
        *,
        progress: ProgressCallback | None = None,
        timeout: float | None = None,
        poll_interval: float | None = None,
        max_polls: int | None = None,
    ) -> RenderResult:
        """Poll until ``completed`` (returns the result) or ``failed`` (``RenderFailedError``).

        The wait is bounded by time: ``timeout`` seconds (default ``config.render_timeout``,
        10 minutes), whatever the poll interval. Polls start ``config.poll_initial_interval``
        (2 s) apart and grow by ``config.poll_backoff`` (x1.5) up to ``poll_interval``
        (default ``config.poll_interval``), so a 5 s render is seen finishing within a couple
        of seconds and a 90 s one costs a dozen polls. ``max_polls`` is only a safety cap.
        ``progress(percent, 100)`` is called whenever the server reports a new percentage.
        When time runs out, ``RenderTimeoutError`` names the job id to resume with: the job
        keeps running on the server.
        """
        if self.result is not None:
            return self.result
        config = self._api.config
        ceiling = config.poll_interval if poll_interval is None else poll_interval
        limit = config.max_polls if max_polls is None else max_polls
        budget = config.render_timeout if timeout is None else timeout
        if not isinstance(limit, int) or limit < 1:
            raise ValidationError(f"max_polls must be an integer >= 1, got {limit!r}")
        if not _positive(budget) or not _positive(ceiling, zero=True):
            raise ValidationError(
                f"timeout must be > 0 and poll_interval >= 0 seconds, got {budget!r} and "
                f"{ceiling!r}"
            )
        interval = min(config.poll_initial_interval, ceiling)
        started = time.monotonic()
        reported: int | None = None
        polls = 0
        while True:
            status = await self.refresh()
            polls += 1
            percent = 100 if status.state == "completed" else status.progress
            if progress is not None and percent is not None and percent != reported:
                progress(percent, 100)
                reported = percent
            if self.result is not None:
                return self.result
            if status.state == "failed":
                failed = RenderFailedError(self.id, status.error)
                failed.request_id = self._api.request_id()  # the poll that saw it
                raise failed
            left = budget - (time.monotonic() - started)
            if polls >= limit or left <= 0:
                timed_out = RenderTimeoutError(
                    self.id, polls, status.state, elapsed=time.monotonic() - started
                )
                timed_out.request_id = self._api.request_id()  # the last poll
                raise timed_out
            await asyncio.sleep(min(interval, left))
            interval = min(ceiling, interval * config.poll_backoff)

    async def cancel(self) -> RenderStatus:
        """Ask the server to stop the job (one protocol version documents this endpoint)."""
        await self._api.send(api.RENDER_CANCEL, segments={"id": self.id})
        return await self.refresh()

    async def download(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        progress: ProgressCallback | None = None,
        timeout: float | None = None,
    ) -> Path:
        """Save the video and return its path; waits for the job first if it has not finished.

        ``path``: a file (``"out.mp4"``; a name without a suffix, ``"video"``, gets the export's:
        ``video.mp4``), or a directory (default: the current one; an existing directory or a path
        ending in ``/``, created if needed) to save under the server's file name. Streams
        ``output.url`` (no token sent to its host); when that fails, the API's fallback
        ``/api/render/proxy/<id>/download`` (bearer auth). Broken transfers are retried
        (``config.max_retries``); a partial file never appears under the final name, and a
        local failure (a full disk, a directory that is not writable) is a ``DownloadError``.
        ``progress(bytes_done, bytes_total)`` follows the bytes. ``timeout`` (else
        ``config.download_timeout``) bounds each source's whole transfer in seconds.
        """
        result = self.result or await self.wait()
        suffix = dl.video_suffix(result.url)
        fallback_name = _UNSAFE.sub("_", self.id)[:120] + suffix
        final = dl.target_path(dl.with_suffix(path, suffix), result.url, fallback_name)
        dl.make_parent(final)
        fallback = self._api.url(api.DOWNLOAD.path, {"id": self.id})
        error: NemoError | None = None
        for source in (result.url, fallback):
            if not source:
                continue
            try:
                await dl.stream_to_file(self._api, source, final, progress, timeout=timeout)
                return final
            except (TransportError, APIError) as exc:
                error = exc  # the pipeline already retried this source: try the next one
        assert error is not None
        raise error


class Renderer(Service):
    """Submits drafts and reattaches to jobs; reach it as ``client.renderer``."""

    def __init__(self, client: NemoClient) -> None:
        self._client = client

    async def export(
        self,
        session_id: str,
        *,
        format: ExportFormat = "mp4",
        quality: ExportQuality = "high",
        draft: Draft | Mapping[str, Any] | None = None,
        resolution: ExportResolution | None = None,
        render_id: str | None = None,
    ) -> RenderJob:
        """Submit ``draft`` (the session's latest when ``None``) and return the job.

        ``format``, ``quality`` and ``resolution`` (None: the draft's own size) take the values in
        docs/export.md; any other is a ``ValidationError`` naming the supported ones, raised
        before anything is sent.

        ``render_id``: the job id to submit under, chosen (and recorded) by the caller, as the
        batch journal does so that a restart re-sends the same id rather than a second render.
        With it, a refused submit raises instead of trying a new id.

        A draft with no clips is refused before anything is sent. The submit carries a job id the
        client chose (``render_<ms>_<random hex>``, unique across processes), so when its answer
        is lost (a reset, a timeout) it is sent again with the *same* id and names the same job;
        if the service refuses that re-send as a duplicate id, the job exists and is polled
        instead. A submit the server refused (5xx, ``success: false``, or a duplicate id on its
        first send) is tried once more with a new id. One ``export()`` never starts two renders
        the server saw. A 402 (``ExportBlockedError``) or an unknown session raises.
        """
        session_id = check_session_id(session_id)
        output = export_output(format, quality, resolution)
        if draft is None:
            draft = (await self._client.session(session_id).state()).draft
        model = draft if isinstance(draft, Draft) else Draft.from_json(draft)
        if not model.ready_for_export:
            raise ValidationError(
                "Nothing to export: the draft has no clips. Upload media and ask for a video first."
            )
        encoded = model.to_json()
        chosen = None if render_id is None else check_job_id(render_id)
        for attempt in range(1 if chosen else 2):
            job_id = chosen or new_render_id()
            body = {"id": job_id, "sessionId": session_id, "draft": encoded, "output": output}
            lost: list[NemoError] = []
            try:
                data = await self._submitter(lost).send(
                    api.RENDER_SUBMIT, json_body=body, retry_status=False
                )
            except ExportBlockedError as exc:
                raise self._blocked(exc, session_id) from None
            except (APIError, RenderFailedError) as exc:
                if is_duplicate_id(exc) and lost:
                    log.info(
                        "Render %s: the re-sent submit is a duplicate, so the job exists; "
                        "polling it",
                        job_id,
                    )
                    return await self.resume(job_id, session_id=session_id)
                refused = is_duplicate_id(exc) or isinstance(exc, (RenderFailedError, ServerError))
                if attempt or chosen or not refused:
                    raise
                log.info("Render submit refused (%s); submitting once more with a new id", exc)
                continue
            return self._job_from_submit(data, job_id, session_id)
        raise AssertionError("unreachable")  # pragma: no cover

    def _blocked(self, exc: ExportBlockedError, session_id: str) -> ExportBlockedError:
        """The 402 with the session's claim link added: where to export it once registered."""
        claim = self._client.session(session_id).claim_url
        return ExportBlockedError(
            exc.message,
            registration_url=exc.registration_url,
            claim_url=claim,
            code=exc.code,
            http_status=exc.http_status,
            data=exc.data,
            request_id=exc.request_id,
        )

    def _submitter(self, lost: list[NemoError]) -> Api:
        """The pipeline for one submit, noting in ``lost`` each re-send after a lost answer.

        A submit whose answer was lost is re-sent with the same id; if the service then refuses
        it as a duplicate, the first copy arrived and the job exists, which only this note tells
        apart from two submits that happened to pick one id.
        """

        def note(call: Call, exc: NemoError, delay: float) -> None:
            if isinstance(exc, TransportError) and not exc.never_sent:
                lost.append(exc)

        return self._api.watching(note)

    def _job_from_submit(self, data: Any, job_id: str, session_id: str) -> RenderJob:
        if isinstance(data, Mapping):
            given = data.get("id") or data.get("taskId")
            if given is not None and id_text(given) is None:
                raise APIError(
                    f"The render service answered a job id that is not text: {str(given)[:80]}",
                    http_status=200,
                )
            job_id = id_text(given) or job_id
        try:
            job = RenderJob(self, job_id, session_id=session_id)
        except ValidationError as exc:
            raise APIError(
                f"The render service answered an unusable job id: {exc}", http_status=200
            ) from None
        if isinstance(data, Mapping):
            job.last = RenderStatus.from_json(job.id, data)
        return job

    async def resume(self, job_id: str, *, session_id: str | None = None) -> RenderJob:
        """Reattach to a job by id (after a restart); polls once, so an unknown id fails here.

        :raises ValidationError: ``job_id`` is not a render id (nothing is sent).
        :raises NotFoundError: the server knows no such job.
        :raises APIError: the answer has no render status.
        """
        if isinstance(job_id, str):
            job_id = job_id.strip()
        job = RenderJob(self, job_id, session_id=session_id)
        await job.refresh()
        return job
