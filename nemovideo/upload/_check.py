"""Checks an upload input before anything is sent: exists, readable, a supported format whose first
bytes agree with its extension, not empty, not over the limit.

A renamed ``notes.txt -> clip.mp4`` would otherwise cost a full upload and a vague server error;
reading 16 bytes catches it with a message that names the file and what it looks like instead.
"""

from __future__ import annotations

import io
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import attrs

from nemovideo.errors import (
    SUPPORTED_FORMATS,
    FileTooLargeError,
    UnsupportedFileError,
    ValidationError,
)

__all__ = ["ACCEPTED_FORMS", "Source", "check_extension", "check_input", "sniff"]

_HEAD = 16
ACCEPTED_FORMS = (
    "Pass a list of paths ('a.jpg' or Path), (file name, bytes) pairs like ('a.jpg', data), "
    "or binary file objects opened with open(path, 'rb')."
)


@attrs.frozen
class Source:
    """A validated input: its name, byte count, and how to open it afresh for each attempt."""

    name: str
    size: int
    opener: Callable[[], BinaryIO] = attrs.field(repr=False)
    owned: bool = True  # close what we opened; never close the caller's file object

    def open(self) -> BinaryIO:
        return self.opener()


def _riff(kind: bytes) -> Callable[[bytes], bool]:
    return lambda h: h[:4] == b"RIFF" and h[8:12] == kind


def _iso_bmff(h: bytes) -> bool:
    return h[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot")


def _mp3(h: bytes) -> bool:
    return h[:3] == b"ID3" or (len(h) > 1 and h[0] == 0xFF and h[1] & 0xE0 == 0xE0)


_MAGIC: dict[str, Callable[[bytes], bool]] = {
    "jpg": lambda h: h[:3] == b"\xff\xd8\xff",
    "png": lambda h: h[:8] == b"\x89PNG\r\n\x1a\n",
    "gif": lambda h: h[:6] in (b"GIF87a", b"GIF89a"),
    "webp": _riff(b"WEBP"),
    "avi": _riff(b"AVI "),
    "wav": _riff(b"WAVE"),
    "mp4": _iso_bmff,
    "mov": _iso_bmff,
    "m4a": _iso_bmff,
    "webm": lambda h: h[:4] == b"\x1a\x45\xdf\xa3",
    "mp3": _mp3,
    "aac": lambda h: h[:4] == b"ADIF" or (len(h) > 1 and h[0] == 0xFF and h[1] & 0xF6 == 0xF0),
}
_MAGIC["jpeg"] = _MAGIC["jpg"]
_MAGIC["mkv"] = _MAGIC["webm"]


def sniff(head: bytes) -> str | None:
    """The format ``head`` (a file's first bytes) looks like, or None."""
    for ext, matches in _MAGIC.items():
        if matches(head):
            return ext
    if head[:5].lower() in (b"<!doc", b"<html") or head[:1] in (b"{", b"["):
        return "text (HTML or JSON)"
    try:
        head.decode("utf-8")
        return "text"
    except UnicodeDecodeError:
        return None


_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _extension(name: str) -> str:
    _, dot, ext = name.rpartition(".")
    return ext.lower() if dot else ""


def check_extension(name: str, *, required: bool = True) -> str:
    """The lower-case extension of ``name``; ``UnsupportedFileError`` when it is not supported.

    With ``required=False`` a name without an extension passes (returns ``""``): a URL such as
    ``https://cdn.example.com/image?id=3`` is for the server to judge.
    """
    ext = _extension(name)
    if not ext and not required:
        return ext
    if ext not in SUPPORTED_FORMATS:
        raise UnsupportedFileError(filename=name or "(no name)")
    return ext


def _check_content(name: str, ext: str, head: bytes) -> None:
    matches = _MAGIC.get(ext)
    if matches is None or matches(head):
        return
    looks = sniff(head)
    raise UnsupportedFileError(
        f"{name}: the name says .{ext} but the content "
        + (f"looks like {looks}." if looks else "is not a known media format."),
        filename=name,
    )


def check_input(item: object, limit: int) -> Source:
    """Validate one upload input (blocking: an open, a stat and a 16-byte read; run it in a
    thread)."""
    if isinstance(item, (str, os.PathLike)):
        source, head = _from_path(item if isinstance(item, Path) else Path(item))
    elif isinstance(item, tuple) and len(item) == 2:
        name, data = item
        if not isinstance(name, str) or not isinstance(data, (bytes, bytearray, memoryview)):
            raise ValidationError("A (name, data) upload needs a str name and bytes data.")
        blob = bytes(data)
        source, head = Source(Path(name).name, len(blob), lambda: io.BytesIO(blob)), blob[:_HEAD]
    elif hasattr(item, "read"):
        source, head = _from_file_object(item)
    elif isinstance(item, (bytes, bytearray, memoryview)):
        raise ValidationError(
            f"Cannot upload bare {type(item).__name__}: they carry no file name. {ACCEPTED_FORMS}"
        )
    else:
        raise ValidationError(f"Cannot upload {type(item).__name__}. {ACCEPTED_FORMS}")
    if _SURROGATE.search(source.name):
        raise ValidationError(
            f"{source.name[:80]!r}: the file name is not valid UTF-8 (the file system holds bytes "
            "no text encoding can send); rename the file and upload it again."
        )
    if _UNSAFE_NAME.search(source.name) or len(source.name.encode("utf-8", "replace")) > 255:
        raise ValidationError(
            f"{source.name[:80]!r}: the file name holds a control character or is over 255 "
            "bytes; rename the file (it would break the upload's headers)."
        )
    ext = check_extension(source.name)
    if source.size == 0:
        raise ValidationError(f"{source.name}: the file is empty.")
    if source.size > limit:
        raise FileTooLargeError(filename=source.name, limit_bytes=limit, size_bytes=source.size)
    _check_content(source.name, ext, head)
    return source


_OPEN_FLAGS = getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
"""A FIFO opens at once (and is refused as not a regular file) instead of waiting for a writer."""


def _from_path(path: Path) -> tuple[Source, bytes]:
    if "\x00" in str(path):  # the OS cannot even look such a path up ("embedded null byte")
        raise ValidationError(
            f"{str(path)[:80]!r}: the path holds a NUL character; no such file can exist."
        )
    try:
        fd = os.open(path, os.O_RDONLY | _OPEN_FLAGS)
        try:  # one open, then the size and kind of what was opened: no second lookup
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise ValidationError(f"{path}: not a regular file.")
            head = os.read(fd, _HEAD)
        finally:
            os.close(fd)
    except FileNotFoundError:
        raise ValidationError(f"{path}: no such file.") from None
    except PermissionError:
        raise ValidationError(f"{path}: permission denied.") from None
    except OSError as exc:
        raise ValidationError(f"{path}: cannot be read ({exc.strerror}).") from None
    return Source(path.name, st.st_size, lambda: path.open("rb")), head


def _from_file_object(obj: Any) -> tuple[Source, bytes]:
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
        head = obj.read(_HEAD)
        obj.seek(start)
    except (OSError, AttributeError, io.UnsupportedOperation) as exc:
        raise ValidationError(f"{name}: cannot measure the file object ({exc}).") from None
    if not isinstance(head, bytes):
        raise ValidationError(f"{name}: open the file in binary mode ('rb').")

    def rewind() -> BinaryIO:
        obj.seek(start)
        return obj  # type: ignore[no-any-return]

    return Source(name, end - start, rewind, owned=False), head
