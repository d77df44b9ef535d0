"""Decoding the API's answers: the transport's one reader of the ``{"code", "data"}`` envelope.

Only :mod:`._transport` calls this; error codes themselves live in :mod:`.errors`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Literal

import aiohttp

from .errors import APIError, error_for, parse_retry_after

__all__ = ["Envelope", "decode_response"]

Envelope = Literal["code", "render", "none"]


def _message_of(obj: Any, fallback: str) -> str:
    if isinstance(obj, Mapping):
        for key in ("message", "msg", "error", "detail", "errorMessage"):
            value = obj.get(key)
            if isinstance(value, str) and value:
                return value
    return fallback


def _as_code(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


async def _read_body(resp: aiohttp.ClientResponse, limit: int) -> bytes:
    if resp.content_length is not None and resp.content_length > limit:
        raise APIError(
            f"Response of {resp.content_length} bytes exceeds the {limit}-byte cap",
            http_status=resp.status,
        )
    if resp.content_length is not None:
        return await resp.read()
    parts: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise APIError(f"Response exceeds the {limit}-byte cap", http_status=resp.status)
        parts.append(chunk)
    return b"".join(parts)


async def decode_response(
    resp: aiohttp.ClientResponse,
    envelope: Envelope,
    *,
    max_bytes: int,
    max_upload_bytes: int,
    registration_url: Callable[[], str | None],
) -> Any:
    """The answer's ``data`` (or the bare body), or the typed error the answer stands for.

    Failures arrive as HTTP 200 with a non-zero ``code``, as an HTTP error status with or without
    a JSON body, or (render proxy) as ``{"success": false, "error": ...}``: all map to one class
    per documented code through ``errors.error_for``. Bodies over ``max_bytes`` are refused.
    """
    raw = await _read_body(resp, max_bytes)

    def error(code: int | None, message: str, obj: Any) -> APIError:
        data = obj.get("data") if isinstance(obj, Mapping) else None
        return error_for(
            code=code,
            http_status=resp.status,
            message=message or None,
            data=data if isinstance(data, Mapping) else None,
            retry_after=parse_retry_after(resp.headers.get("Retry-After")),
            registration_url=registration_url(),
            max_upload_bytes=max_upload_bytes,
        )

    obj: Any = None
    if raw.strip():
        try:
            obj = json.loads(raw)
        except ValueError:
            obj = None
    status = resp.status
    if 300 <= status < 400:
        raise APIError(
            f"Unexpected redirect ({status}) from the API; redirects are not followed "
            "so the token cannot leak to another host.",
            http_status=status,
        )
    if obj is None and status < 400:
        if envelope == "none" or not raw.strip():
            return None
        raise APIError(f"The API answered {status} with a body that is not JSON",
                       http_status=status)  # fmt: skip
    if isinstance(obj, Mapping):
        if "code" in obj and _as_code(obj.get("code")) is not None:
            code = _as_code(obj["code"])
            if code == 0 and status < 400:
                return obj.get("data")
            raise error(code, _message_of(obj, ""), obj)
        if envelope == "render" and "success" in obj:
            if obj.get("success") and status < 400:
                data = obj.get("data")
                return obj if data is None else data
            raise error(None, _message_of(obj, "Render request failed"), obj)
    if status >= 400:
        text = raw[:500].decode("utf-8", "replace").strip()
        raise error(None, _message_of(obj, text or resp.reason or ""), obj)
    return obj
