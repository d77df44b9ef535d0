"""The render proxy: submit, poll, cancel and the download fallback, rendering real MP4s with ffmpeg.

    POST /api/render/proxy/lambda              {"id", "sessionId", "draft", "output"}
         -> {"success": true, "data": {"id", "status": "pending", "progress": 5}}
    GET  /api/render/proxy/lambda/<id>         the job, in poll shape 1, 2 or 3 (PROTOCOL.md)
    POST /api/render/proxy/lambda/<id>/cancel  stop a pending or processing job
    GET  /api/render/proxy/<id>/download       the MP4 bytes (bearer auth)

A job goes ``pending`` -> ``processing`` (progress follows ffmpeg) -> ``completed`` or ``failed``
(with ``error``) in a background task; its output is written under ``emu.files_dir`` and its URL
points at the emulator's CDN origin. Export costs no credits; it answers 402 when an attribution
header is missing or exports are blocked for the user (``emu.block_exports()``). The submit body is
checked as documented: ``id`` (a new one per submit: a reused id is 409), camelCase ``sessionId``
and ``draft`` are required (400), a draft with no segments is refused (422), all in the render
envelope ``{"success": false, "error": …}``. Tests steer it through :func:`render_controls`::

    controls = render_controls(emu)
    controls.width, controls.height, controls.fps = 320, 180, 10   # fast test renders
    controls.poll_shape = 3                     # answer polls in the first version's shape
    controls.fail_next("out of GPU memory")     # the next job fails with that reason
    controls.hold()                             # jobs stay "processing" until release()
    controls.cdn_missing = True                 # outputs are not published on the CDN
    controls.truncate_downloads = 1             # the next fallback download is cut halfway
    controls.redirect_downloads = True          # the fallback answers 302 to the CDN origin
    controls.bare = True                        # submit and cancel answer without the envelope
    controls.error_style = "body"               # render failures on HTTP 200, success: false
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import time
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
from aiohttp import web

from ..draft import Draft
from ._ffmpeg import render_draft
from ._hold import Hold
from ._store import DEFAULT_MESSAGES, APIFailure, iso_time

if TYPE_CHECKING:
    from ._app import Emulator

__all__ = ["RenderControls", "add_routes", "render_controls"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_SIDE = 1920
_CHUNK = 64 * 1024
_CONTROLS: weakref.WeakKeyDictionary[Emulator, RenderControls] = weakref.WeakKeyDictionary()


@attrs.define
class RenderControls(Hold):
    """How one emulator renders; every field can be changed at any time (see the module doc).

    ``width``/``height``/``fps``: the output size and rate (``None``: the draft's, at most 1920 on
    the long side). ``pending_s``: how long a job stays ``pending`` before it starts.
    ``poll_shape``: 1, 2 or 3, the documented poll answers. ``bare``: submit and cancel answer the
    job itself, with no ``{"success", "data"}`` envelope (some versions do), failures as
    ``{"error"}``. ``error_style``: ``"status"`` sends render-envelope failures with their HTTP
    status (404, 400, 409, 422), ``"body"`` with HTTP 200 and ``"success": false``.
    """

    width: int | None = None
    height: int | None = None
    fps: int | None = None
    pending_s: float = 0.0
    poll_shape: int = 1
    cdn_missing: bool = False
    truncate_downloads: int = 0
    redirect_downloads: bool = False
    bare: bool = False
    error_style: str = "status"
    failures: list[str] = attrs.Factory(list)

    def fail_next(self, reason: str = "Render failed: the renderer crashed") -> None:
        """The next job submitted fails with ``reason`` as its ``error``."""
        self.failures.append(reason)

    def hold(self) -> None:
        """Keep jobs ``processing`` (their output unpublished) until :meth:`release`."""
        super().hold()

    def size_for(self, draft: Draft) -> tuple[int, int, int]:
        """The ``(width, height, fps)`` a render of ``draft`` gets under these settings."""
        width = self.width or draft.width or 1920
        height = self.height or draft.height or 1080
        if self.width is None and self.height is None and max(width, height) > _MAX_SIDE:
            scale = _MAX_SIDE / max(width, height)
            width, height = round(width * scale), round(height * scale)
        fps = self.fps or round(draft.fps or 30)
        return width, height, max(1, fps)


def render_controls(emu: Emulator) -> RenderControls:
    """The render settings and faults of ``emu`` (created on first use)."""
    controls = _CONTROLS.get(emu)
    if controls is None:
        controls = _CONTROLS[emu] = RenderControls()
    return controls


def _fail(emu: Emulator, status: int, message: str) -> web.Response:
    """A render-envelope failure in the render controls' error style (bare: ``{"error"}``)."""
    controls = render_controls(emu)
    if controls.bare:
        return web.json_response({"error": message}, status=status)
    body_style = controls.error_style == "body"
    return web.json_response(
        {"success": False, "error": message}, status=200 if body_style else status
    )


def _answer(emu: Emulator, data: dict[str, Any]) -> web.Response:
    """A render-envelope success, or the bare job when ``bare``."""
    return web.json_response(data if render_controls(emu).bare else {"success": True, "data": data})


def _poll_answer(job: dict[str, Any], shape: int) -> dict[str, Any]:
    if shape == 2:
        answer = {"status": job["status"], "progress": job["progress"]}
        if job.get("outputUrl"):
            answer["output"] = {"url": job["outputUrl"]}
    elif shape == 3:
        answer = {"taskId": job["id"], "status": job["status"], "progress": job["progress"]}
        if job.get("outputUrl"):
            answer["output"] = {"url": job["outputUrl"], "duration": job.get("duration"),
                                "size": job.get("size")}  # fmt: skip
    else:
        keys = ("id", "status", "progress", "outputUrl", "createdAt", "completedAt")
        return {"success": True, "data": {k: job[k] for k in (*keys, "error") if k in job}}
    if "error" in job:
        answer["error"] = job["error"]
    return answer


class _Jobs:
    """The render jobs of one emulator and the background tasks running them."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.tasks: dict[str, asyncio.Task[None]] = {}

    async def run(self, job: dict[str, Any], failure: str | None) -> None:
        emu, controls = self.emu, render_controls(self.emu)
        try:
            if controls.pending_s:
                await asyncio.sleep(controls.pending_s)
            job.update(status="processing", progress=10)
            if failure is not None:
                raise RuntimeError(failure)
            draft = Draft.from_json(job["draft"])
            width, height, fps = controls.size_for(draft)

            def on_progress(fraction: float) -> None:
                job["progress"] = max(job["progress"], min(95, 10 + int(fraction * 85)))

            out = emu.files_dir / f".{job['file']}"
            await render_draft(job["draft"], emu.files_dir, out, width=width, height=height,
                               fps=fps, progress=on_progress)  # fmt: skip
            await controls.wait_released()
            final = out
            if not controls.cdn_missing:
                final = out.replace(emu.files_dir / job["file"])
            job.update(
                status="completed",
                progress=100,
                outputUrl=emu.cdn_file_url(job["file"]),
                completedAt=iso_time(time.time()),
                duration=round(draft.duration, 3),
                size=final.stat().st_size,
                path=str(final),
            )
        except asyncio.CancelledError:
            job.update(status="failed", error="Render cancelled")
            raise
        except Exception as exc:
            job.update(status="failed", error=str(exc) or type(exc).__name__)
        finally:
            self.tasks.pop(job["id"], None)

    async def close(self, _: web.Application) -> None:
        tasks = list(self.tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


def add_routes(app: web.Application, emu: Emulator) -> None:
    jobs = _Jobs(emu)
    app.on_cleanup.append(jobs.close)

    def job_of(request: web.Request) -> dict[str, Any] | None:
        user = emu.authenticate(request)
        job = emu.store.render_jobs.get(request.match_info["job_id"])
        return job if isinstance(job, dict) and job.get("user_id") == user.user_id else None

    def not_found(request: web.Request) -> web.Response:
        return _fail(emu, 404, f"Render job not found: {request.match_info['job_id']}")

    async def submit(request: web.Request) -> web.Response:
        user = emu.authenticate(request)
        if not emu.has_attribution(request):
            raise APIFailure(
                402,
                "Export refused: X-Skill-Source, X-Skill-Version and X-Skill-Platform are required",
            )
        if user.export_blocked:
            raise APIFailure(402, DEFAULT_MESSAGES[402])
        body = await emu.json_body(request)
        for key, kind in (("id", str), ("sessionId", str), ("draft", dict)):
            if not isinstance(body.get(key), kind) or not body[key]:
                return _fail(emu, 400, f"`{key}` is required (body: id, sessionId, draft, output)")
        session = emu.store.session_for(user, body["sessionId"])
        draft = body["draft"]
        if not Draft.from_json(draft).ready_for_export:
            return _fail(emu, 422, "The draft is empty: add media to the timeline before exporting")
        job_id = body["id"]
        if job_id in emu.store.render_jobs:
            return _fail(emu, 409, f"Render id already in use: {job_id}; send a new id per submit")
        controls = render_controls(emu)
        failure = controls.failures.pop(0) if controls.failures else None
        job = emu.store.render_jobs[job_id] = {
            "id": job_id,
            "user_id": user.user_id,
            "session_id": session.session_id,
            "draft": draft,
            "output": body.get("output", {}),
            "file": _UNSAFE.sub("_", job_id) + ".mp4",
            "status": "pending",
            "progress": 5,
            "createdAt": iso_time(time.time()),
        }
        jobs.tasks[job_id] = asyncio.create_task(jobs.run(job, failure))
        return _answer(emu, {"id": job_id, "status": "pending", "progress": 5})

    async def poll(request: web.Request) -> web.Response:
        job = job_of(request)
        if job is None:
            return not_found(request)
        return web.json_response(_poll_answer(job, render_controls(emu).poll_shape))

    async def cancel(request: web.Request) -> web.Response:
        job = job_of(request)
        if job is None:
            return not_found(request)
        task = jobs.tasks.get(job["id"])
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        return _answer(emu, {k: job.get(k) for k in ("id", "status", "progress")})

    async def download(request: web.Request) -> web.StreamResponse:
        job = job_of(request)
        if job is None or job.get("status") != "completed":
            return not_found(request)
        controls = render_controls(emu)
        path = Path(job["path"])
        if controls.redirect_downloads:
            # Like a storage bucket behind the API: a 302 to another origin, which must not
            # receive the bearer token.
            name = f"redirected_{job['file']}"
            target = emu.files_dir / name
            if not target.exists():
                await asyncio.to_thread(shutil.copyfile, path, target)
            raise web.HTTPFound(emu.cdn_file_url(name))
        if controls.truncate_downloads <= 0:
            return web.FileResponse(path)
        controls.truncate_downloads -= 1
        data = await asyncio.to_thread(path.read_bytes)
        resp = web.StreamResponse(headers={"Content-Type": "video/mp4"})
        resp.content_length = len(data)
        await resp.prepare(request)
        await resp.write(data[: len(data) // 2])
        if request.transport is not None:
            request.transport.abort()
        return resp

    app.router.add_post("/api/render/proxy/lambda", submit)
    app.router.add_get("/api/render/proxy/lambda/{job_id}", poll)
    app.router.add_post("/api/render/proxy/lambda/{job_id}/cancel", cancel)
    app.router.add_get("/api/render/proxy/{job_id}/download", download)
