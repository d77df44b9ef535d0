"""How the emulator reads requests and writes answers, in both of the service's envelopes.

The API answers ``{"code", "message", "data"}`` (docs/protocol.md, "Answers"): a failure either on
HTTP 200 with a non-zero ``code`` (error style ``"body"``) or with the code's HTTP status
(``"status"``). The render proxy answers ``{"success", "data"}`` / ``{"success": false, "error"}``,
or the bare job. Route modules use these through the :class:`~nemovideo.testing.Emulator`'s
methods of the same names (``emu.ok(...)``, ``emu.error_response(...)``), which fill in its
current styles; the functions here take the style explicitly so they can be tested alone::

    ok({"available": 100})                    # {"code": 0, "message": "success", "data": ...}
    error_response("status", 2001)            # HTTP 402 {"code": 2001, "message": "..."}
    render_failure(False, "body", 404, "no")  # HTTP 200 {"success": false, "error": "no"}
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from nemovideo.testing._server.store import (
    DEFAULT_MESSAGES,
    STATUS_FOR_CODE,
    APIFailure,
    RecordedRequest,
)

__all__ = [
    "ATTRIBUTION_HEADERS",
    "ERROR_STYLES",
    "bearer_token",
    "error_response",
    "failure_response",
    "has_attribution",
    "json_body",
    "ok",
    "record",
    "render_failure",
    "render_ok",
    "status_for",
]

ERROR_STYLES = ("body", "status")
ATTRIBUTION_HEADERS = ("X-Skill-Source", "X-Skill-Version", "X-Skill-Platform")


def has_attribution(request: web.BaseRequest) -> bool:
    """True when the request carries every non-empty ``X-Skill-*`` attribution header."""
    return all(request.headers.get(name, "").strip() for name in ATTRIBUTION_HEADERS)


def bearer_token(request: web.BaseRequest) -> str | None:
    """The token from ``Authorization: Bearer <token>``; None when absent or another scheme."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


async def json_body(request: web.BaseRequest) -> dict[str, Any]:
    """The request's JSON object, or ``{}`` when it has none (the service is lenient too)."""
    try:
        body = await request.json() if request.body_exists else None
    except ValueError:
        body = None
    return body if isinstance(body, dict) else {}


async def record(request: web.BaseRequest, into: list[RecordedRequest]) -> None:
    """Append what ``request`` carried (its JSON body when it has one) to ``into``."""
    body: Any = None
    if request.content_type == "application/json" and request.body_exists:
        try:
            body = await request.json()
        except (ValueError, web.HTTPException):
            body = None
    into.append(
        RecordedRequest(request.method, request.path, dict(request.headers), body, time.time())
    )


def ok(data: Any) -> web.Response:
    """A success answer in the envelope: ``{"code": 0, "message": "success", "data": data}``."""
    return web.json_response({"code": 0, "message": "success", "data": data})


def status_for(style: str, code: int, status: int | None = None) -> int:
    """The HTTP status for an error ``code`` in error ``style``; an explicit ``status`` wins."""
    if status is not None:
        return status
    if style == "body":
        return 200
    return STATUS_FOR_CODE.get(code, code if 400 <= code < 600 else 400)


def error_response(
    style: str,
    code: int,
    message: str | None = None,
    *,
    status: int | None = None,
    headers: Mapping[str, str] | None = None,
    **extra_data: Any,
) -> web.Response:
    """A failure in error ``style``; ``extra_data`` becomes the envelope's ``data``."""
    body: dict[str, Any] = {"code": code, "message": message or DEFAULT_MESSAGES.get(code, "")}
    if extra_data:
        body["data"] = extra_data
    return web.json_response(body, status=status_for(style, code, status), headers=headers)


def failure_response(style: str, failure: APIFailure) -> web.Response:
    """:func:`error_response` for a raised ``APIFailure``: its status, headers and data kept."""
    return error_response(
        style,
        failure.code,
        failure.message,
        status=failure.status,
        headers=failure.headers or None,
        **failure.data,
    )


def render_ok(bare: bool, data: Mapping[str, Any]) -> web.Response:
    """A render-envelope success ``{"success": true, "data": data}``, or ``data`` itself when bare."""
    return web.json_response(dict(data) if bare else {"success": True, "data": dict(data)})


def render_failure(bare: bool, style: str, status: int, message: str) -> web.Response:
    """A render-envelope failure: ``{"success": false, "error"}`` (bare: ``{"error"}``).

    Bare answers and the ``"status"`` style keep ``status``; the ``"body"`` style sends HTTP 200.
    """
    if bare:
        return web.json_response({"error": message}, status=status)
    return web.json_response(
        {"success": False, "error": message}, status=200 if style == "body" else status
    )
