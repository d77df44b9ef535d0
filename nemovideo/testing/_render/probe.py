"""What the emulator's upload endpoint learns from a file's bytes: its format and its measurements.

The real service answers every upload with ``duration``, ``width``, ``height`` and ``fps``
(docs/protocol.md, "Endpoints"), and fetches URL uploads itself, judging a URL without an extension by what
it serves. The emulator does the same from the first bytes and the headers of a stored file::

    sniff(b"\\x89PNG\\r\\n\\x1a\\n...")                 # ("png", "image")
    measure(path, "png")                            # {"duration": None, "width": 64, ...}

Deliberately separate from the client's own checks (``nemovideo.upload._check``): the server's
judgement must not share the client's bugs. Formats it cannot measure get ``None`` values.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

from nemovideo.testing.mp4probe import probe_mp4

__all__ = ["KIND_OF_FORMAT", "measure", "sniff"]

KIND_OF_FORMAT: dict[str, str] = {
    **dict.fromkeys(("mp4", "mov", "avi", "webm", "mkv"), "video"),
    **dict.fromkeys(("jpg", "jpeg", "png", "gif", "webp"), "image"),
    **dict.fromkeys(("mp3", "wav", "m4a", "aac"), "audio"),
}
_HEAD = 256 * 1024


def sniff(head: bytes) -> tuple[str, str] | None:
    """``(format, kind)`` of a file from its first bytes, or None when no supported format."""
    fmt = _format(head)
    return (fmt, KIND_OF_FORMAT[fmt]) if fmt else None


def _format(h: bytes) -> str | None:
    if h[:3] == b"\xff\xd8\xff":
        return "jpg"
    if h[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if h[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if h[:4] == b"RIFF":
        return {b"WEBP": "webp", b"WAVE": "wav", b"AVI ": "avi"}.get(h[8:12])
    if h[4:8] == b"ftyp":
        brand = h[8:12]
        return "m4a" if brand in (b"M4A ", b"M4B ") else "mov" if brand == b"qt  " else "mp4"
    if h[4:8] in (b"moov", b"mdat", b"wide", b"free"):
        return "mp4"
    if h[:4] == b"\x1a\x45\xdf\xa3":
        return "webm" if b"webm" in h[:64] else "mkv"
    if h[:3] == b"ID3" or h[:4] == b"ADIF":
        return "mp3" if h[:3] == b"ID3" else "aac"
    if len(h) > 1 and h[0] == 0xFF and h[1] & 0xF6 == 0xF0:
        return "aac"
    if len(h) > 1 and h[0] == 0xFF and h[1] & 0xE0 == 0xE0:
        return "mp3"
    return None


def measure(path: Path, fmt: str) -> dict[str, Any]:
    """``duration`` (s), ``width``, ``height``, ``fps`` of the file at ``path``; None if unknown."""
    out: dict[str, Any] = {"duration": None, "width": None, "height": None, "fps": None}
    try:
        if fmt in ("mp4", "mov", "m4a"):
            out.update(_iso_bmff(path))
        else:
            with path.open("rb") as f:
                head = f.read(_HEAD)
            size = _image_size(head, fmt)
            if size is not None:
                out["width"], out["height"] = size
            if fmt == "wav":
                out["duration"] = _wav_seconds(head)
    except (OSError, ValueError, struct.error):
        pass
    return out


def _iso_bmff(path: Path) -> dict[str, Any]:
    info = probe_mp4(path)
    video = next((t for t in info.tracks if t.handler == "vide"), None)
    out: dict[str, Any] = {"duration": round(info.duration_s, 3)}
    if video is not None:
        out.update(width=video.width, height=video.height)
        if video.duration_s > 0 and video.samples:
            out["fps"] = round(video.samples / video.duration_s, 3)
    return out


def _image_size(h: bytes, fmt: str) -> tuple[int, int] | None:
    if fmt == "png" and h[12:16] == b"IHDR":
        width, height = struct.unpack(">II", h[16:24])
        return int(width), int(height)
    if fmt == "gif":
        width, height = struct.unpack("<HH", h[6:10])
        return int(width), int(height)
    if fmt == "webp":
        return _webp_size(h)
    if fmt in ("jpg", "jpeg"):
        return _jpeg_size(h)
    return None


def _webp_size(h: bytes) -> tuple[int, int] | None:
    chunk = h[12:16]
    if chunk == b"VP8X":
        width = int.from_bytes(h[24:27], "little") + 1
        return width, int.from_bytes(h[27:30], "little") + 1
    if chunk == b"VP8L":
        bits = int.from_bytes(h[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", h[26:30])
        return int(width) & 0x3FFF, int(height) & 0x3FFF
    return None


def _jpeg_size(h: bytes) -> tuple[int, int] | None:
    """The frame size from the first SOF marker (baseline, progressive, lossless)."""
    i = 2
    while i + 9 < len(h):
        if h[i] != 0xFF:
            i += 1
            continue
        marker = h[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
            i += 1 if marker == 0xFF else 2
            continue
        length = int.from_bytes(h[i + 2 : i + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", h[i + 5 : i + 9])
            return int(width), int(height)
        i += 2 + length
    return None


def _wav_seconds(h: bytes) -> float | None:
    """Data bytes over the byte rate, from the ``fmt `` and ``data`` chunks."""
    i, byte_rate = 12, 0
    while i + 8 <= len(h):
        chunk, size = h[i : i + 4], int.from_bytes(h[i + 4 : i + 8], "little")
        if chunk == b"fmt ":
            byte_rate = int.from_bytes(h[i + 16 : i + 20], "little")
        elif chunk == b"data":
            return round(size / byte_rate, 3) if byte_rate else None
        i += 8 + size + (size & 1)
    return None
