"""Small pure helpers of the transport: URL path templates, and error text that is safe to show.

Paths are templates filled with ``segments``; each value is percent-encoded as exactly one path
segment, and empty, ``.``/``..`` and control-character values are refused, so an id can never walk
the URL to another endpoint (``"../../credits"``) with the caller's token. Network errors are
described without aiohttp's ``ConnectionKey`` repr, which can hold proxy credentials.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import quote

import aiohttp

from nemovideo.errors import NemoError, ValidationError

__all__ = ["build_path", "check_id", "describe_error", "encode_segment", "own_error"]

_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
"""Control characters, and lone surrogates (text no encoder can send: a raw ``UnicodeEncodeError``
from every later use of the id)."""
_CONNECTION_REPR = re.compile(r"\s*(Connection<)?ConnectionKey\(")
_MAX_DETAIL = 300


def encode_segment(value: object, name: str = "path segment") -> str:
    """``value`` percent-encoded as one URL path segment (``/`` too), or ``ValidationError``.

    Empty, ``.`` and ``..`` values, any control character and any lone surrogate are refused: they
    would change which endpoint the URL names or what a log line shows, or cannot be encoded.
    """
    if not isinstance(value, str):
        raise ValidationError(f"{name} must be a string, got {type(value).__name__}")
    if value in ("", ".", "..") or _CONTROL_CHARS.search(value):
        shown = repr(value) if len(value) <= 80 else repr(value[:80]) + "..."
        raise ValidationError(f"Refusing {name} {shown}: it is not a valid URL path segment.")
    return quote(value, safe="")


MAX_ID_LENGTH = 256


def id_text(value: object) -> str | None:
    """An id the server sent, as text: a string as sent, an integer as its digits (exactly: ids
    are opaque and may pass 2**53), anything else (``None``, a float, an object) as no id."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def is_safe_id(value: object) -> bool:
    """Whether ``value`` passes :func:`check_id` (a user id the server sent, say, which goes
    into a registration URL: one that fails is ignored, never silently altered)."""
    try:
        check_id(value, "id", "x")
    except ValidationError:
        return False
    return True


def check_id(value: object, what: str, example: str) -> str:
    """``value`` if it is a safe opaque id, else a ``ValidationError`` that shows an example.

    Session and job ids are opaque strings (a 63-bit number today, ``session_xxx`` in some
    documents): nothing here assumes digits. An id becomes one URL path segment, so the one rule,
    shared by every entry point, is that it stays one: non-empty, at most 256 characters, no
    ``/`` or ``\\``, not ``.`` or ``..``, no control characters, no lone surrogates (which no
    encoder can send) and no surrounding spaces.
    """
    if (
        isinstance(value, str)
        and 0 < len(value) <= MAX_ID_LENGTH
        and value not in (".", "..")
        and "/" not in value
        and "\\" not in value
        and value == value.strip()
        and not _CONTROL_CHARS.search(value)
    ):
        return value
    shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:80] + "..."
    raise ValidationError(
        f"Not a {what}: {shown}. {what.capitalize()}s are one URL path segment such as "
        f"{example!r}: non-empty, at most {MAX_ID_LENGTH} characters, no '/', no control "
        "characters or lone surrogates."
    )


def build_path(template: str, segments: Mapping[str, object] | None = None) -> str:
    """``template`` with each ``{name}`` segment replaced by ``encode_segment(segments[name])``.

    A placeholder must be a whole segment (``/lambda/{id}/cancel``); every placeholder needs a
    value and every value a placeholder (a mismatch is a programming error: ``ValueError``).
    """
    if not segments:
        if "{" in template or "}" in template:
            raise ValueError(f"{template} has placeholders but no segments were given")
        return template
    parts = template.split("/")
    used: set[str] = set()
    for i, part in enumerate(parts):
        if part.startswith("{") and part.endswith("}"):
            key = part[1:-1]
            if key not in segments:
                raise ValueError(f"{template}: no value for {{{key}}}")
            parts[i] = encode_segment(segments[key], key)
            used.add(key)
        elif "{" in part or "}" in part:
            raise ValueError(f"{template}: a placeholder must be a whole path segment")
    if used != set(segments):
        raise ValueError(f"{template}: no placeholder for {sorted(set(segments) - used)}")
    return "/".join(parts)


def describe_error(exc: BaseException) -> str:
    """``"<class>: <short text>"`` for a network error, without aiohttp's ``ConnectionKey`` repr.

    aiohttp puts the connection key (which holds ``proxy_auth`` and the proxy URL) into some
    messages; those messages are cut before it and name the underlying cause instead.
    """
    if isinstance(exc, aiohttp.ClientConnectorError):
        reason = getattr(exc.os_error, "strerror", None) or str(exc.os_error)
        return f"{type(exc).__name__}: cannot connect to {exc.host}:{exc.port} ({reason})"
    text = str(exc)
    found = _CONNECTION_REPR.search(text)
    if found is not None:
        text = text[: found.start()].rstrip(" :")
        cause = exc.__cause__
        if cause is not None:
            text += f" ({describe_error(cause)})"
    if len(text) > _MAX_DETAIL:
        text = text[:_MAX_DETAIL] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def own_error(exc: BaseException) -> NemoError | None:
    """Our error that aiohttp wrapped (a request body raised it while being written), if any."""
    cause = exc.__cause__
    for _ in range(5):
        if cause is None:
            return None
        if isinstance(cause, NemoError):
            return cause
        cause = cause.__cause__
    return None
