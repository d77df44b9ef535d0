"""How the emulator "fetches" a URL upload without ever touching the real network.

The real service downloads each URL of ``{"urls": [...], "source_type": "url"}`` and judges it by
its content. The emulator does that only where it is safe and offline:

- its own CDN origin (``emu.cdn_file_url(name)``): read from ``emu.files_dir``;
- other loopback hosts (``127.0.0.0/8``, ``::1``, ``localhost``): a real GET, redirects followed
  only while they stay on loopback;
- URLs given content with ``emu.fake_url(url, data)``: that content, as if fetched;
- any other host: never contacted. A URL whose name has a supported extension is accepted as
  given (no measurements); one without is refused with 4001, saying how to fake its content.

Fetched content is sniffed (``_media_probe``), limited to ``emu.max_upload_bytes`` (4002), stored
under ``emu.files_dir`` and re-served from the emulator's CDN, as the service re-hosts it.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
from yarl import URL

from nemovideo._config.rules import is_loopback
from nemovideo.testing._render.probe import KIND_OF_FORMAT, measure, sniff
from nemovideo.testing._server.store import APIFailure

if TYPE_CHECKING:
    from nemovideo.testing._server.app import Emulator

__all__ = [
    "entry_for_url",
    "extension_kind",
    "is_loopback",
    "media_entry",
    "store_stream",
    "unsupported",
]

_CHUNK = 64 * 1024
_MAX_REDIRECTS = 5
_FETCH_TIMEOUT = aiohttp.ClientTimeout(total=30, connect=5)


def unsupported(name: str, why: str = "") -> APIFailure:
    formats = ", ".join(KIND_OF_FORMAT)
    return APIFailure(4001, f"Unsupported file: {name!r}.{why} Supported formats: {formats}")


def media_entry(
    filename: str, kind: str | None, cdn_url: str, digest: str, sizes: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An upload answer entry with exactly the documented fields (also kept in ``video_infos``)."""
    sizes = sizes or {}
    return {
        "filename": filename,
        "file_type": kind,
        "cdn_url": cdn_url,
        "duration": sizes.get("duration"),
        "width": sizes.get("width"),
        "height": sizes.get("height"),
        "fps": sizes.get("fps"),
        "hash": digest,
    }


def extension_kind(name: str) -> str | None:
    """``video`` / ``image`` / ``audio`` for a supported extension in ``name``, else None."""
    _, dot, ext = name.rpartition(".")
    return KIND_OF_FORMAT.get(ext.lower()) if dot else None


async def store_stream(
    chunks: AsyncGenerator[bytes, None], emu: Emulator, name: str
) -> tuple[Path, str, tuple[str, str] | None]:
    """Write ``chunks`` under ``emu.files_dir``: (path, SHA-256 prefix, sniffed format or None).

    4002 past ``emu.max_upload_bytes`` (the partial file is removed).
    """
    dest = emu.files_dir / f"{secrets.token_hex(6)}_{name}"
    sha, size, head = hashlib.sha256(), 0, b""
    try:
        with dest.open("wb") as out:
            async for chunk in chunks:
                size += len(chunk)
                if size > emu.max_upload_bytes:
                    raise APIFailure(
                        4002, f"File too large: the limit is {emu.max_upload_bytes} bytes"
                    )
                if len(head) < 64:
                    head += chunk[: 64 - len(head)]
                sha.update(chunk)
                out.write(chunk)
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    finally:
        await chunks.aclose()
    return dest, sha.hexdigest()[:32], sniff(head)


async def _bytes(data: bytes) -> AsyncGenerator[bytes, None]:
    for i in range(0, len(data), _CHUNK):
        yield data[i : i + _CHUNK]


async def _file(path: Path) -> AsyncGenerator[bytes, None]:
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            yield chunk


async def _http(url: URL, raw: str) -> AsyncGenerator[bytes, None]:
    """GET a loopback URL, following redirects only while they stay on loopback."""
    async with aiohttp.ClientSession(timeout=_FETCH_TIMEOUT) as http:
        for _ in range(_MAX_REDIRECTS + 1):
            if not is_loopback(url.host):
                raise unsupported(raw, " The emulator does not fetch from the real network.")
            try:
                async with http.get(url, allow_redirects=False) as resp:
                    if resp.status in (301, 302, 303, 307, 308) and "Location" in resp.headers:
                        url = url.join(URL(resp.headers["Location"]))
                        continue
                    if resp.status != 200:
                        raise unsupported(raw, f" Fetching it answered HTTP {resp.status}.")
                    async for chunk in resp.content.iter_chunked(_CHUNK):
                        yield chunk
                    return
            except aiohttp.ClientError as exc:
                raise unsupported(raw, f" Fetching it failed: {exc}.") from None
        raise unsupported(raw, " Too many redirects.")


def _source(emu: Emulator, url: URL, raw: str) -> AsyncGenerator[bytes, None] | None:
    """The content of ``url`` as the emulator may get it, or None when it must not fetch it."""
    fake = emu.store.remote_files.get(raw)
    if fake is not None:
        return _bytes(fake) if isinstance(fake, bytes) else _file(Path(fake))
    own = URL(emu.cdn_url)
    if (url.scheme, url.host, url.port) == (own.scheme, own.host, own.port):
        name = url.path.removeprefix("/files/")
        path = emu.files_dir / name
        if "/" in name or name.startswith(".") or not path.is_file():
            raise unsupported(raw, " Fetching it answered HTTP 404.")
        return _file(path)
    if is_loopback(url.host):
        return _http(url, raw)
    return None


async def entry_for_url(emu: Emulator, raw: object) -> dict[str, Any]:
    """The upload entry for one URL of a ``{"urls": [...]}`` upload (see the module docstring)."""
    url = URL(raw) if isinstance(raw, str) else None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        raise unsupported(str(raw), " Only http(s) URLs can be fetched.")
    assert isinstance(raw, str)
    name = url.name
    source = _source(emu, url, raw)
    if source is None:
        kind = extension_kind(name)
        if kind is None:
            raise unsupported(
                name or raw,
                " The emulator never fetches from the real network, so it cannot judge this "
                "URL by its content; give it content with emu.fake_url(url, data).",
            )
        return media_entry(name, kind, raw, hashlib.sha256(raw.encode()).hexdigest()[:32])
    base = "".join(c if c.isalnum() or c in "._-" else "_" for c in name) or "download"
    path, digest, found = await store_stream(source, emu, base)
    if found is None:
        path.unlink(missing_ok=True)
        raise unsupported(name or raw, " Its content is not a supported media format.")
    fmt, kind = found
    if extension_kind(path.name) is None:
        path = path.rename(path.with_name(f"{path.name}.{fmt}"))
    return media_entry(
        name or path.name, kind, emu.cdn_file_url(path.name), digest, measure(path, fmt)
    )
