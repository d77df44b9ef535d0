"""Decoding the API's answers: the transport's one reader of the ``{"code", "data"}`` envelope.

Only :mod:`._transport` calls this; error codes themselves live in :mod:`.errors`. Every answer is
untrusted: the body is capped *after* decompression, JSON nested too deeply is an unreadable
answer rather than a ``RecursionError``, a code may arrive as ``2001``, ``2001.0`` or ``"2001"``,
and an ADK-style ``{"detail": [...]}`` list reads as sentences.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp
from yarl import URL

from nemovideo._http.endpoints import Envelope
from nemovideo._util import jsonparse as _json
from nemovideo._util.numbers import code_of
from nemovideo.errors import APIError, RenderFailedError, Subject, error_for, parse_retry_after

__all__ = ["Envelope", "check_event_stream", "decode_response", "message_of"]


_MESSAGE_KEYS = ("message", "msg", "error", "detail", "errorMessage")
_MAX_MESSAGE = 500
_CHUNK = 64 * 1024


def message_of(obj: Any, fallback: str = "") -> str:
    """The human text of a failure answer: ``message``, ``error``, ``detail``... or ``fallback``.

    FastAPI/ADK's 422 ``detail`` is a list of ``{loc, msg, type}``: it becomes one sentence per
    entry (``"body.session_id: Field required."``), not raw JSON.
    """
    if isinstance(obj, Mapping):
        for key in _MESSAGE_KEYS:
            value = obj.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()[:_MAX_MESSAGE]
            if isinstance(value, list) and value:
                return _sentences(value)
            if isinstance(value, Mapping):
                inner = message_of(value)
                if inner:
                    return inner
    return fallback


def _sentences(items: list[Any]) -> str:
    lines: list[str] = []
    for item in items[:10]:
        if isinstance(item, Mapping):
            loc = item.get("loc")
            where = ".".join(str(p) for p in loc) if isinstance(loc, list) else ""
            text = str(item.get("msg") or item.get("message") or "invalid").strip().rstrip(".")
            lines.append(f"{where}: {text}." if where else f"{text}.")
        elif isinstance(item, str):
            lines.append(item.strip().rstrip(".") + ".")
    return " ".join(lines)[:_MAX_MESSAGE]


def read_capped(resp: aiohttp.ClientResponse, limit: int) -> Awaitable[bytes]:
    """The whole body, decompressed, refused once it passes ``limit`` bytes.

    ``Content-Length`` counts the bytes on the wire, so a gzip body announced as 8 KiB can
    inflate to gigabytes: the cap is counted on what the decoder hands out. A body of known
    length that is not compressed (the common answer) is aiohttp's own ``read()``, handed back
    without a coroutine of this function's own.
    """
    length = resp.content_length  # parsed from the header on each read of the property
    if length is not None and length > limit:
        raise APIError(
            f"The answer of {length} bytes exceeds the {limit}-byte cap",
            http_status=resp.status,
        )
    if length is not None and "Content-Encoding" not in resp.headers:
        return resp.read()
    return _read_counted(resp, limit)


async def _read_counted(resp: aiohttp.ClientResponse, limit: int) -> bytes:
    parts: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise APIError(f"The answer exceeds the {limit}-byte cap", http_status=resp.status)
        parts.append(chunk)
    return b"".join(parts)


def _loads(raw: bytes) -> Any:
    """JSON, or ``None`` when the body is not JSON (or nested past Python's recursion limit).

    Exactly ``json.loads(raw)``: the bytes are decoded as it decodes them (``detect_encoding``,
    ``surrogatepass``), and the text goes to ``_json.loads``, which gives the same values and
    errors, with orjson when it is installed.
    """
    if not raw.strip():
        return None
    # ``detect_encoding`` (a third of this function's time) answers UTF-8 for an object whose
    # second byte is not NUL; every envelope is one.
    utf8 = raw[:1] == b"{" and raw[1:2] != b"\x00"
    try:
        return _json.loads(
            raw.decode("utf-8" if utf8 else json.detect_encoding(raw), "surrogatepass")
        )
    except (ValueError, RecursionError):
        return None


async def decode_response(
    resp: aiohttp.ClientResponse,
    envelope: Envelope,
    *,
    max_bytes: int,
    max_upload_bytes: int,
    registration_url: Callable[[], str | None],
    subject: Subject | None = None,
    job_id: str | None = None,
) -> Any:
    """The answer's ``data`` (or the bare body), or the typed error the answer stands for.

    Failures arrive as HTTP 200 with a non-zero ``code``, as an HTTP error status with or without
    a JSON body, or (render proxy) as ``{"success": false, "error": ...}`` - a render failure
    (``RenderFailedError``) like ``{"success": true, "data": {"status": "failed"}}`` is once the
    caller reads the status. What the failure means is :func:`nemovideo.errors.error_for`'s to
    decide (``subject``: what the call is about, from its endpoint).
    """
    raw = await read_capped(resp, max_bytes)
    status = resp.status
    obj = _loads(raw)
    failed: _Failed = (resp, obj, registration_url, max_upload_bytes, subject)
    if 300 <= status < 400:
        raise APIError(
            f"Unexpected redirect ({status}) from the API; redirects are not followed "
            "so the token cannot leak to another host.",
            http_status=status,
        )
    if obj is None and status < 400:
        if envelope == "none" or not raw.strip():
            return None
        raise APIError(
            f"The API answered {status} with a body that is not JSON "
            f"({resp.content_type or 'no content type'}).",
            http_status=status,
        )
    if isinstance(obj, Mapping):
        data = _unwrap(obj, envelope, status, failed, job_id)
        if data is not _NO_ENVELOPE:
            return data
    if status >= 400:
        text = raw[:_MAX_MESSAGE].decode("utf-8", "replace").strip()
        if "html" in (resp.content_type or ""):
            text = ""
        raise _error(*failed, None, message_of(obj, text or resp.reason or ""))
    return obj


_NO_ENVELOPE: Any = object()
_Failed = tuple[aiohttp.ClientResponse, Any, Callable[[], "str | None"], int, "Subject | None"]
"""What ``_error`` needs of the answer besides its code and message."""


def _unwrap(
    obj: Mapping[str, Any],
    envelope: Envelope,
    status: int,
    failed: _Failed,
    job_id: str | None,
) -> Any:
    """The ``data`` of a ``{"code"}`` or render ``{"success"}`` envelope, the typed error it
    stands for, or ``_NO_ENVELOPE`` when ``obj`` is neither (a bare answer)."""
    raw_code = obj.get("code")
    code = code_of(raw_code)
    if raw_code is not None and code is None:
        raise APIError(
            f"The API answered an unreadable code ({str(raw_code)[:40]!r}); the answer was "
            "not used.",
            http_status=status,
        )
    if code is not None:
        if code == 0 and status < 400:
            return obj.get("data")
        raise _error(*failed, code, message_of(obj))
    if envelope == "render" and "success" in obj:
        if obj.get("success") is True and status < 400:
            data = obj.get("data")
            return obj if data is None else data
        if status < 400:
            raise RenderFailedError(job_id, message_of(obj) or None)
        raise _error(*failed, None, message_of(obj, "The render request failed"))
    return _NO_ENVELOPE


def _error(
    resp: aiohttp.ClientResponse,
    obj: Any,
    registration_url: Callable[[], str | None],
    max_upload_bytes: int,
    subject: Subject | None,
    code: int | None,
    message: str,
) -> APIError:
    """The failed answer, as :func:`~nemovideo.errors.error_for` reads it."""
    data = obj.get("data") if isinstance(obj, Mapping) else None
    return error_for(
        code=code,
        http_status=resp.status,
        message=message or None,
        data=data if isinstance(data, Mapping) else None,
        retry_after=parse_retry_after(resp.headers.get("Retry-After")),
        registration_url=registration_url_in(obj, message) or registration_url(),
        max_upload_bytes=max_upload_bytes,
        subject=subject,
    )


_URL_KEYS = (
    "registration_url",
    "registrationUrl",
    "register_url",
    "registerUrl",
    "bind_url",
    "bindUrl",
    "signup_url",
    "signupUrl",
)
_URL_IN_TEXT = re.compile(r"https?://[^\s\"'<>()\[\]{}]+")


def registration_url_in(obj: Any, message: str = "") -> str | None:
    """The registration URL a failure answer carries (one protocol version says the backend
    sends it with 2001): a ``registration_url``-like key at the top or in ``data``, else a URL
    in the message that mentions registering. Only a plain ``http(s)`` URL with a host, without
    spaces or control characters, is taken; ``None`` when there is none (then the client builds
    ``<web>/register?bind=<user_id>``).

    >>> registration_url_in({"data": {"registration_url": "https://nemovideo.com/register?bind=a"}})
    'https://nemovideo.com/register?bind=a'
    >>> registration_url_in({}, "Out of credits; sign up at https://x.test/register?ref=1.")
    'https://x.test/register?ref=1'
    """
    found: list[str] = []
    for where in (obj, obj.get("data") if isinstance(obj, Mapping) else None):
        if isinstance(where, Mapping):
            found += [v for k in _URL_KEYS if isinstance(v := where.get(k), str)]
    found += [
        m.rstrip(".,;:!?")
        for m in _URL_IN_TEXT.findall(message or "")
        if "regist" in m.lower() or "signup" in m.lower() or "bind=" in m
    ]
    for candidate in found:
        url = candidate.strip()
        if len(url) > 2048 or not url.isprintable() or " " in url:
            continue
        try:
            parsed = URL(url)
        except ValueError:
            continue
        if parsed.scheme in ("http", "https") and parsed.host:
            return url
    return None


async def check_event_stream(
    resp: aiohttp.ClientResponse, decode: Callable[[aiohttp.ClientResponse], Awaitable[Any]]
) -> None:
    """Refuse an answer that is not an event stream: a typed error, never a silent reply.

    An error status or a JSON body goes through the envelope (``SessionNotFoundError``,
    ``ServerError``, ...); a 2xx page of HTML or any other type is an ``APIError`` that names it
    and shows how it began. An answer without ``Content-Type`` is read as a stream (liberal in
    what the client accepts).
    """
    given = resp.headers.get("Content-Type")
    # the header read as it is: aiohttp's ``content_type`` caches its parse on the answer, which
    # turns the answer's attributes into a dict of their own for every open stream
    if resp.status < 300 and (given is None or "event-stream" in given.partition(";")[0].lower()):
        return
    if resp.status < 300 and "json" not in resp.content_type:
        try:
            head = await asyncio.wait_for(resp.content.read(300), 5.0)
        except (asyncio.TimeoutError, aiohttp.ClientError):
            head = b""
        shown = " ".join(head.decode("utf-8", "replace").split())[:200]
        raise APIError(
            f"The chat answer was {resp.content_type}, not an event stream (is base_url the "
            f"API's address?). It began: {shown!r}. The message may have reached the server; it "
            "was not re-sent.",
            http_status=resp.status,
        )
    data = await decode(resp)
    raise APIError(
        f"Expected an event stream from the chat endpoint, got JSON: {str(data)[:200]}",
        http_status=resp.status,
    )
