"""What the error classes in ``errors`` are built from: the documented limits, the hint text, and
the ``Retry-After`` reader.

Kept out of ``errors`` so that module stays the tree and the code table. ``SUPPORTED_FORMATS``,
``DEFAULT_MAX_UPLOAD_BYTES`` and ``parse_retry_after`` are public as ``nemovideo.errors.*``.
"""

from __future__ import annotations

import email.utils
import time

__all__ = [
    "DEFAULT_MAX_UPLOAD_BYTES",
    "REGISTERED_TOP_UP",
    "SUPPORTED_FORMATS",
    "parse_retry_after",
    "with_hint",
]

SUPPORTED_FORMATS: tuple[str, ...] = (
    "mp4", "mov", "avi", "webm", "mkv",
    "jpg", "jpeg", "png", "gif", "webp",
    "mp3", "wav", "m4a", "aac",
)  # fmt: skip
DEFAULT_MAX_UPLOAD_BYTES = 200 * 1024 * 1024
REGISTERED_TOP_UP = "Top up at https://nemovideo.com to continue."


def with_hint(message: str, hint: str) -> str:
    """The server's message, ended as a sentence, then the hint: "No credits. Register at ..."."""
    message = message.rstrip()
    if message and message[-1] not in ".!?。！？:":
        message += "."
    return f"{message} {hint}" if message else hint


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Read a ``Retry-After`` header: delta seconds (decimals tolerated) or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
