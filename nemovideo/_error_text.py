"""What the error classes in ``errors`` are built from: the documented limits, the hint text, and
the ``Retry-After`` reader.

Kept out of ``errors`` so that module stays the tree and the code table. ``SUPPORTED_FORMATS``,
``DEFAULT_MAX_UPLOAD_BYTES`` and ``parse_retry_after`` are public as ``nemovideo.errors.*``.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Mapping
from typing import Any

__all__ = [
    "DEFAULT_MAX_UPLOAD_BYTES",
    "REGISTERED_TOP_UP",
    "SUPPORTED_FORMATS",
    "parse_retry_after",
    "printable",
    "scrub_data",
    "with_hint",
]

SUPPORTED_FORMATS: tuple[str, ...] = (
    "mp4", "mov", "avi", "webm", "mkv",
    "jpg", "jpeg", "png", "gif", "webp",
    "mp3", "wav", "m4a", "aac",
)  # fmt: skip
DEFAULT_MAX_UPLOAD_BYTES = 200 * 1024 * 1024
REGISTERED_TOP_UP = "Top up at https://nemovideo.com to continue."


_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_MAX_DEPTH = 64


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with control characters (but newline and tab), bidi overrides and lone surrogates
    written as ``\\x1b``/``\\ud800`` escapes, so an error prints and logs on any stream (a lone
    surrogate cannot be encoded at all) and server text cannot move the cursor, clear a screen,
    retitle a window or forge a log line.

    >>> printable("bad \\x1b[2J\\ud800 name")
    'bad \\\\x1b[2J\\\\ud800 name'
    """
    return _UNPRINTABLE.sub(_escape, text)


def scrub_data(data: Any, clean: Any, depth: int = 0) -> Any:
    """``data`` (an error answer's parsed JSON) with ``clean`` applied to every string, keys too:
    a token the server echoes into ``.data`` is masked there as in the message. Nesting past 64
    levels is cut (``"..."``) rather than walked."""
    if isinstance(data, str):
        return clean(data)
    if depth >= _MAX_DEPTH:
        return "..."
    if isinstance(data, Mapping):
        return {scrub_data(k, clean, depth + 1): scrub_data(v, clean, depth + 1)
                for k, v in data.items()}  # fmt: skip
    if isinstance(data, (list, tuple)):
        return [scrub_data(v, clean, depth + 1) for v in data]
    return data


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
