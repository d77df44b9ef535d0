"""The Uploader and UploadedMedia (the package docstring shows how to use them)."""

from __future__ import annotations

import asyncio
import mimetypes
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, BinaryIO, Union

import aiohttp
import attrs
from aiohttp.abc import AbstractStreamWriter
from aiohttp.payload import Payload
from yarl import URL

from nemovideo._http import endpoints as api
from nemovideo._util.plain import Plain
from nemovideo._util.tasks import gather_or_cancel
from nemovideo._util.types import ProgressCallback
from nemovideo.errors import APIError, ValidationError
from nemovideo.session import check_session_id
from nemovideo.state import MediaInfo
from nemovideo.upload._check import ACCEPTED_FORMS, Source, check_extension, check_input

if TYPE_CHECKING:
    from nemovideo._http.api import Api

__all__ = ["FileInput", "ProgressCallback", "UploadedMedia", "Uploader"]

FileInput = Union[str, "os.PathLike[str]", tuple[str, bytes], BinaryIO]
"""A path, a ``(file name, bytes)`` pair, or a seekable binary file object (with a name)."""
"""``progress(bytes_sent, total_bytes)``, called as chunks go out; see ``nemovideo.notebook``."""

_CHUNK = 1024 * 1024
_MIN_RATE = 50_000  # bytes/s


@attrs.frozen
class UploadedMedia(Plain):
    """One uploaded file: what was sent (``name``, ``size``) and what the server made of it.

    :ivar name: the file name sent (or the server's, for a URL upload).
    :ivar size: bytes sent; None for URL uploads.
    :ivar info: the server's full description; the properties below read from it.
    """

    name: str
    size: int | None
    info: MediaInfo = attrs.field(repr=False)

    @property
    def url(self) -> str | None:
        """Where the server stored the file; None if the answer gave no URL."""
        return self.info.url

    @property
    def kind(self) -> str | None:
        """``"video"``, ``"image"`` or ``"audio"``; None when the server did not say."""
        return self.info.kind

    @property
    def media_id(self) -> str | None:
        """The server's id for the media (``media_id``, else its content hash)."""
        mid = self.info.raw.get("media_id")
        return mid if isinstance(mid, str) else self.info.hash

    @property
    def duration(self) -> float | None:
        """Playing time in seconds, for video and audio; None for images or when unreported."""
        return self.info.duration

    @property
    def width(self) -> int | None:
        """Pixel width as the server measured it; None when unreported (e.g. audio)."""
        return self.info.width

    @property
    def height(self) -> int | None:
        """Pixel height as the server measured it; None when unreported (e.g. audio)."""
        return self.info.height

    @classmethod
    def from_json(
        cls, raw: Any, *, name: str | None = None, size: int | None = None
    ) -> UploadedMedia:
        """Decode one entry of the upload answer.

        :param raw: the entry as the server sent it.
        :param name: the file name as given by the caller; defaults to the server's file name.
        :param size: the bytes sent, when known (URL uploads do not know it).
        :raises APIError: when ``raw`` is not a JSON object.
        """
        if not isinstance(raw, dict):
            raise APIError("An upload answer entry was not an object.", http_status=200)
        info = MediaInfo.from_json(raw)
        return cls(name=name or info.filename or "", size=size, info=info)


class _FilePayload(Payload):
    """A multipart part that streams a ``Source`` from disk, reporting each chunk sent."""

    def __init__(self, source: Source, sent: Callable[[int], None]) -> None:
        ctype = mimetypes.guess_type(source.name)[0] or "application/octet-stream"
        super().__init__(source, content_type=ctype, filename=source.name)
        self._size = source.size
        self._source = source
        self._sent = sent

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        raise TypeError("A file upload body is binary.")

    async def write(self, writer: AbstractStreamWriter) -> None:
        """Stream the file. A file that cannot be read or shrank raises ``ValidationError``, which
        the transport re-raises as is (not as a retried network error)."""
        src = self._source
        handle = await self._open()
        try:
            remaining = src.size
            while remaining > 0:
                chunk = await self._file(handle.read, min(_CHUNK, remaining))
                if not chunk:
                    raise ValidationError(
                        f"{src.name}: the file shrank while it was uploading "
                        f"({src.size - remaining} of {src.size} bytes sent); "
                        "upload it when it is complete."
                    )
                await writer.write(chunk)
                remaining -= len(chunk)
                self._sent(len(chunk))
        finally:
            if src.owned:
                handle.close()  # at once, even while being cancelled: closing never blocks long

    async def _open(self) -> BinaryIO:
        """Open the source in a thread; a cancellation meanwhile closes the file once it opens
        (the thread cannot be stopped, and its handle must not leak)."""
        opening = asyncio.get_running_loop().run_in_executor(None, self._source.open)
        try:
            return await asyncio.shield(opening)
        except asyncio.CancelledError:
            if self._source.owned:
                opening.add_done_callback(_close_opened)
            raise
        except (OSError, ValueError) as exc:
            raise self._unreadable(exc) from None

    async def _file(self, call: Callable[..., Any], *args: Any) -> Any:
        try:
            return await asyncio.to_thread(call, *args)
        except (OSError, ValueError) as exc:  # ValueError: a caller's file object was closed
            raise self._unreadable(exc) from None

    def _unreadable(self, exc: OSError | ValueError) -> ValidationError:
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return ValidationError(f"{self._source.name}: cannot be read ({detail}).")


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
                self.report()

        return sent

    def report(self) -> None:
        done = sum(self._best.values())
        if self._callback is not None and done != self._reported:
            self._reported = done
            self._callback(done, self.total)


class Uploader:
    """Uploads for one client; ``session.upload(...)`` is the usual way in.

    Every file is checked (its bytes, not its name; its size) before the first byte is sent, and
    a bad one is refused with nothing uploaded::

        >>> import asyncio
        >>> from nemovideo import UnsupportedFileError
        >>> from nemovideo.testing import offline_client, sample_images
        >>> async def main() -> None:
        ...     async with offline_client() as client:
        ...         session = await client.create_session()
        ...         media = await client.uploader.upload(session.id, sample_images()[:2])
        ...         print([m.name for m in media])
        ...         try:
        ...             await session.upload([("notes.jpg", b"not a picture")])
        ...         except UnsupportedFileError as exc:
        ...             print(type(exc).__name__)
        >>> asyncio.run(main())
        ['city_1.jpg', 'city_2.jpg']
        UnsupportedFileError
    """

    def __init__(self, api: Api) -> None:
        self._api = api

    def __repr__(self) -> str:
        return f"<Uploader base_url={self._api.config.base_url!r}>"

    async def upload(
        self,
        session_id: str,
        files: FileInput | Iterable[FileInput],
        *,
        progress: ProgressCallback | None = None,
    ) -> list[UploadedMedia]:
        """Check every file, then stream them; ``progress(bytes_sent, total_bytes)`` as they go.

        ``files``: a list of paths, ``(name, bytes)`` pairs and binary file objects, or one of
        them alone. Bare ``bytes`` and dicts raise ``ValidationError`` (bytes have no name).
        """
        session_id = check_session_id(session_id)
        items = _items(files)
        if not items:
            raise ValidationError("Nothing to upload: pass at least one file.")
        limit = self._api.config.max_upload_bytes
        sources = await asyncio.to_thread(lambda: [check_input(i, limit) for i in items])
        tracker = _Progress(sum(s.size for s in sources), progress)
        gate = asyncio.Semaphore(self._api.config.upload_concurrency)

        async def one(index: int, source: Source) -> UploadedMedia:
            async with gate:
                return await self._send(session_id, index, source, tracker)

        results = await gather_or_cancel(*(one(i, s) for i, s in enumerate(sources)))
        if progress is not None and tracker.total:
            tracker.report()
        return results

    async def _send(
        self, session_id: str, index: int, source: Source, tracker: _Progress
    ) -> UploadedMedia:
        def body() -> aiohttp.MultipartWriter:
            writer = aiohttp.MultipartWriter("form-data")
            part = _FilePayload(source, tracker.attempt(index))
            part.set_content_disposition(
                "form-data", quote_fields=False, name="files", filename=source.name
            )
            writer.append_payload(part)
            return writer

        # A big file needs longer than one API call: the budget grows with the size (>= 50 kB/s).
        budget = self._api.config.request_timeout + source.size / _MIN_RATE
        data = await self._api.send(
            api.UPLOAD,
            segments={"sid": session_id},
            body=body,
            timeout=budget,
        )
        (entry,) = _entries(data, 1)
        return UploadedMedia.from_json(entry, name=source.name, size=source.size)

    async def upload_urls(self, session_id: str, urls: Sequence[str]) -> list[UploadedMedia]:
        """Have the server fetch each ``http(s)`` URL into the session.

        A URL whose path ends in an unsupported extension (``.php``, ``.txt``) is refused here; one
        without an extension (``https://cdn.example.com/image?id=3``) is left to the server.
        """
        session_id = check_session_id(session_id)
        if isinstance(urls, str):
            urls = [urls]
        checked = [_checked_url(raw) for raw in urls]
        if not checked:
            raise ValidationError("Nothing to upload: pass at least one URL.")
        data = await self._api.send(
            api.UPLOAD,
            segments={"sid": session_id},
            json_body={"urls": checked, "source_type": "url"},
        )
        return [
            UploadedMedia.from_json(e, name=URL(u).name)
            for e, u in zip(_entries(data, len(checked)), checked, strict=True)
        ]


_URL_UNSAFE = re.compile(r"[\x00-\x20\x7f-\x9f\ud800-\udfff]")


def _checked_url(raw: object) -> str:
    """``raw`` exactly as the caller wrote it, once it is an http(s) URL with a host and a
    supported (or no) extension; else a ``ValidationError`` before anything is sent.

    A URL is never normalised or re-encoded on the way: the server fetches the very text the
    caller gave. NUL, whitespace, control characters and lone surrogates are refused rather than
    quietly escaped.
    """
    if not isinstance(raw, str):
        raise ValidationError(f"A URL must be a str, got {type(raw).__name__}.")
    if _URL_UNSAFE.search(raw):
        raise ValidationError(
            f"Refusing the URL {raw[:120]!r}: it holds a space, a control character, a NUL or a "
            "lone surrogate; percent-encode it first."
        )
    try:
        url = URL(raw)
        url.port  # noqa: B018 - yarl checks the port's range only when it is read
    except (ValueError, TypeError):
        raise ValidationError(f"Refusing the URL {raw[:120]!r}: it cannot be parsed.") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValidationError(f"Only http(s) URLs with a host can be uploaded, got {raw!r}.")
    check_extension(url.name, required=False)
    return raw


def _close_opened(opening: asyncio.Future[Any]) -> None:
    if not opening.cancelled() and opening.exception() is None:
        opening.result().close()


def _items(files: Any) -> list[Any]:
    """``files`` as a list of inputs: one path, pair or file object alone is a list of one."""
    if isinstance(files, (bytes, bytearray, memoryview)):
        raise ValidationError(
            f"Cannot upload bare {type(files).__name__}: they carry no file name. {ACCEPTED_FORMS}"
        )
    if isinstance(files, Mapping):
        raise ValidationError(
            f"Cannot upload a {type(files).__name__}; for name -> bytes pass "
            f"list(files.items()). {ACCEPTED_FORMS}"
        )
    if isinstance(files, (str, os.PathLike)) or hasattr(files, "read"):
        return [files]
    if (
        isinstance(files, tuple)
        and len(files) == 2
        and isinstance(files[0], str)
        and isinstance(files[1], (bytes, bytearray, memoryview))
    ):
        return [files]
    if not isinstance(files, Iterable):
        raise ValidationError(f"Cannot upload {type(files).__name__}. {ACCEPTED_FORMS}")
    return list(files)


def _entries(data: Any, expected: int) -> list[Any]:
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, list) or len(files) != expected:
        raise APIError(
            f"The upload answer listed {len(files) if isinstance(files, list) else 'no'} files, "
            f"expected {expected}.",
            http_status=200,
        )
    return files
