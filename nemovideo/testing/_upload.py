"""``POST /api/upload-video/nemo_agent/me/<sid>``: files (multipart) or URLs (JSON).

Multipart parts named ``files`` are streamed to ``emu.files_dir`` (never held whole in memory) and
served back by the CDN origin; URLs are recorded as given (the emulator fetches nothing). Each
upload becomes a ``video_infos`` entry of the session. Media are not probed here, so ``duration``,
``width``, ``height`` and ``fps`` are ``None``; ``hash`` is a SHA-256 prefix of the bytes (files)
or of the URL.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import BodyPartReader, web
from yarl import URL

from ._store import APIFailure

if TYPE_CHECKING:
    from ._app import Emulator

__all__ = ["SUPPORTED_FORMATS", "add_routes", "kind_of", "media_entry"]

SUPPORTED_FORMATS: dict[str, str] = {
    **dict.fromkeys(("mp4", "mov", "avi", "webm", "mkv"), "video"),
    **dict.fromkeys(("jpg", "jpeg", "png", "gif", "webp"), "image"),
    **dict.fromkeys(("mp3", "wav", "m4a", "aac"), "audio"),
}
_CHUNK = 64 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def kind_of(filename: str) -> str | None:
    """``video`` / ``image`` / ``audio`` for a supported file name, else None."""
    _, dot, ext = filename.rpartition(".")
    return SUPPORTED_FORMATS.get(ext.lower()) if dot else None


def _unsupported(filename: str) -> APIFailure:
    formats = ", ".join(SUPPORTED_FORMATS)
    return APIFailure(4001, f"Unsupported file: {filename!r}. Supported formats: {formats}")


def media_entry(filename: str, cdn_url: str, digest: str) -> dict[str, Any]:
    """An upload answer entry (also stored in ``video_infos``)."""
    kind = kind_of(filename)
    return {
        "filename": filename,
        "file_type": kind,
        "cdn_url": cdn_url,
        "duration": None,
        "width": None,
        "height": None,
        "fps": None,
        "hash": digest,
        "media_id": "m_" + digest[:12],
    }


def _from_urls(body: dict[str, Any]) -> list[dict[str, Any]]:
    urls = body.get("urls")
    if not isinstance(urls, list) or not urls:
        raise APIFailure(4001, "Send a non-empty `urls` list, or multipart `files` parts")
    entries = []
    for raw in urls:
        url = URL(raw) if isinstance(raw, str) else None
        if url is None or url.scheme not in ("http", "https") or not url.host:
            raise _unsupported(str(raw))
        if kind_of(url.name) is None:
            raise _unsupported(url.name or str(raw))
        digest = hashlib.sha256(str(raw).encode()).hexdigest()[:32]
        entries.append(media_entry(url.name, str(raw), digest))
    return entries


async def _store_part(part: BodyPartReader, dest: Path, limit: int) -> str:
    """Stream one part to ``dest``; the SHA-256 prefix of its bytes. 4002 past ``limit``."""
    sha = hashlib.sha256()
    size = 0
    with dest.open("wb") as out:
        while chunk := await part.read_chunk(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise APIFailure(4002, f"File too large: the limit is {limit} bytes")
            sha.update(chunk)
            out.write(chunk)
    return sha.hexdigest()[:32]


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
            if kind_of(filename) is None:
                raise _unsupported(filename or "(no file name)")
            stored = f"{secrets.token_hex(6)}_{_UNSAFE.sub('_', filename)}"
            dest = emu.files_dir / stored
            written.append(dest)
            digest = await _store_part(part, dest, emu.max_upload_bytes)
            entries.append(media_entry(filename, emu.cdn_file_url(stored), digest))
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    if not entries:
        raise APIFailure(4001, "The upload holds no `files` part")
    return entries


def add_routes(app: web.Application, emu: Emulator) -> None:
    async def upload(request: web.Request) -> web.Response:
        user = emu.authenticate(request)
        session = emu.store.session_for(user, request.match_info["sid"])
        if request.content_type.startswith("multipart/"):
            entries = await _from_multipart(request, emu)
        elif request.content_type == "application/json":
            entries = _from_urls(await emu.json_body(request))
        else:
            raise APIFailure(4001, "Send multipart `files` parts or JSON `urls`")
        session.state["video_infos"].extend(dict(e) for e in entries)
        return emu.ok({"files": entries, "session_state_applied": True})

    app.router.add_post("/api/upload-video/nemo_agent/me/{sid}", upload)
