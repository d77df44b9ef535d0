"""Uploads: local files streamed as multipart, or URLs the server fetches.

Every input is checked (readable, a supported format, not empty, under ``max_upload_bytes``)
before the first byte is sent, so a bad file in a batch of twenty costs nothing and names itself in
the error. Files are streamed from disk in chunks (a 200 MB video never sits in memory) and
re-opened from the start on every retry, so a retried upload is byte-identical::

    media = await session.upload(["a.jpg", Path("b.mp4"), ("c.png", png_bytes)],
                                 progress=lambda done, total: print(f"{done}/{total}"))
    print([m.url for m in media])

Files go one per request, ``upload_concurrency`` at a time: a failure then costs one file's
retry, and progress is exact. Results come back in the order given.
"""

from __future__ import annotations

import asyncio
import io
import mimetypes
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Union

import aiohttp
import attrs
from aiohttp.abc import AbstractStreamWriter
from aiohttp.payload import Payload
from yarl import URL

from .errors import (
    SUPPORTED_FORMATS,
    APIError,
    FileTooLargeError,
    UnsupportedFileError,
    ValidationError,
)
from .state import MediaInfo

if TYPE_CHECKING:
    from ._transport import Transport

__all__ = ["FileInput", "ProgressCallback", "UploadedMedia", "Uploader"]

FileInput = Union[str, "os.PathLike[str]", tuple[str, bytes], BinaryIO]
"""A path, a ``(file name, bytes)`` pair, or a seekable binary file object (with a name)."""
ProgressCallback = Callable[[int, int], None]

_UPLOAD = "/api/upload-video/nemo_agent/me/{sid}"
_CHUNK = 256 * 1024
_MIN_RATE = 50_000  # bytes/s


@attrs.frozen
class UploadedMedia:
    """One uploaded file: what was sent (``name``, ``size``) and what the server made of it."""

    name: str
    size: int | None
    info: MediaInfo = attrs.field(repr=False)

    @property
    def url(self) -> str | None:
        return self.info.url

    @property
    def kind(self) -> str | None:
        return self.info.kind

    @property
    def media_id(self) -> str | None:
        """The server's id for the media (``media_id``, else its content hash)."""
        mid = self.info.raw.get("media_id")
        return mid if isinstance(mid, str) else self.info.hash

    @property
    def duration(self) -> float | None:
        return self.info.duration

    @property
    def width(self) -> int | None:
        return self.info.width

    @property
    def height(self) -> int | None:
        return self.info.height

    @classmethod
    def from_json(
        cls, raw: Any, *, name: str | None = None, size: int | None = None
    ) -> UploadedMedia:
        if not isinstance(raw, dict):
            raise APIError("An upload answer entry was not an object.", http_status=200)
        info = MediaInfo.from_json(raw)
        return cls(name=name or info.filename or "", size=size, info=info)


@attrs.frozen
class _Source:
    """A validated input: its name, byte count, and how to open it afresh for each attempt."""

    name: str
    size: int
    opener: Callable[[], BinaryIO] = attrs.field(repr=False)
    owned: bool = True  # close what we opened; never close the caller's file object

    def open(self) -> BinaryIO:
        return self.opener()


def _extension_ok(name: str) -> bool:
    _, dot, ext = name.rpartition(".")
    return bool(dot) and ext.lower() in SUPPORTED_FORMATS


def _check(item: object, limit: int) -> _Source:
    if isinstance(item, (str, os.PathLike)):
        source = _from_path(Path(item))
    elif isinstance(item, tuple) and len(item) == 2:
        name, data = item
        if not isinstance(name, str) or not isinstance(data, (bytes, bytearray, memoryview)):
            raise ValidationError("A (name, data) upload needs a str name and bytes data.")
        blob = bytes(data)
        source = _Source(Path(name).name, len(blob), lambda: io.BytesIO(blob))
    elif hasattr(item, "read"):
        source = _from_file_object(item)
    else:
        raise ValidationError(
            f"Cannot upload {type(item).__name__}: pass a path, a (name, bytes) pair or a binary "
            "file object."
        )
    if not _extension_ok(source.name):
        raise UnsupportedFileError(filename=source.name or "(no name)")
    if source.size == 0:
        raise ValidationError(f"{source.name}: the file is empty.")
    if source.size > limit:
        raise FileTooLargeError(filename=source.name, limit_bytes=limit, size_bytes=source.size)
    return source


def _from_path(path: Path) -> _Source:
    try:
        st = path.stat()
    except FileNotFoundError:
        raise ValidationError(f"{path}: no such file.") from None
    except OSError as exc:
        raise ValidationError(f"{path}: cannot be read ({exc.strerror}).") from None
    if not path.is_file():
        raise ValidationError(f"{path}: not a regular file.")
    if not os.access(path, os.R_OK):
        raise ValidationError(f"{path}: permission denied.")
    return _Source(path.name, st.st_size, lambda: path.open("rb"))


def _from_file_object(obj: Any) -> _Source:
    name = Path(str(getattr(obj, "name", "") or "")).name
    if not name:
        raise ValidationError(
            "A file object needs a .name with an extension, or pass (name, bytes)."
        )
    try:
        if not obj.seekable():
            raise ValidationError(
                f"{name}: the file object must be seekable so a retry can rewind."
            )
        start = obj.tell()
        end = obj.seek(0, os.SEEK_END)
        obj.seek(start)
    except (OSError, AttributeError, io.UnsupportedOperation) as exc:
        raise ValidationError(f"{name}: cannot measure the file object ({exc}).") from None

    def rewind() -> BinaryIO:
        obj.seek(start)
        return obj  # type: ignore[no-any-return]

    return _Source(name, end - start, rewind, owned=False)


class _FilePayload(Payload):
    """A multipart part that streams a ``_Source`` from disk, reporting each chunk sent."""

    def __init__(self, source: _Source, sent: Callable[[int], None]) -> None:
        ctype = mimetypes.guess_type(source.name)[0] or "application/octet-stream"
        super().__init__(source, content_type=ctype, filename=source.name)
        self._size = source.size
        self._source = source
        self._sent = sent

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        raise TypeError("A file upload body is binary.")

    async def write(self, writer: AbstractStreamWriter) -> None:
        src = self._source
        handle = await asyncio.to_thread(src.open)
        try:
            remaining = src.size
            while remaining > 0:
                chunk = await asyncio.to_thread(handle.read, min(_CHUNK, remaining))
                if not chunk:
                    raise ValidationError(f"{src.name}: the file shrank while it was uploading.")
                await writer.write(chunk)
                remaining -= len(chunk)
                self._sent(len(chunk))
        finally:
            if src.owned:
                await asyncio.to_thread(handle.close)


class _Progress:
    """Monotone ``(done, total)`` over many files: a retried file never moves the bar back."""

    def __init__(self, total: int, callback: ProgressCallback | None) -> None:
        self.total, self._callback = total, callback
        self._best: dict[int, int] = {}
        self._current: dict[int, int] = {}
        self._reported = -1

    def attempt(self, index: int) -> Callable[[int], None]:
        self._current[index] = 0

        def sent(n: int) -> None:
            self._current[index] += n
            if self._current[index] > self._best.get(index, 0):
                self._best[index] = self._current[index]
                self._report()

        return sent

    def _report(self) -> None:
        done = sum(self._best.values())
        if self._callback is not None and done != self._reported:
            self._reported = done
            self._callback(done, self.total)


class Uploader:
    """Uploads for one client; ``session.upload(...)`` is the usual way in."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    async def upload(
        self,
        session_id: str,
        files: Iterable[FileInput],
        *,
        progress: ProgressCallback | None = None,
    ) -> list[UploadedMedia]:
        """Check every file, then stream them; ``progress(bytes_sent, total_bytes)`` as they go."""
        items = [files] if isinstance(files, (str, os.PathLike)) else list(files)
        if not items:
            raise ValidationError("Nothing to upload: pass at least one file.")
        limit = self._transport.config.max_upload_bytes
        sources = [_check(item, limit) for item in items]
        tracker = _Progress(sum(s.size for s in sources), progress)
        gate = asyncio.Semaphore(self._transport.config.upload_concurrency)

        async def one(index: int, source: _Source) -> UploadedMedia:
            async with gate:
                return await self._send(session_id, index, source, tracker)

        tasks = [asyncio.ensure_future(one(i, s)) for i, s in enumerate(sources)]
        try:
            results = await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        if progress is not None and tracker.total:
            tracker._report()
        return list(results)

    async def _send(
        self, session_id: str, index: int, source: _Source, tracker: _Progress
    ) -> UploadedMedia:
        def body() -> aiohttp.MultipartWriter:
            writer = aiohttp.MultipartWriter("form-data")
            part = _FilePayload(source, tracker.attempt(index))
            part.set_content_disposition("form-data", name="files", filename=source.name)
            writer.append_payload(part)
            return writer

        # A big file needs longer than one API call: the budget grows with the size (>= 50 kB/s).
        budget = self._transport.config.request_timeout + source.size / _MIN_RATE
        data = await self._transport.request(
            "POST", _UPLOAD.format(sid=session_id), body=body, idempotent=True, timeout=budget
        )
        (entry,) = _entries(data, 1)
        return UploadedMedia.from_json(entry, name=source.name, size=source.size)

    async def upload_urls(self, session_id: str, urls: Sequence[str]) -> list[UploadedMedia]:
        """Have the server fetch each ``http(s)`` URL into the session."""
        if isinstance(urls, str):
            urls = [urls]
        checked: list[str] = []
        for raw in urls:
            url = URL(raw) if isinstance(raw, str) else None
            if url is None or url.scheme not in ("http", "https") or not url.host:
                raise ValidationError(
                    f"Only http(s) URLs with a host can be uploaded, got {raw!r}."
                )
            if not _extension_ok(url.name):
                raise UnsupportedFileError(filename=url.name or str(raw))
            checked.append(str(url))
        if not checked:
            raise ValidationError("Nothing to upload: pass at least one URL.")
        data = await self._transport.request(
            "POST", _UPLOAD.format(sid=session_id),
            json_body={"urls": checked, "source_type": "url"}, idempotent=True,
        )  # fmt: skip
        return [
            UploadedMedia.from_json(e, name=URL(u).name)
            for e, u in zip(_entries(data, len(checked)), checked, strict=True)
        ]


def _entries(data: Any, expected: int) -> list[Any]:
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, list) or len(files) != expected:
        raise APIError(
            f"The upload answer listed {len(files) if isinstance(files, list) else 'no'} files, "
            f"expected {expected}.",
            http_status=200,
        )
    return files
