"""The render proxy: submit, poll and the download fallback, in the ``{"success", "data"}`` envelope.

Minimal renderer: a submitted job completes at once and its output is a small *placeholder* file
(text, not a real MP4) served by the CDN origin. Export costs no credits; it answers 402 when an
attribution header is missing or exports are blocked for the user (``emu.block_exports()``).

    POST /api/render/proxy/lambda          {"id", "sessionId", "draft", "output"}
    GET  /api/render/proxy/lambda/<id>     {"success": true, "data": {"id", "status", "progress",
                                            "outputUrl", "createdAt", "completedAt"}}
    GET  /api/render/proxy/<id>/download   the output bytes (bearer auth)
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._store import DEFAULT_MESSAGES, APIFailure, iso_time

if TYPE_CHECKING:
    from ._app import Emulator

__all__ = ["add_routes"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_POLL_KEYS = ("id", "status", "progress", "outputUrl", "createdAt", "completedAt", "error")


def _not_found(job_id: str) -> web.Response:
    return web.json_response(
        {"success": False, "error": f"Render job not found: {job_id}"}, status=404
    )


def add_routes(app: web.Application, emu: Emulator) -> None:
    def job_of(request: web.Request) -> dict[str, Any] | None:
        user = emu.authenticate(request)
        job = emu.store.render_jobs.get(request.match_info["job_id"])
        return job if isinstance(job, dict) and job.get("user_id") == user.user_id else None

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
        session = emu.store.session_for(user, body.get("sessionId"))
        job_id = body.get("id")
        if not isinstance(job_id, str) or not job_id:
            job_id = f"render_{int(time.time() * 1000)}"
        if job_id not in emu.store.render_jobs:
            name = _UNSAFE.sub("_", job_id) + ".mp4"
            (emu.files_dir / name).write_bytes(f"placeholder render output {job_id}\n".encode())
            now = time.time()
            emu.store.render_jobs[job_id] = {
                "id": job_id,
                "user_id": user.user_id,
                "session_id": session.session_id,
                "draft": body.get("draft", session.state["draft"]),
                "output": body.get("output", {}),
                "file": name,
                "status": "completed",
                "progress": 100,
                "outputUrl": emu.cdn_file_url(name),
                "createdAt": iso_time(now),
                "completedAt": iso_time(now),
            }
        return web.json_response(
            {"success": True, "data": {"id": job_id, "status": "pending", "progress": 5}}
        )

    async def poll(request: web.Request) -> web.Response:
        job = job_of(request)
        if job is None:
            return _not_found(request.match_info["job_id"])
        data = {k: job[k] for k in _POLL_KEYS if k in job}
        return web.json_response({"success": True, "data": data})

    async def download(request: web.Request) -> web.StreamResponse:
        job = job_of(request)
        if job is None or job.get("status") != "completed":
            return _not_found(request.match_info["job_id"])
        return web.FileResponse(emu.files_dir / job["file"])

    app.router.add_post("/api/render/proxy/lambda", submit)
    app.router.add_get("/api/render/proxy/lambda/{job_id}", poll)
    app.router.add_get("/api/render/proxy/{job_id}/download", download)
