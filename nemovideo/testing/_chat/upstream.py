"""``/run_sse`` answered by a real ADK ``api_server`` (``emu.chat.upstream``), bytes unchanged.

The backend's ``/run_sse`` takes ADK's ``RunAgentRequest`` as is, so the truest offline peer is
``adk api_server`` over your own agents. The emulator keeps what ADK does not have - tokens,
NemoVideo sessions and their state, the request log - and hands the chat itself to ADK::

    emu.chat.upstream = "http://127.0.0.1:8000"     # adk api_server --port 8000 agents/
    emu.chat.upstream_app = "my_agent"              # ADK app name (default: the request's)
    emu.chat.upstream_streaming = True              # ask ADK for partial events
    reply = await session.send("add lo-fi music")   # ADK's bytes, as ADK wrote them

The ADK session is created on first use (``POST /apps/{app}/users/{user}/sessions/{sid}``). The
request body goes on unchanged unless ``upstream_app``, ``upstream_streaming`` or
``upstream_body`` (a function of the body, e.g. to drop a field and see ADK's 422) ask for a
change; ADK's status, ``Content-Type`` and body bytes come back unchanged, chunk by chunk.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import aiohttp
from aiohttp import web

from nemovideo.testing._chat.controls import ChatControls

__all__ = ["forward"]

_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=10)
_ALIASES = {"app_name": "appName", "streaming": "streaming"}


def _mapped(ctl: ChatControls, body: dict[str, Any]) -> dict[str, Any]:
    out = dict(body)
    if ctl.upstream_app is not None:
        out.pop(_ALIASES["app_name"], None)
        out["app_name"] = ctl.upstream_app
    if ctl.upstream_streaming is not None:
        out["streaming"] = ctl.upstream_streaming
    if ctl.upstream_body is not None:
        out = ctl.upstream_body(out)
    return out


async def _ensure_session(
    http: aiohttp.ClientSession, ctl: ChatControls, app: str, user: str, sid: str
) -> None:
    key = (app, user, sid)
    if key in ctl.upstream_sessions:
        return
    url = f"{ctl.upstream}/apps/{quote(app, safe='')}/users/{quote(user, safe='')}/sessions/" + (
        quote(sid, safe="")
    )
    async with http.post(url, json={}) as resp:
        if resp.status >= 300 and resp.status not in (400, 409):  # 400/409: it already exists
            raise web.HTTPBadGateway(text=f"ADK refused the session: {await resp.text()}")
    ctl.upstream_sessions.add(key)


async def forward(
    request: web.Request, ctl: ChatControls, raw: bytes, body: dict[str, Any]
) -> web.StreamResponse:
    """Answer ``request`` (already authenticated, its session checked) from ``ctl.upstream``."""
    assert ctl.upstream is not None
    mapped = _mapped(ctl, body)
    data = raw if mapped == body else json.dumps(mapped).encode()
    app = str(mapped.get("app_name") or mapped.get("appName") or "")
    user = str(body.get("user_id") or body.get("userId") or "")
    sid = str(body.get("session_id") or body.get("sessionId") or "")
    base = ctl.upstream.rstrip("/")
    ctl.upstream = base
    resp = web.StreamResponse()
    captured = bytearray()
    async with aiohttp.ClientSession(timeout=_TIMEOUT) as http:
        await _ensure_session(http, ctl, app, user, sid)
        ctl.upstream_posts += 1
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        async with http.post(f"{base}/run_sse", data=data, headers=headers) as answer:
            resp.set_status(answer.status)
            content_type = answer.headers.get("Content-Type", "")
            if content_type:
                resp.headers["Content-Type"] = content_type
            await resp.prepare(request)
            try:
                async for chunk in answer.content.iter_any():
                    captured += chunk
                    await resp.write(chunk)
                await resp.write_eof()
            except (ConnectionError, RuntimeError):
                ctl.disconnects += 1
            finally:
                ctl.upstream_answers.append((answer.status, content_type, bytes(captured)))
    return resp
