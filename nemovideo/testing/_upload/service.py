"""``POST /api/upload-video/nemo_agent/me/<sid>``: files (multipart) or URLs (JSON).

Multipart parts named ``files`` (several per request) are streamed to ``emu.files_dir`` (never held
whole in memory) and served back by the CDN origin. ``{"urls": [...], "source_type": "url"}`` is
fetched the offline way :mod:`._url_fetch` describes (loopback, the emulator's CDN, faked content;
never the real network). A file is judged by its extension, or by its content when its name has
none; more than ``emu.max_upload_bytes`` is 4002, an unsupported format 4001, and a refused upload
leaves no file behind.

Each answer entry has exactly the documented fields ``filename, file_type, cdn_url, duration,
width, height, fps, hash`` (measured from the bytes where the format allows, else ``None``; ``hash``
is a SHA-256 prefix of the bytes, or of the URL when it was not fetched) and becomes a
``video_infos`` entry of the session.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import BodyPartReader, web

from nemovideo._http import endpoints as api
from nemovideo.testing._render.probe import KIND_OF_FORMAT, measure
from nemovideo.testing._server.keys import EMULATOR, endpoint
from nemovideo.testing._server.store import APIFailure
from nemovideo.testing._upload.url_fetch import (
    entry_for_url,
    extension_kind,
    media_entry,
    store_stream,
    unsupported,
)

if TYPE_CHECKING:
    from nemovideo.testing._server.app import Emulator

__all__ = ["SUPPORTED_FORMATS", "routes"]

SUPPORTED_FORMATS = KIND_OF_FORMAT
_CHUNK = 64 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

routes = web.RouteTableDef()


async def _chunks(part: BodyPartReader) -> AsyncGenerator[bytes, None]:
    while chunk := await part.read_chunk(_CHUNK):
        yield chunk


async def _from_urls(body: dict[str, Any], emu: Emulator) -> list[dict[str, Any]]:
    urls = body.get("urls")
    if not isinstance(urls, list) or not urls:
        raise APIFailure(4001, "Send a non-empty `urls` list, or multipart `files` parts")
    if body.get("source_type") != "url":
        raise APIFailure(4001, 'A URL upload needs "source_type": "url" beside "urls"')
    entries: list[dict[str, Any]] = []
    try:
        for raw in urls:
            entries.append(await entry_for_url(emu, raw))
    except BaseException:
        _remove(emu, entries)
        raise
    return entries


def _remove(emu: Emulator, entries: list[dict[str, Any]]) -> None:
    prefix = emu.cdn_file_url("")
    for entry in entries:
        if entry["cdn_url"].startswith(prefix):
            (emu.files_dir / entry["cdn_url"][len(prefix) :]).unlink(missing_ok=True)


async def _from_multipart(request: web.Request, emu: Emulator) -> list[dict[str, Any]]:
    reader = await request.multipart()
    entries: list[dict[str, Any]] = []
    written: list[Path] = []
    try:
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or part.name != "files":
                await part.release()
                continue
            filename = Path(part.filename or "").name
            by_name = extension_kind(filename)
            if by_name is None and "." in filename:
                raise unsupported(filename)
            path, digest, found = await store_stream(
                _chunks(part), emu, _UNSAFE.sub("_", filename) or "upload"
            )
            written.append(path)
            if by_name is None and found is None:
                raise unsupported(filename or "(no file name)")
            fmt = found[0] if found else filename.rpartition(".")[2].lower()
            kind = by_name or (found[1] if found else None)
            entries.append(
                media_entry(filename, kind, emu.cdn_file_url(path.name), digest, measure(path, fmt))
            )
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    if not entries:
        raise APIFailure(4001, "The upload holds no `files` part")
    return entries


@endpoint(routes, api.UPLOAD)
async def upload(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    user = emu.authenticate(request)
    session = emu.store.session_for(user, request.match_info["sid"])
    if request.content_type.startswith("multipart/"):
        entries = await _from_multipart(request, emu)
    elif request.content_type == "application/json":
        entries = await _from_urls(await emu.json_body(request), emu)
    else:
        raise APIFailure(4001, "Send multipart `files` parts or JSON `urls`")
    session.state["video_infos"].extend(dict(e) for e in entries)
    return emu.ok({"files": entries, "session_state_applied": True})
