"""The render proxy: submit, poll, cancel and the download fallback (docs/protocol.md, "Render").

    POST /api/render/proxy/lambda              {"id", "sessionId", "draft", "output"}
         -> {"success": true, "data": {"id", "status": "pending", "progress": 5}}
    GET  /api/render/proxy/lambda/<id>         the job, in poll shape 1, 2 or 3 (docs/protocol.md)
    POST /api/render/proxy/lambda/<id>/cancel  stop a pending or processing job
    GET  /api/render/proxy/<id>/download       the MP4 bytes (bearer auth)

Jobs render real MP4s in the background (:mod:`._render_run`) and are kept as
:class:`~._render_job.RenderRecord` in ``emu.store.render_jobs``. Export costs no credits; it
answers 402 when an attribution header is missing or exports are blocked for the user
(``emu.block_exports()``). The submit body is checked as documented: ``id``, camelCase
``sessionId`` and ``draft`` are required (400), an ``output`` value outside docs/export.md's table
is refused (400, naming the supported ones) and a draft with no segments is refused (422), in the
render envelope ``{"success": false, "error": …}``. A job renders what ``output`` asks: an MP4,
MOV, WebM or GIF, at ``resolution``'s size.

Job ids are unique per user. The submit is idempotent by ``id``: one re-sent with the id of a job
this user already submitted, for the same session, draft and output (a client whose answer was
lost), answers that job and starts nothing; the same id for a different submit is refused as a
duplicate id (409, "Duplicate render id"), as docs/protocol.md says the service does. With
``emu.render.strict_ids`` every submit of a known id is refused that way, the re-send included
(the service the protocol warns of: the client must then poll the job). Another user's id is
no conflict. A refused submit
(``emu.render.refuse_next()``) starts no job and leaves its id unused. How it all behaves comes
from ``emu.render`` (:class:`~._render_controls.RenderControls`).
"""

from __future__ import annotations

import asyncio
import mimetypes
import shutil
import time
from pathlib import Path

from aiohttp import web

from nemovideo._http import endpoints as api
from nemovideo.draft._model import Draft
from nemovideo.render._formats import FORMATS, QUALITIES, RESOLUTIONS
from nemovideo.testing._render.controls import RenderControls, render_controls
from nemovideo.testing._render.job import RenderRecord
from nemovideo.testing._render.run import RenderRunner
from nemovideo.testing._server.keys import EMULATOR, RENDERS, endpoint
from nemovideo.testing._server.responses import render_failure, render_ok
from nemovideo.testing._server.store import DEFAULT_MESSAGES, APIFailure, iso_time

__all__ = ["RenderControls", "render_controls", "routes", "setup"]

routes = web.RouteTableDef()


def setup(app: web.Application) -> None:
    """Serve the render routes on ``app`` (which holds its emulator), with their job runner."""
    RenderRunner.install(app)
    app.add_routes(routes)


def _fail(controls: RenderControls, status: int, message: str) -> web.Response:
    return render_failure(controls.bare, controls.error_style, status, message)


def _job_of(request: web.Request) -> RenderRecord | None:
    """The job named in the path, if it exists and belongs to the caller (else 1001 / None)."""
    emu = request.app[EMULATOR]
    user = emu.authenticate(request)
    return emu.store.render_jobs.find(user.user_id, request.match_info["id"])


def _not_found(request: web.Request) -> web.Response:
    controls = request.app[EMULATOR].render
    return _fail(controls, 404, f"Render job not found: {request.match_info['id']}")


@endpoint(routes, api.RENDER_SUBMIT)
async def submit(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    controls = emu.render
    user = emu.authenticate(request)
    if not emu.has_attribution(request):
        raise APIFailure(
            402, "Export refused: X-Skill-Source, X-Skill-Version and X-Skill-Platform are required"
        )
    url = emu.store.registration_url(user)
    if user.export_blocked or (url and not emu.store.anonymous_render):
        message = DEFAULT_MESSAGES[402]
        if not user.export_blocked:
            message = (
                "Anonymous tokens cannot render (scopes: read, write, upload); register to export"
            )
        raise APIFailure(402, message, data={"registration_url": url} if url else None)
    body = await emu.json_body(request)
    for key, kind in (("id", str), ("sessionId", str), ("draft", dict)):
        if not isinstance(body.get(key), kind) or not body[key]:
            return _fail(controls, 400, f"`{key}` is required (body: id, sessionId, draft, output)")
    session = emu.store.session_for(user, body["sessionId"])
    draft, output, job_id = body["draft"], body.get("output", {}), body["id"]
    if not Draft.from_json(draft).ready_for_export:
        return _fail(
            controls, 422, "The draft is empty: add media to the timeline before exporting"
        )
    if not isinstance(output, dict):
        output = {}
    for key, allowed in (("format", FORMATS), ("quality", QUALITIES), ("resolution", RESOLUTIONS)):
        if key in output and output[key] not in allowed:
            return _fail(
                controls,
                400,
                f"Unsupported output {key} {output[key]!r}; supported: {', '.join(allowed)}",
            )
    jobs = emu.store.render_jobs
    known = jobs.find(user.user_id, job_id)
    if known is not None:
        if not controls.strict_ids and known.same_submit(
            user.user_id, session.session_id, draft, output
        ):
            return render_ok(controls.bare, known.brief())
        return _fail(
            controls,
            409,
            f"Duplicate render id: {job_id} is already in use; generate a new id and retry",
        )
    if controls.refusals:
        refusal = controls.refusals.pop(0)
        return _fail(controls, refusal.status, refusal.reason)
    key = jobs.key_for(user.user_id, job_id)
    job = RenderRecord(
        id=job_id,
        file=RenderRecord.file_for(key, output),
        user_id=user.user_id,
        session_id=session.session_id,
        draft=draft,
        output=output,
        created_at=iso_time(time.time()),
    )
    jobs[key] = job
    request.app[RENDERS].start(job, controls.failure_for(session.task_name))
    return render_ok(controls.bare, job.brief())


@endpoint(routes, api.RENDER_POLL)
async def poll(request: web.Request) -> web.Response:
    job = _job_of(request)
    if job is None:
        return _not_found(request)
    controls = request.app[EMULATOR].render
    if job.status == "failed" and controls.failure_shape == "envelope":
        return web.json_response({"success": False, "error": job.error or "Render failed"})
    return web.json_response(job.poll_answer(controls.poll_shape))


@endpoint(routes, api.RENDER_CANCEL)
async def cancel(request: web.Request) -> web.Response:
    job = _job_of(request)
    if job is None:
        return _not_found(request)
    await request.app[RENDERS].cancel(job)
    return render_ok(request.app[EMULATOR].render.bare, job.brief())


@endpoint(routes, api.DOWNLOAD)
async def download(request: web.Request) -> web.StreamResponse:
    job = _job_of(request)
    if job is None or job.status != "completed" or job.path is None:
        return _not_found(request)
    emu = request.app[EMULATOR]
    controls = emu.render
    path = Path(job.path)
    if controls.redirect_downloads:
        # Like a storage bucket behind the API: a 302 to another origin, which must not
        # receive the bearer token.
        name = f"redirected_{job.file}"
        target = emu.files_dir / name
        if not target.exists():
            await asyncio.to_thread(shutil.copyfile, path, target)
        raise web.HTTPFound(emu.cdn_file_url(name))
    if controls.truncate_downloads <= 0:
        return web.FileResponse(path)
    controls.truncate_downloads -= 1
    data = await asyncio.to_thread(path.read_bytes)
    kind = mimetypes.guess_type(path.name)[0] or "video/mp4"
    resp = web.StreamResponse(headers={"Content-Type": kind})
    resp.content_length = len(data)
    await resp.prepare(request)
    await resp.write(data[: len(data) // 2])
    if request.transport is not None:
        request.transport.abort()
    return resp
