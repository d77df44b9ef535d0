"""One chat answer on the wire: ADK events (or the simple dialect) and heartbeats, as SSE frames.

What a real ADK API server writes (docs/protocol.md, "Chat"): ``data: <one-line JSON>`` frames, LF
only; camelCase keys with ``None`` fields left out; ``partial: true`` on streamed deltas and no
``partial`` key at all on the final event, which repeats the whole text; ``invocationId``
``e-<uuid>``; function-call ids ``adk-<uuid>``; a ``functionResponse`` with ``role: "user"`` but
the agent as ``author``; ``actions`` on every event. NemoVideo's heartbeats come on top, in the
form ``ChatControls.heartbeat`` names. :class:`Turn` writes them and notices a client that left.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from nemovideo.testing._agent.agent import Step
from nemovideo.testing._chat.controls import ChatControls

__all__ = ["AGENT_NAME", "Gone", "Turn", "event", "frame"]

AGENT_NAME = "nemo_agent"
_HEARTBEATS = {
    "event": b"event: heartbeat\ndata: {}\n\n",
    "empty": b"data: \n\n",
    "comment": b": heartbeat\n\n",
    "none": b"",
}


def _actions(artifacts: dict[str, int] | None = None) -> dict[str, Any]:
    """ADK's ``EventActions`` as serialised: its dict fields are empty, never left out."""
    return {
        "stateDelta": {},
        "artifactDelta": dict(artifacts or {}),
        "requestedAuthConfigs": {},
        "requestedToolConfirmations": {},
    }


def event(
    text: str, *, invocation_id: str, event_id: str, partial: bool, complete: bool = False
) -> dict[str, Any]:
    """One ADK event holding ``text``; ``partial`` is left out (not false) on the final event.

    ``complete``: the turn's last event, which carries ``turnComplete: true``.
    """
    out: dict[str, Any] = {
        "content": {"role": "model", "parts": [{"text": text}]},
        "invocationId": invocation_id,
        "author": AGENT_NAME,
        "actions": _actions(),
        "id": event_id,
        "timestamp": time.time(),
    }
    if partial:
        out["partial"] = True
    elif complete:
        out["turnComplete"] = True
    return out


def frame(obj: Any) -> bytes:
    """One SSE frame: ``data: <one-line JSON>`` and a blank line, LF only."""
    return b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\n\n"


def _chunks(text: str, parts: int = 3) -> list[str]:
    words = text.split(" ")
    size = max(1, -(-len(words) // parts))
    pieces = [" ".join(words[i : i + size]) for i in range(0, len(words), size)]
    return [p + (" " if i < len(pieces) - 1 else "") for i, p in enumerate(pieces)]


class Gone(Exception):
    """The client left, or the connection was cut on purpose."""


class Turn:
    """Writes one answer; after ``Gone`` the caller still applies the remaining edits."""

    def __init__(self, resp: web.StreamResponse, request: web.Request, ctl: ChatControls) -> None:
        self.resp, self.request, self.ctl = resp, request, ctl
        self.invocation = f"e-{uuid.uuid4()}"
        self.frames = 0
        self.gone = False

    async def write(self, data: bytes, *, counts: bool = True) -> None:
        if self.gone or not data:
            return
        try:
            await self.resp.write(data)
        except (ConnectionError, RuntimeError) as exc:
            self.gone = True
            self.ctl.disconnects += 1
            raise Gone from exc
        if counts:
            self.frames += 1
            if self.ctl.drop_after is not None and self.frames >= self.ctl.drop_after:
                self.ctl.drop_after = None
                self.ctl.dropped += 1
                await asyncio.sleep(0.005)
                if self.request.transport is not None:
                    self.request.transport.abort()
                self.gone = True
                raise Gone

    async def pause(self) -> None:
        if not self.gone and self.ctl.delay > 0:
            await asyncio.sleep(self.ctl.delay)

    def obj(self, parts: list[dict[str, Any]] | None, role: str = "model") -> dict[str, Any]:
        """An ADK event of this invocation; ``parts=None``: an event without ``content``."""
        out: dict[str, Any] = {
            "invocationId": self.invocation,
            "author": AGENT_NAME,
            "actions": _actions(),
            "id": str(uuid.uuid4()),
            "timestamp": time.time(),
        }
        if parts is not None:
            out = {"content": {"role": role, "parts": parts}, **out}
        return out

    async def text(
        self,
        text: str,
        *,
        chunked: bool = True,
        last: bool = False,
        call: tuple[Step, str] | None = None,
    ) -> None:
        """Deltas, then the final event; ``call``: that event also holds this ``functionCall``."""
        if self.ctl.dialect == "simple":
            await self.write(frame({"type": "text", "content": text}))
            if call is not None:
                await self.call(*call)
            return
        event_id = str(uuid.uuid4())
        for piece in _chunks(text) if chunked and len(text) > 40 else [text]:
            await self.write(
                frame(event(piece, invocation_id=self.invocation, event_id=event_id, partial=True))
            )
            await self.pause()
        final = event(
            text,
            invocation_id=self.invocation,
            event_id=event_id,
            partial=False,
            complete=last and call is None,
        )
        if call is not None:
            step, call_id = call
            part = self._call_part(step.tool, step.args, call_id)
            await self._progressive(part, event_id)
            final["content"]["parts"].append(part)
            final["longRunningToolIds"] = [call_id]
        await self.write(frame(final))

    async def _progressive(self, part: dict[str, Any], event_id: str) -> None:
        """ADK 2.x with streaming on: the call first alone in a partial event, same ids."""
        if self.ctl.progressive:
            early = self.obj([part])
            early.update(id=event_id, partial=True)
            await self.write(frame(early))
            await self.pause()

    async def heartbeat(self) -> None:
        beat = b'data: {"type":"heartbeat"}\n\n' if self.ctl.dialect == "simple" else None
        await self.write(
            beat or _HEARTBEATS.get(self.ctl.heartbeat, _HEARTBEATS["event"]), counts=False
        )

    @staticmethod
    def _call_part(name: str, args: Mapping[str, Any], call_id: str) -> dict[str, Any]:
        return {"functionCall": {"id": call_id, "name": name, "args": dict(args)}}

    async def call(self, step: Step, call_id: str) -> None:
        if self.ctl.dialect == "simple":
            await self.write(
                frame({"type": "tool_call", "name": step.tool, "args": dict(step.args)})
            )
            return
        part = self._call_part(step.tool, step.args, call_id)
        obj = self.obj([part])
        await self._progressive(part, obj["id"])
        obj["longRunningToolIds"] = [call_id]
        await self.write(frame(obj))

    async def ask(self, intro: str, question: Mapping[str, Any], call_id: str) -> None:
        """End the turn on an ``ask_question`` call (long-running: no response follows)."""
        if self.ctl.dialect == "simple":
            await self.write(frame({"type": "text", "content": intro}))
            await self.write(frame({"type": "ask_question", "call_id": call_id, **question}))
            return
        part = self._call_part("ask_question", question, call_id)
        obj = self.obj([{"text": intro}, part])
        await self._progressive(part, obj["id"])
        obj.update(longRunningToolIds=[call_id], turnComplete=True)
        await self.write(frame(obj))

    async def result(
        self, step: Step, call_id: str, summary: str, artifact: tuple[str, int] | None = None
    ) -> None:
        """The ``functionResponse``; with ``artifact`` (name, version) ADK's API server sends it
        as two frames sharing one ``id``: the content, then the ``artifactDelta`` alone."""
        response = {"status": "success", "message": step.result, "draft_summary": summary}
        if self.ctl.dialect == "simple":
            await self.write(frame({"type": "tool_result", "name": step.tool, "result": response}))
            return
        part = {"functionResponse": {"id": call_id, "name": step.tool, "response": response}}
        obj = self.obj([part], role="user")
        obj["actions"]["stateDelta"] = {"draft_updated": True}
        await self.write(frame(obj))
        if artifact is not None:
            delta = {key: value for key, value in obj.items() if key != "content"}
            delta["actions"] = {**obj["actions"], "artifactDelta": dict([artifact])}
            await self.write(frame(delta))

    async def refusal(self, message: str) -> None:
        """The model declined: an ADK event with ``errorCode``/``errorMessage`` and no content."""
        if self.ctl.dialect == "simple":
            await self.write(frame({"type": "text", "content": message}))
            return
        obj = self.obj(None)
        obj.update(errorCode="SAFETY", errorMessage=message, turnComplete=True)
        await self.write(frame(obj))

    async def stream_error(self, message: str) -> None:
        """The last frame of a stream that failed after it started: ``{"error": ...}``.

        Unescaped (ADK 1.x) the message goes on the wire as is, quotes and newlines included;
        escaped (2.x) it is one JSON line, with ``error_details`` when set."""
        ctl = self.ctl
        if ctl.unescaped_error:
            await self.write(f'data: {{"error": "{message}"}}\n\n'.encode())
            return
        body: dict[str, Any] = {"error": message}
        if ctl.error_details is not None:
            body["error_details"] = ctl.error_details
        await self.write(frame(body))
