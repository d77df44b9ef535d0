"""Read an MP4's duration, frame size, streams and codecs from its ISO-BMFF boxes, in pure Python.

No ffprobe ships with ``imageio-ffmpeg``, and tests must check that a render is a real, playable
video of the right length, so this reads the header boxes the way a player does::

    info = probe_mp4("out.mp4")
    assert info.has_video and info.codec == "avc1"
    assert abs(info.duration_s - 10) < 0.1 and (info.width, info.height) == (1920, 1080)

Only ``moov`` is read into memory (it is small), wherever it sits in the file.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import attrs

__all__ = ["Mp4Info", "Mp4Track", "probe_mp4"]

_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"udta"}
_MAX_MOOV = 64 << 20


@attrs.frozen
class Mp4Track:
    """One ``trak``: its handler (``vide``/``soun``), sample-entry codec, duration and size."""

    handler: str
    codec: str | None
    duration_s: float
    width: int
    height: int
    samples: int


@attrs.frozen
class Mp4Info:
    """What a player learns from the header. ``codec`` is the video codec's four-cc (``avc1``)."""

    duration_s: float
    width: int
    height: int
    has_video: bool
    has_audio: bool
    codec: str | None
    audio_codec: str | None = None
    size: int = 0
    tracks: tuple[Mp4Track, ...] = ()

    @property
    def fps(self) -> float | None:
        """Average frame rate of the first video track (samples / duration)."""
        video = next((t for t in self.tracks if t.handler == "vide"), None)
        if video is None or video.duration_s <= 0:
            return None
        return video.samples / video.duration_s


def _boxes(data: bytes, start: int = 0, end: int | None = None) -> Iterator[tuple[bytes, int, int]]:
    """``(type, payload_start, payload_end)`` for each box in ``data[start:end]``."""
    end = len(data) if end is None else end
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            if pos + 16 > end:
                raise ValueError("truncated 64-bit box header")
            (size,) = struct.unpack_from(">Q", data, pos + 8)
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise ValueError(f"bad size {size} for box {kind!r} at {pos}")
        yield kind, pos + header, pos + size
        pos += size


def _find(data: bytes, start: int, end: int, *path: bytes) -> tuple[int, int] | None:
    for kind, s, e in _boxes(data, start, end):
        if kind == path[0]:
            return (s, e) if len(path) == 1 else _find(data, s, e, *path[1:])
    return None


def _read_moov(path: Path) -> tuple[bytes, int, bool]:
    """The ``moov`` box payload, the file size, and whether an ``ftyp`` box was seen."""
    size = path.stat().st_size
    saw_ftyp = False
    with path.open("rb") as fh:
        pos = 0
        while pos + 8 <= size:
            fh.seek(pos)
            header = fh.read(16)
            box_size, kind = struct.unpack_from(">I4s", header)
            head = 8
            if box_size == 1:
                (box_size,) = struct.unpack_from(">Q", header, 8)
                head = 16
            elif box_size == 0:
                box_size = size - pos
            if box_size < head:
                raise ValueError(f"{path} is not an MP4 (bad box at {pos})")
            if pos == 0 and kind not in (b"ftyp", b"moov", b"free", b"skip", b"wide"):
                raise ValueError(f"{path} is not an MP4 (starts with {kind!r})")
            saw_ftyp = saw_ftyp or kind == b"ftyp"
            if kind == b"moov":
                if box_size > _MAX_MOOV:
                    raise ValueError(f"{path}: moov box of {box_size} bytes is too large")
                fh.seek(pos + head)
                payload = fh.read(box_size - head)
                if len(payload) != box_size - head:
                    raise ValueError(f"{path}: truncated moov box")
                return payload, size, saw_ftyp
            pos += box_size
    raise ValueError(f"{path} has no moov box (not an MP4, or truncated)")


def _timescaled(data: bytes, s: int) -> tuple[int, int]:
    """``(timescale, duration)`` of an ``mvhd``/``mdhd`` payload (version 0 or 1)."""
    fmt, offset = (">IQ", s + 20) if data[s] == 1 else (">II", s + 12)
    timescale, duration = struct.unpack_from(fmt, data, offset)
    return int(timescale), int(duration)


def _track(data: bytes, s: int, e: int) -> Mp4Track | None:
    hdlr = _find(data, s, e, b"mdia", b"hdlr")
    mdhd = _find(data, s, e, b"mdia", b"mdhd")
    if hdlr is None or mdhd is None:
        return None
    handler = data[hdlr[0] + 8 : hdlr[0] + 12].decode("latin-1")
    timescale, duration = _timescaled(data, mdhd[0])
    width = height = 0
    tkhd = _find(data, s, e, b"tkhd")
    if tkhd is not None and tkhd[1] - tkhd[0] >= 8:
        width, height = (v >> 16 for v in struct.unpack_from(">II", data, tkhd[1] - 8))
    codec = None
    stbl = _find(data, s, e, b"mdia", b"minf", b"stbl")
    samples = 0
    if stbl is not None:
        stsd = _find(data, stbl[0], stbl[1], b"stsd")
        if stsd is not None and stsd[1] - stsd[0] >= 16:
            codec = data[stsd[0] + 12 : stsd[0] + 16].decode("latin-1")
        stts = _find(data, stbl[0], stbl[1], b"stts")
        if stts is not None:
            (count,) = struct.unpack_from(">I", data, stts[0] + 4)
            samples = sum(
                struct.unpack_from(">I", data, stts[0] + 8 + 8 * i)[0] for i in range(count)
            )
    seconds = duration / timescale if timescale else 0.0
    return Mp4Track(handler, codec, seconds, width, height, samples)


def probe_mp4(path: str | Path) -> Mp4Info:
    """Parse ``path``'s ``moov`` box. Raises ``ValueError`` when it is not a readable MP4."""
    path = Path(path)
    moov, size, _ = _read_moov(path)
    try:
        mvhd = _find(moov, 0, len(moov), b"mvhd")
        if mvhd is None:
            raise ValueError(f"{path}: moov has no mvhd box")
        timescale, duration = _timescaled(moov, mvhd[0])
        tracks = tuple(
            t
            for kind, s, e in _boxes(moov)
            if kind == b"trak"
            for t in [_track(moov, s, e)]
            if t is not None
        )
    except struct.error as exc:
        raise ValueError(f"{path}: truncated box ({exc})") from None
    video = next((t for t in tracks if t.handler == "vide"), None)
    audio = next((t for t in tracks if t.handler == "soun"), None)
    return Mp4Info(
        duration_s=duration / timescale if timescale else 0.0,
        width=video.width if video else 0,
        height=video.height if video else 0,
        has_video=video is not None,
        has_audio=audio is not None,
        codec=video.codec if video else None,
        audio_codec=audio.codec if audio else None,
        size=size,
        tracks=tracks,
    )
