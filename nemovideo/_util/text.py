"""Text that must be safe to show: error messages and the data they carry.

Server text reaches screens and logs through errors; :func:`printable` makes it inert (no escape
sequence, no lone surrogate that no stream can encode) and :func:`scrub_data` applies a cleaner
(the token redactor) to every string of an answer's parsed JSON.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["printable", "scrub_data"]

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


def scrub_data(data: Any, clean: Callable[[str], str], depth: int = 0) -> Any:
    """``data`` (an error answer's parsed JSON) with ``clean`` applied to every string, keys too:
    a token the server echoes into ``.data`` is masked there as in the message. Nesting past 64
    levels is cut (``"..."``) rather than walked."""
    if isinstance(data, str):
        return clean(data)
    if depth >= _MAX_DEPTH:
        return "..."
    if isinstance(data, Mapping):
        return {
            scrub_data(k, clean, depth + 1): scrub_data(v, clean, depth + 1)
            for k, v in data.items()
        }
    if isinstance(data, (list, tuple)):
        return [scrub_data(v, clean, depth + 1) for v in data]
    return data
