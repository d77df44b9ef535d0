"""The emulator's CDN origin: the files under ``emu.files_dir`` (uploads, render outputs).

A second host, so a test can see that the client never sends its token anywhere but the API::

    GET /files/<name>        the file, with Range support; no authentication, as on a CDN

A ``Range: bytes=N-`` request gets ``206 Partial Content`` with ``Content-Range`` (how a killed
batch continues a download); ``emu.render.cdn_ranges = False`` makes the origin ignore ranges and
answer the whole file with 200, as some CDNs do.

It is not part of the API (:mod:`nemovideo._http.endpoints`): the service hands out its URLs.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from aiohttp import web
from aiohttp.typedefs import Handler

from nemovideo.testing._server.keys import EMULATOR
from nemovideo.testing._server.responses import record

if TYPE_CHECKING:
    from nemovideo.testing._server.app import Emulator

__all__ = ["cdn_app"]

routes = web.RouteTableDef()


@web.middleware
async def _record(request: web.Request, handler: Handler) -> web.StreamResponse:
    await record(request, request.app[EMULATOR].cdn_requests)
    return await handler(request)


@routes.get("/files/{name}")
async def serve_file(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    path = request.app[EMULATOR].files_dir / name
    if name.startswith(".") or "/" in name or "\\" in name or not path.is_file():
        raise web.HTTPNotFound()
    if not request.app[EMULATOR].render.cdn_ranges:
        body = await asyncio.to_thread(path.read_bytes)
        return web.Response(body=body, content_type="video/mp4")
    return web.FileResponse(path)


def cdn_app(emu: Emulator) -> web.Application:
    """The CDN application of ``emu``."""
    app = web.Application(middlewares=[_record])
    app[EMULATOR] = emu
    app.add_routes(routes)
    return app
