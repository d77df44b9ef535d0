"""Streaming a render's MP4 to disk: constant memory, atomic rename, verified length.

Kept apart from ``render.py`` so the file-system rules live in one small place:

- the bytes go to a temp file beside the target and are renamed into place only when complete, so a
  partial file is never left under the final name (a failed attempt deletes its temp file);
- the byte count is checked against ``Content-Length`` (the bytes on the wire: a compressed answer
  is checked by the HTTP layer, not against the decoded count);
- the answer must be a video: a 200 whose body is an error envelope, an HTML page or JSON is a typed
  error naming what came back, decided from the ``Content-Type`` and the container's first bytes
  (``video_kind``), and nothing is written;
- a file name that comes from the server must stay inside the target directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
from yarl import URL

from nemovideo._config.rules import local_path_ok
from nemovideo._http.paths import describe_error
from nemovideo._util import jsonparse
from nemovideo._util.files import BackgroundFlusher
from nemovideo._util.numbers import code_of
from nemovideo._util.types import ProgressCallback
from nemovideo.errors import (
    APIError,
    DownloadError,
    NemoError,
    TransportError,
    ValidationError,
    error_for,
)
from nemovideo.render._formats import FORMATS

if TYPE_CHECKING:
    from nemovideo._http.api import Api


_CHUNK = 256 * 1024
_FLUSH_EVERY = 8 << 20
_FILE_MODE = 0o644
_HEAD = 16
_MAX_ERROR_BODY = 64 * 1024
_MP4_BOXES = (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot", b"styp")
_TEXT_TYPES = (
    "text/",
    "application/json",
    "application/problem",
    "application/xml",
    "application/xhtml",
    "application/javascript",
)


def video_kind(head: bytes) -> str | None:
    """The container ``head`` (a file's first bytes) starts, or ``None`` when it is none of them.

    >>> video_kind(b"\\x00\\x00\\x00\\x18ftypmp42"), video_kind(b"\\x1aE\\xdf\\xa3"), video_kind(b"{}")
    ('MP4/MOV', 'WebM/Matroska', None)
    """
    if head[4:8] in _MP4_BOXES:
        return "MP4/MOV"
    if head.startswith(b"\x1aE\xdf\xa3"):
        return "WebM/Matroska"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return "AVI"
    return None


def what_came_back(content_type: str, head: bytes) -> str:
    """A short description of a body that is not a video, for the error message (no body text)."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if "html" in content_type or text.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        return "an HTML page"
    if "json" in content_type or text.startswith((b"{", b"[")):
        return "a JSON document"
    if "xml" in content_type or text.startswith(b"<"):
        return "an XML document"
    if content_type.startswith("text/"):
        return f"text ({content_type})"
    if not head:
        return "an empty body"
    shown = content_type or "no Content-Type"
    return f"{len(head)}+ bytes of an unknown format ({shown}) that no video container starts with"


def not_a_video(shown: str, content_type: str, body: bytes, status: int) -> APIError:
    """The typed error for a 200 answer that is not a video: the envelope's own error when the
    body is one (``{"code": 1002, ...}`` is a ``SessionNotFoundError``), else an ``APIError``
    naming what came back. Either way nothing was saved."""
    what = what_came_back(content_type, body[: _HEAD * 4])
    suffix = f"The download of {shown} answered {what} instead of a video; nothing was saved."
    try:
        doc = jsonparse.loads_utf8(body) if what == "a JSON document" else None
    except (ValueError, RecursionError):
        doc = None
    if isinstance(doc, dict):
        from nemovideo._http.envelope import message_of

        code = code_of(doc.get("code"))
        message = message_of(doc)
        if code is not None and code != 0:
            base = f"{message} ({suffix})" if message else suffix
            return error_for(code=code, http_status=status, message=base)
        if message:
            return APIError(f"{suffix} It said: {message}", http_status=status)
    return APIError(suffix, http_status=status)


_SUFFIXES = tuple(f".{f}" for f in FORMATS)


def server_file_name(url: str | None, fallback: str) -> str:
    """The file name a download URL suggests, or ``fallback``; refuses names that leave the dir."""
    try:
        name = URL(url).name if url else ""
    except ValueError:  # an unparseable URL names no file; the download itself reports it
        name = ""
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
    try:
        suffix = URL(url).suffix.lower() if url else ""
    except ValueError:  # an unparseable URL (a port of 99999): its download fails on its own
        suffix = ""
    return suffix if suffix in _SUFFIXES else ".mp4"


def with_suffix(path: str | os.PathLike[str] | None, suffix: str) -> str | os.PathLike[str] | None:
    """``path`` with ``suffix`` added when it names a file without one (``"video"`` ->
    ``video.mp4``); a directory (one that exists, or a path ending in a separator) stays as is."""
    if path is None or not local_path_ok(path) or str(path).endswith(("/", os.sep)):
        return path  # target_path refuses a path that is no usable local name
    given = Path(path)
    if given.name and not given.suffix and not given.is_dir():
        return given.with_name(given.name + suffix)
    return path


def target_path(path: str | os.PathLike[str] | None, url: str | None, fallback: str) -> Path:
    """Where to save: ``path`` itself, or ``path`` (a directory, default ``.``) / the server's name.

    ``path`` is a directory when it is one already, ends with a separator, or has no suffix
    (``"videos"``); ``"out.mp4"`` is a file.
    """
    if path is not None and not local_path_ok(path):
        shown = repr(path)[:120]
        raise ValidationError(
            f"Cannot save to {shown}: a path must be a str or os.PathLike without NUL characters "
            "or lone surrogates."
        )
    if path is not None:
        given = Path(path)
        is_dir = _is_dir(given) or str(path).endswith(("/", os.sep)) or not given.suffix
        if not is_dir:
            return given
    directory = Path(path) if path is not None else Path.cwd()
    target = directory / server_file_name(url, fallback)
    try:
        outside = target.resolve().parent != directory.resolve()
    except OSError as exc:  # a name too long, a symlink loop
        raise _local_error(target, exc) from None
    if outside:
        raise ValidationError(f"Refusing to write {target}: it is outside {directory}")
    return target


def source_url(url: str | URL) -> URL:
    """``url`` parsed, or an ``APIError`` saying the server's URL cannot be fetched (a port past
    65535, ``http://[::1``, a scheme that is not HTTP): the caller then tries the next source.

    A URL is never altered: it is sent as the server wrote it, or not at all.
    """
    try:
        parsed = URL(url, encoded=_sendable(url)) if isinstance(url, str) else url
        parsed.port  # noqa: B018 - yarl checks the port's range only when it is read
    except (ValueError, TypeError) as exc:
        raise APIError(
            f"The render's download URL cannot be used ({describe_error(exc)}); nothing was saved.",
            http_status=200,
        ) from None
    if parsed.is_absolute() and parsed.scheme not in ("http", "https"):
        raise APIError(
            f"The render's download URL has the scheme {parsed.scheme!r}, not http or https; "
            "nothing was saved.",
            http_status=200,
        )
    return parsed


def _sendable(url: str) -> bool:
    """Whether ``url`` can go on the wire exactly as written (printable ASCII, no space): then
    yarl is told it is encoded already and changes nothing (``%2f`` stays ``%2f``, ``%7E`` is not
    made ``~``: a signed URL's signature covers those bytes). Anything else must be encoded."""
    return url.isascii() and url.isprintable() and " " not in url


def make_parent(final: Path) -> None:
    """Create ``final``'s directory; a parent that is a file: ``ValidationError`` naming both.

    ``final`` itself must not be a directory (``DownloadError``, before any byte is fetched).
    """
    if _is_dir(final):
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


def _is_dir(path: Path) -> bool:
    """``path.is_dir()``, with what the OS refuses (a name over 255 bytes, a symlink loop) as a
    ``DownloadError`` rather than a raw ``OSError``."""
    try:
        return path.is_dir()
    except OSError as exc:
        raise _local_error(path, exc) from None
    except ValueError:  # a NUL the caller's check did not see (a server-given name)
        return False


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


def temp_prefix(name: str, limit: int = 100) -> str:
    """``name`` cut to at most ``limit`` bytes of UTF-8 (never inside a character), so a temp
    name stays under the file system's 255-byte limit however many bytes a CJK or emoji name takes.

    >>> temp_prefix("视频" * 40, 10)
    '视频视'
    """
    return name.encode("utf-8", "surrogateescape")[:limit].decode("utf-8", "ignore")


async def stream_to_file(
    api: Api,
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
    url = source_url(url)
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=f".{temp_prefix(final.name)}.", suffix=".part", dir=final.parent
        )
    except OSError as exc:
        raise _local_error(final, exc) from None
    shown = url.path

    async def consume(resp: aiohttp.ClientResponse) -> int:
        os.lseek(fd, 0, os.SEEK_SET)
        os.ftruncate(fd, 0)
        flusher = BackgroundFlusher(fd, every=flush_every)
        encoded = resp.headers.get("Content-Encoding", "identity").strip().lower()
        total = resp.content_length if encoded in ("", "identity") else None
        done = 0
        if progress is not None:
            progress(0, total or 0)
        try:
            head = await video_head(resp, shown)
            chunks = resp.content.iter_chunked(_CHUNK)
            async for chunk in prepend(head, chunks):
                write_all(fd, chunk)
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
        done = await api.download(url, consume, timeout=timeout)
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


async def video_head(resp: aiohttp.ClientResponse, shown: str) -> bytes:
    """The body's first bytes once they show a video container; else the typed error of
    ``not_a_video`` (read before anything is written, so nothing is saved)."""
    head = await _read_head(resp)
    if video_kind(head) is None:
        content_type = resp.headers.get("Content-Type", "").split(";")[0].strip().lower()
        rest = await resp.content.read(_MAX_ERROR_BODY) if head else b""
        raise not_a_video(shown, content_type, head + rest, resp.status)
    return head


async def _read_head(resp: aiohttp.ClientResponse) -> bytes:
    """The body's first ``_HEAD`` bytes (fewer only at its end): enough to tell a container."""
    head = b""
    while len(head) < _HEAD:
        more = await resp.content.read(_HEAD - len(head))
        if not more:
            break
        head += more
    return head


async def prepend(head: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield head
    async for chunk in rest:
        yield chunk


def _discard(fd: int, tmp: str) -> None:
    if fd >= 0:
        with contextlib.suppress(OSError):
            os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(tmp)


def write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` to ``fd`` (``os.write`` may take less than it is given)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
