"""A web service on top of the SDK (aiohttp.web): upload images and an instruction, poll the render.

    POST /videos            multipart form: one or more ``images`` files and an ``instruction``
                            -> 202 {"job_id", "session_id", "summary"}
    GET  /videos/{job_id}   -> {"job_id", "status", "progress", "url"}  (url once completed)

One ``NemoClient`` is opened when the app starts (``cleanup_ctx``) and shared by every request, so
connections and the token are reused; it is closed on shutdown. Rendering keeps running on
NemoVideo's side after ``POST`` answers: the job id is all a caller (or a restarted server) needs,
since ``client.renderer.resume(job_id)`` reattaches to it. SDK errors become JSON answers with a
fitting HTTP status (a bad file: 400, no credits: 402, ...). Run it and try it::

    python examples/webapp.py [PORT]               # offline, against the bundled emulator
    curl -F instruction="turn these images into a 10-second video" \\
         -F images=@nemovideo/samples/city_1.jpg -F images=@nemovideo/samples/city_2.jpg \\
         http://127.0.0.1:8080/videos
    curl http://127.0.0.1:8080/videos/render_1718000000000

``make_app(client)`` uses the given client instead (the tests pass one; the app will not close it).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator

import _offline
from aiohttp import web
from aiohttp.typedefs import Handler

import nemovideo

CLIENT = web.AppKey("client", nemovideo.NemoClient)
MAX_REQUEST_BYTES = 64 * 1024 * 1024
_STATUS: tuple[tuple[type[nemovideo.NemoError], int], ...] = (
    (nemovideo.ValidationError, 400),
    (nemovideo.NotFoundError, 404),
    (nemovideo.InsufficientCreditsError, 402),
    (nemovideo.ExportBlockedError, 402),
    (nemovideo.RateLimitError, 429),
)


def problem(status: int, error: str, message: str) -> web.Response:
    return web.json_response({"error": error, "message": message}, status=status)


@web.middleware
async def nemo_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Any ``NemoError`` becomes ``{"error": <class>, "message": ...}`` (messages hold no token)."""
    try:
        return await handler(request)
    except nemovideo.NemoError as e:
        status = next((code for cls, code in _STATUS if isinstance(e, cls)), 502)
        return problem(status, type(e).__name__, str(e))


async def create_video(request: web.Request) -> web.Response:
    form = await request.post()
    instruction = form.get("instruction")
    if not isinstance(instruction, str) or not instruction.strip():
        return problem(400, "BadRequest", "Send an 'instruction' form field.")
    images = [
        (field.filename, field.file.read())
        for field in form.getall("images", [])
        if isinstance(field, web.FileField)
    ]
    if not images:
        return problem(400, "BadRequest", "Attach at least one file as 'images'.")
    session = await request.app[CLIENT].create_session(task_name="webapp")
    await session.upload(images)
    reply = await session.send(instruction)
    job = await session.export()
    body = {"job_id": job.id, "session_id": session.id, "summary": reply.draft.summary()}
    return web.json_response(body, status=202)


async def video_status(request: web.Request) -> web.Response:
    job = await request.app[CLIENT].renderer.resume(request.match_info["job_id"])
    return web.json_response(
        {
            "job_id": job.id,
            "status": job.status,
            "progress": job.progress,
            "url": job.result.url if job.result else None,
        }
    )


def make_app(client: nemovideo.NemoClient | None = None) -> web.Application:
    """The application; without ``client`` it opens its own (see ``_offline.connect``) at startup."""

    async def nemo_client(app: web.Application) -> AsyncIterator[None]:
        if client is not None:
            app[CLIENT] = client
            yield
            return
        async with _offline.connect() as (own, _):
            app[CLIENT] = own
            yield

    app = web.Application(client_max_size=MAX_REQUEST_BYTES, middlewares=[nemo_errors])
    app.cleanup_ctx.append(nemo_client)
    app.router.add_post("/videos", create_video)
    app.router.add_get("/videos/{job_id}", video_status)
    return app


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
    web.run_app(make_app(), host="127.0.0.1", port=port)


if __name__ == "__main__":
    main()
