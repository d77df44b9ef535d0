"""Streaming a render's MP4 to disk: constant memory, atomic rename, verified length.

Kept apart from ``render.py`` so the file-system rules live in one small place:

- the bytes go to a temp file beside the target and are renamed into place only when complete, so a
  partial file is never left under the final name (a failed attempt deletes its temp file);
- the byte count is checked against ``Content-Length``;
- a file name that comes from the server must stay inside the target directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
from yarl import URL

from ._fsutil import BackgroundFlusher
from ._paths import describe_error
from .errors import TransportError, ValidationError

if TYPE_CHECKING:
    from ._transport import Transport

ProgressCallback = Callable[[int, int], None]

_CHUNK = 256 * 1024
_FLUSH_EVERY = 8 << 20
_FILE_MODE = 0o644


def server_file_name(url: str | None, fallback: str) -> str:
    """The file name a download URL suggests, or ``fallback``; refuses names that leave the dir."""
    name = URL(url).name if url else ""
    if not name:
        return fallback
    if name in (".", "..") or "/" in name or "\\" in name or "\x00" in name:
        raise ValidationError(
            f"Refusing the server's file name {name!r}: it would write outside the target directory"
        )
    return name if name.lower().endswith(".mp4") else f"{name}.mp4"


def target_path(path: str | os.PathLike[str] | None, url: str | None, fallback: str) -> Path:
    """Where to save: ``path`` itself, or ``path`` (a directory, default ``.``) / the server's name.

    ``path`` is a directory when it is one already, ends with a separator, or has no suffix
    (``"videos"``); ``"out.mp4"`` is a file.
    """
    if path is not None:
        given = Path(path)
        is_dir = given.is_dir() or str(path).endswith(("/", os.sep)) or not given.suffix
        if not is_dir:
            return given
    directory = Path(path) if path is not None else Path.cwd()
    target = directory / server_file_name(url, fallback)
    if target.resolve().parent != directory.resolve():
        raise ValidationError(f"Refusing to write {target}: it is outside {directory}")
    return target


def make_parent(final: Path) -> None:
    """Create ``final``'s directory; a parent that is a file: ``ValidationError`` naming both."""
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocker = next((p for p in reversed(final.parents) if p.exists() and not p.is_dir()), None)
        where = (
            f"{blocker} is a file, not a directory" if blocker else "a parent is not a directory"
        )
        raise ValidationError(f"Cannot save to {final}: {where}.") from None


async def stream_to_file(
    transport: Transport,
    url: str | URL,
    final: Path,
    progress: ProgressCallback | None,
    *,
    flush_every: int = _FLUSH_EVERY,
) -> int:
    """GET ``url`` (token only to the API origin) into ``final`` atomically; return the byte count.

    ``final``'s directory must exist (``make_parent``, once per download, not per attempt). The
    temp file is flushed to disk in the background every ``flush_every`` bytes while the
    download runs (``BackgroundFlusher``), and fsynced before the rename.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".part", dir=final.parent)
    done = 0
    try:
        os.fchmod(fd, _FILE_MODE)
        flusher = BackgroundFlusher(fd, every=flush_every)
        async with transport.download(url) as resp:
            total = resp.content_length
            if progress is not None:
                progress(0, total or 0)
            try:
                async for chunk in resp.content.iter_chunked(_CHUNK):
                    _write_all(fd, chunk)
                    flusher.wrote(len(chunk))
                    done += len(chunk)
                    if progress is not None:
                        progress(done, total or done)
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                raise TransportError(
                    f"Download of {URL(url).raw_path} broke after {done} bytes: "
                    f"{describe_error(exc)}"
                ) from exc
            if total is not None and done != total:
                raise TransportError(
                    f"Download of {URL(url).raw_path} is incomplete: {done} of {total} bytes"
                )
        await flusher.sync()
        os.close(fd)
        fd = -1
        os.replace(tmp, final)
    except BaseException:
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return done


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
