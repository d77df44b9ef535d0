"""``POST /run_sse``: the chat stream, in Google ADK's wire form (PROTOCOL "Chat stream").

This is the minimal agent: it records the message in the session's ``chat_log`` and answers with a
partial text delta followed by the final, non-partial event repeating the whole text, then closes
the stream (the close is the end; there is no done event). It does not edit the draft. A body
without text is refused before the stream starts the way ADK does it: 422 ``{"detail": ...}``.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from ._app import Emulator

__all__ = ["add_routes", "event", "frame"]

AGENT_NAME = "nemo_agent"


def event(text: str, *, invocation_id: str, event_id: str, partial: bool) -> dict[str, Any]:
    """One ADK event holding ``text``; ``partial`` is left out (not false) on the final event."""
    out: dict[str, Any] = {
        "content": {"role": "model", "parts": [{"text": text}]},
        "invocationId": invocation_id,
        "author": AGENT_NAME,
        "id": event_id,
        "timestamp": time.time(),
    }
    if partial:
        out["partial"] = True
    else:
        out["turnComplete"] = True
    return out


def frame(obj: Any) -> bytes:
    """One SSE frame: ``data: <one-line JSON>`` and a blank line, LF only."""
    return b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\n\n"


def _message_text(message: Any) -> str | None:
    if not isinstance(message, dict) or not isinstance(message.get("parts"), list):
        return None
    texts = [
        p["text"]
        for p in message["parts"]
        if isinstance(p, dict) and isinstance(p.get("text"), str)
    ]
    return "".join(texts) if texts else None


def add_routes(app: web.Application, emu: Emulator) -> None:
    async def run_sse(request: web.Request) -> web.StreamResponse:
        user = emu.authenticate(request)
        body = await emu.json_body(request)
        session = emu.store.session_for(user, body.get("session_id"))
        message = body.get("new_message")
        text = _message_text(message)
        if text is None or not text.strip():
            return web.json_response(
                {"detail": "new_message must hold at least one text part"}, status=422
            )
        assert isinstance(message, dict)
        session.chat_log.append(message)

        reply = f"Received: {text}"
        invocation_id = f"e-{uuid.uuid4()}"
        event_id = str(uuid.uuid4())
        resp = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await resp.prepare(request)
        await resp.write(
            frame(event(reply, invocation_id=invocation_id, event_id=event_id, partial=True))
        )
        await resp.write(
            frame(event(reply, invocation_id=invocation_id, event_id=event_id, partial=False))
        )
        await resp.write_eof()
        return resp

    app.router.add_post("/run_sse", run_sse)
