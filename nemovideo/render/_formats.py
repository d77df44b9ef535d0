"""What an export may ask for: container, quality and resolution, checked before anything is sent.

The submit's ``output`` carries these (docs/protocol.md, "Render"); a value outside them is refused
with a ``ValidationError`` that names the supported ones, so a typo never turns into a silent
1080p MP4::

    >>> from nemovideo.render._formats import export_output
    >>> export_output("webm", "high", "720p")
    {'format': 'webm', 'quality': 'high', 'resolution': '720p'}
    >>> export_output("MP4", "high", "4k")
    {'format': 'mp4', 'quality': 'high', 'resolution': '2160p'}
    >>> export_output("avi", "high", None)
    Traceback (most recent call last):
    ...
    nemovideo.ValidationError: Unsupported export format 'avi'; supported: mp4, webm, mov, gif

The emulator renders exactly these (``nemovideo.testing``), and docs/export.md has them in one
table.
"""

from __future__ import annotations

from typing import Literal, get_args

from nemovideo.errors import ValidationError

__all__ = [
    "FORMATS",
    "QUALITIES",
    "RESOLUTIONS",
    "ExportFormat",
    "ExportQuality",
    "ExportResolution",
    "export_output",
    "frame_size",
]

ExportFormat = Literal["mp4", "webm", "mov", "gif"]
"""The container: ``mp4`` (H.264/AAC, the default), ``webm`` (VP8/Opus), ``mov`` (H.264/AAC in
QuickTime), ``gif`` (no sound)."""
ExportQuality = Literal["low", "medium", "high"]
"""The encoder's effort for size: ``low`` is the smallest file, ``high`` (default) the sharpest."""
ExportResolution = Literal["480p", "720p", "1080p", "1440p", "2160p", "4k"]
"""The short side of the frame (``720p``: 1280x720 landscape, 720x1280 portrait); ``4k`` is
``2160p``. Not given: the draft's own size."""

FORMATS: tuple[str, ...] = get_args(ExportFormat)
QUALITIES: tuple[str, ...] = get_args(ExportQuality)
RESOLUTIONS: tuple[str, ...] = get_args(ExportResolution)

_SHORT_SIDE = {"480p": 480, "720p": 720, "1080p": 1080, "1440p": 1440, "2160p": 2160}
_ALIASES = {"4k": "2160p"}


def _pick(kind: str, value: object, allowed: tuple[str, ...]) -> str:
    picked = value.strip().lower() if isinstance(value, str) else value
    if picked not in allowed:
        raise ValidationError(
            f"Unsupported export {kind} {value!r}; supported: {', '.join(allowed)}"
        )
    return str(picked)


def export_output(format: object, quality: object, resolution: object) -> dict[str, str]:
    """The submit's ``output`` for these choices (case aside), or ``ValidationError`` naming the
    supported values; ``resolution`` None leaves the frame size to the draft."""
    output = {
        "format": _pick("format", format, FORMATS),
        "quality": _pick("quality", quality, QUALITIES),
    }
    if resolution is not None:
        picked = _pick("resolution", resolution, RESOLUTIONS)
        output["resolution"] = _ALIASES.get(picked, picked)
    return output


def frame_size(resolution: str, width: int, height: int) -> tuple[int, int]:
    """``width`` x ``height`` scaled so its short side is ``resolution``'s (even numbers).

    >>> frame_size("720p", 1920, 1080), frame_size("720p", 1080, 1920)
    ((1280, 720), (720, 1280))
    """
    short = _SHORT_SIDE[_ALIASES.get(resolution, resolution)]
    scale = short / max(1, min(width, height))
    return round(width * scale / 2) * 2, round(height * scale / 2) * 2
