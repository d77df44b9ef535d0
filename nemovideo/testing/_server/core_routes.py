"""The emulator's core routes: anonymous auth, sessions, claim links, credits and state.

One anonymous token per client id while it is valid (a second request is 429 with
``Retry-After``); a client id whose token expired gets a new one for the same user. A claim link
needs both ids of ``{"task_id", "session_id"}`` and they must belong together; a missing or
foreign one is 1002, as for any session the caller cannot see.
"""

from __future__ import annotations

import math
import time

from aiohttp import web

from nemovideo._http import endpoints as api
from nemovideo.testing._server.keys import EMULATOR, endpoint
from nemovideo.testing._server.store import APIFailure, ClientRecord, Store, iso_time

__all__ = ["CLAIM_TTL", "routes"]

CLAIM_TTL = 7 * 24 * 3600

routes = web.RouteTableDef()


@endpoint(routes, api.ANONYMOUS_TOKEN)
async def anonymous_token(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    client_id = request.headers.get("X-Client-Id", "").strip()
    if not client_id:
        raise APIFailure(400, "Missing X-Client-Id header", status=400)
    now = time.time()
    store = emu.store
    known = store.clients.get(client_id)
    user = store.users.get(known.user_id) if known is not None else None
    if known is not None:
        current = store.tokens.get(known.token)
        if current is not None and current.valid(now):
            wait = max(1, math.ceil(current.expires_at - now))
            raise APIFailure(
                429,
                "One anonymous token per client id; this client's token is still valid",
                status=429,
                headers={"Retry-After": str(wait)},
            )
    _check_ip_quota(store, request.remote or "", now)
    if user is None:
        user = store.new_user()
    token = store.issue_token(user.user_id, emu.token_ttl, now)
    store.clients[client_id] = ClientRecord(client_id, user.user_id, token.token, now)
    return emu.ok(
        {
            "token": token.token,
            "user_id": user.user_id,
            "expires_at": iso_time(token.expires_at),
            "credits": user.credits_available,
        }
    )


QUOTA_WINDOW = 7 * 24 * 3600


def _check_ip_quota(store: Store, ip: str, now: float) -> None:
    """At most ``store.anonymous_tokens_per_ip`` tokens per IP address in 7 days (the vendor's
    quota is ten; off by default, since a test suite issues many from 127.0.0.1): a 429 whose
    ``Retry-After`` is when the oldest leaves the window."""
    limit = store.anonymous_tokens_per_ip
    if limit is None:
        return
    issued = [t for t in store.issued_by_ip.get(ip, []) if t > now - QUOTA_WINDOW]
    if len(issued) >= limit:
        wait = max(1, math.ceil(issued[0] + QUOTA_WINDOW - now))
        raise APIFailure(
            429,
            f"Anonymous token quota reached: at most {limit} per IP address every 7 days",
            status=429,
            headers={"Retry-After": str(wait)},
        )
    store.issued_by_ip[ip] = [*issued, now]


@endpoint(routes, api.CREATE_SESSION)
async def create_session(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    user = emu.authenticate(request)
    body = await emu.json_body(request)
    task_name = body.get("task_name")
    language = body.get("language")
    record = emu.store.create_session(
        user.user_id,
        task_name if isinstance(task_name, str) and task_name else "project",
        language if isinstance(language, str) and language else "en",
    )
    return emu.ok(
        {"task_id": record.task_id, "session_id": record.session_id, "user_id": user.user_id}
    )


@endpoint(routes, api.CLAIM_TOKEN)
async def claim_token(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    user = emu.authenticate(request)
    body = await emu.json_body(request)
    session = emu.store.session_for(user, body.get("session_id"))
    if body.get("task_id") != session.task_id:
        raise APIFailure(1002, f"Task not found: {body.get('task_id')}")
    return emu.ok({"claim_token": emu.store.claim(session), "expires_in": CLAIM_TTL})


@endpoint(routes, api.CREDITS)
async def credits(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    user = emu.authenticate(request)
    return emu.ok(
        {
            "available": user.credits_available,
            "frozen": user.credits_frozen,
            "total": user.credits_total,
        }
    )


@endpoint(routes, api.STATE)
async def state(request: web.Request) -> web.Response:
    emu = request.app[EMULATOR]
    user = emu.authenticate(request)
    session = emu.store.session_for(user, request.match_info["sid"])
    session.settle()
    return emu.ok(session.to_json())
