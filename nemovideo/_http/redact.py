"""Keeping secrets out of text: exception messages, log records, reprs.

A server may echo what it was sent: an HTML 502 page that quotes the request, an error message
that repeats the ``Authorization`` header. Such text passes through :func:`redact` at the one
error boundary (and the log handler) before anyone sees it. It removes the tokens this process
has used (registered with :func:`register_secret`) and anything shaped like a NemoVideo token,
whoever it belongs to::

    >>> redact("bad token nmv_usr_abc123XYZ in Authorization: Bearer eyJhbGciOi.J9")
    'bad token nmv_usr_*** in Authorization: Bearer ***'
    >>> redact(redact("nmv_usr_abc")) == redact("nmv_usr_abc")
    True
"""

from __future__ import annotations

import re

__all__ = ["redact", "register_secret"]

# ``*`` is part of a value so that masking twice changes nothing ("nmv_usr_***" stays as is).
_SHAPES = re.compile(
    r"(?P<prefix>\b(?:nmv|clm)_(?:[a-z]+_)?)[A-Za-z0-9._~+/=*-]+"
    r"|(?P<scheme>\bBearer\s+)[A-Za-z0-9._~+/=*-]+",
    re.IGNORECASE,
)
_MASK = "***"
_secrets: set[str] = set()
_known: re.Pattern[str] | None = None


def register_secret(secret: str | None) -> None:
    """Remember ``secret`` (a token this process sends) so every later text hides it."""
    global _known
    if not secret or len(secret) < 4 or secret in _secrets:
        return
    _secrets.add(secret)
    _known = re.compile("|".join(re.escape(s) for s in sorted(_secrets, key=len, reverse=True)))


def _mask(match: re.Match[str]) -> str:
    return (match.group("prefix") or match.group("scheme") or "") + _MASK


def redact(text: str) -> str:
    """``text`` without any registered secret or token-shaped value."""
    if _known is not None:
        text = _known.sub(_MASK, text)
    return _SHAPES.sub(_mask, text)
