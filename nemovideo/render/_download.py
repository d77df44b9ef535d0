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
import errno
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
from yarl import URL

from nemovideo._http.paths import describe_error
from nemovideo._util.files import BackgroundFlusher
from nemovideo.errors import DownloadError, NemoError, TransportError, ValidationError
from nemovideo.render._formats import FORMATS

if TYPE_CHECKING:
    from nemovideo._http.transport import Transport

ProgressCallback = Callable[[int, int], None]

_CHUNK = 256 * 1024
_FLUSH_EVERY = 8 << 20
_FILE_MODE = 0o644
_SUFFIXES = tuple(f".{f}" for f in FORMATS)


def server_file_name(url: str | None, fallback: str) -> str:
    """The file name a download URL suggests, or ``fallback``; refuses names that leave the dir."""
    name = URL(url).name if url else ""
    if not name:
        return fallback
    if name in (".", "..") or "/" in name or "\\" in name or "\x00" in name:
        raise ValidationError(
            f"Refusing the server's file name {name!r}: it would write outside the target directory"
        )
    return name if name.lower().endswith(_SUFFIXES) else f"{name}.mp4"


def video_suffix(url: str | None) -> str:
    """The export's file suffix a video URL shows (``.webm``...), else ``.mp4``.

    >>> video_suffix("https://cdn.example/render_1.webm"), video_suffix(None)
    ('.webm', '.mp4')
    """
    suffix = URL(url).suffix.lower() if url else ""
    return suffix if suffix in _SUFFIXES else ".mp4"


def with_suffix(path: str | os.PathLike[str] | None, suffix: str) -> str | os.PathLike[str] | None:
    """``path`` with ``suffix`` added when it names a file without one (``"video"`` ->
    ``video.mp4``); a directory (one that exists, or a path ending in a separator) stays as is."""
    if path is None or str(path).endswith(("/", os.sep)):
        return path
    given = Path(path)
    if given.name and not given.suffix and not given.is_dir():
        return given.with_name(given.name + suffix)
    return path


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
    """Create ``final``'s directory; a parent that is a file: ``ValidationError`` naming both.

    ``final`` itself must not be a directory (``DownloadError``, before any byte is fetched).
    """
    try:
        is_dir = final.is_dir()
    except OSError as exc:  # a name too long for the file system, a loop of links
        raise _local_error(final, exc) from None
    if is_dir:
        raise DownloadError(
            f"Cannot save the video to {final}: it is a directory; pass a file name, or the "
            "directory itself to save under the server's file name.",
            path=str(final),
        )
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocker = next((p for p in reversed(final.parents) if p.exists() and not p.is_dir()), None)
        where = (
            f"{blocker} is a file, not a directory" if blocker else "a parent is not a directory"
        )
        raise ValidationError(f"Cannot save to {final}: {where}.") from None
    except OSError as exc:
        raise _local_error(final, exc) from None


def _local_error(final: Path, exc: OSError) -> DownloadError:
    """What a file-system failure means for the user, as a ``DownloadError``."""
    reasons = {
        errno.ENOSPC: "the disk is full; free some space",
        errno.EDQUOT: "the disk quota is exceeded; free some space",
        errno.EACCES: f"{final.parent} is not writable; choose another directory",
        errno.EPERM: f"{final.parent} is not writable; choose another directory",
        errno.EROFS: f"{final.parent} is on a read-only file system",
        errno.ENAMETOOLONG: "the file name is too long for this file system; pass a shorter path",
        errno.EISDIR: f"{final} is a directory; pass a file name or the directory itself",
    }
    reason = reasons.get(exc.errno or 0) or (exc.strerror or type(exc).__name__)
    return DownloadError(f"Cannot save the video to {final}: {reason}.", path=str(final))


async def stream_to_file(
    transport: Transport,
    url: str | URL,
    final: Path,
    progress: ProgressCallback | None,
    *,
    flush_every: int = _FLUSH_EVERY,
    timeout: float | None = None,
) -> int:
    """GET ``url`` (token only to the API origin) into ``final`` atomically; return the byte count.

    ``final``'s directory must exist (``make_parent``, once per download, not per attempt). Each
    attempt of the transport's pipeline starts the temp file over; it is flushed to disk in the
    background every ``flush_every`` bytes (``BackgroundFlusher``) and fsynced before the rename.
    A file-system failure is a ``DownloadError``; nothing is ever left under ``final`` but a
    whole file.
    """
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{final.name[:100]}.", suffix=".part",
                                   dir=final.parent)  # fmt: skip
    except OSError as exc:
        raise _local_error(final, exc) from None
    shown = URL(url).path if isinstance(url, str) else url.path

    async def consume(resp: aiohttp.ClientResponse) -> int:
        os.lseek(fd, 0, os.SEEK_SET)
        os.ftruncate(fd, 0)
        flusher = BackgroundFlusher(fd, every=flush_every)
        total = resp.content_length
        done = 0
        if progress is not None:
            progress(0, total or 0)
        try:
            async for chunk in resp.content.iter_chunked(_CHUNK):
                _write_all(fd, chunk)
                flusher.wrote(len(chunk))
                done += len(chunk)
                if progress is not None:
                    progress(done, total or done)
            if total is not None and done != total:
                raise TransportError(f"Download of {shown} is incomplete: {done} of {total} bytes")
            await flusher.sync()
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise TransportError(
                f"Download of {shown} broke after {done} bytes: {describe_error(exc)}"
            ) from exc
        except OSError as exc:  # the local side: a full disk, a revoked permission
            if isinstance(exc, NemoError):
                raise
            raise _local_error(final, exc) from None
        return done

    try:
        os.fchmod(fd, _FILE_MODE)
        done = await transport.download(url, consume, timeout=timeout)
        os.close(fd)
        fd = -1
        os.replace(tmp, final)
    except OSError as exc:
        _discard(fd, tmp)
        if isinstance(exc, NemoError):  # DownloadError, and timeouts (TimeoutError is an OSError)
            raise
        raise _local_error(final, exc) from None
    except BaseException:
        _discard(fd, tmp)
        raise
    return done


def _discard(fd: int, tmp: str) -> None:
    if fd >= 0:
        with contextlib.suppress(OSError):
            os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(tmp)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
