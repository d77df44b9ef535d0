"""``POST /run_sse``: the chat stream, in Google ADK's wire form (PROTOCOL "Chat stream").

The scripted agent (:mod:`._agent`) plans the answer; this module puts it on the wire the way the
real backend does: text as partial deltas followed by the final event repeating the whole text,
an ``edit_multitrack`` ``functionCall``, heartbeats while the tool "works", the edit applied to the
session state, the ``functionResponse`` (``role: "user"``, the agent as author), closing words,
then the close (there is no done event). A text-only answer is just the delta and the final event.

Before the stream starts: a body without text is refused the way ADK does it (422
``{"detail": ...}``); an unknown session is 1002; an edit the user cannot pay for is 2001. Edits
cost ``edit_cost`` once per session, reserved as ``frozen`` while the edit runs. The message is
appended to the session's ``chat_log``. Once started, the edit completes server-side even when the
client goes away or the connection is cut, as the real service's does.

Timing and faults come from :func:`._agent.chat_controls` (``ChatControls``).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._agent import ChatControls, Plan, Step, chat_controls, plan_reply
from ._store import DEFAULT_MESSAGES, APIFailure, SessionRecord, User

if TYPE_CHECKING:
    from ._app import Emulator

__all__ = ["add_routes", "event", "frame"]

AGENT_NAME = "nemo_agent"
TEMPORARY_ISSUE = "I encountered a temporary issue. Please try again."
_HEARTBEATS = {
    "event": b"event: heartbeat\ndata: {}\n\n",
    "empty": b"data: \n\n",
    "comment": b": heartbeat\n\n",
}
_MAX_HEARTBEATS = 100_000


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


def _chunks(text: str, parts: int = 3) -> list[str]:
    words = text.split(" ")
    size = max(1, -(-len(words) // parts))
    pieces = [" ".join(words[i : i + size]) for i in range(0, len(words), size)]
    return [p + (" " if i < len(pieces) - 1 else "") for i, p in enumerate(pieces)]


class _Gone(Exception):
    """The client left, or the connection was cut on purpose."""


class _Turn:
    """Writes one answer; after ``_Gone`` the remaining edits still run, without output."""

    def __init__(self, resp: web.StreamResponse, request: web.Request, ctl: ChatControls) -> None:
        self.resp, self.request, self.ctl = resp, request, ctl
        self.invocation = f"e-{uuid.uuid4()}"
        self.frames = 0
        self.gone = False

    async def write(self, data: bytes, *, counts: bool = True) -> None:
        if self.gone:
            return
        try:
            await self.resp.write(data)
        except (ConnectionError, RuntimeError) as exc:
            self.gone = True
            self.ctl.disconnects += 1
            raise _Gone from exc
        if counts:
            self.frames += 1
            if self.ctl.drop_after is not None and self.frames >= self.ctl.drop_after:
                self.ctl.drop_after = None
                self.ctl.dropped += 1
                await asyncio.sleep(0.005)
                if self.request.transport is not None:
                    self.request.transport.abort()
                self.gone = True
                raise _Gone

    async def pause(self) -> None:
        if not self.gone and self.ctl.delay > 0:
            await asyncio.sleep(self.ctl.delay)

    def _obj(self, parts: list[dict[str, Any]], role: str = "model") -> dict[str, Any]:
        return {
            "content": {"role": role, "parts": parts},
            "invocationId": self.invocation,
            "author": AGENT_NAME,
            "id": str(uuid.uuid4()),
            "timestamp": time.time(),
        }

    async def text(self, text: str, *, chunked: bool = True) -> None:
        if self.ctl.dialect == "simple":
            await self.write(frame({"type": "text", "content": text}))
            return
        event_id = str(uuid.uuid4())
        for piece in _chunks(text) if chunked and len(text) > 40 else [text]:
            await self.write(frame(event(piece, invocation_id=self.invocation,
                                         event_id=event_id, partial=True)))  # fmt: skip
            await self.pause()
        await self.write(frame(event(text, invocation_id=self.invocation,
                                     event_id=event_id, partial=False)))  # fmt: skip

    async def heartbeat(self) -> None:
        beat = b'data: {"type":"heartbeat"}\n\n' if self.ctl.dialect == "simple" else None
        await self.write(beat or _HEARTBEATS.get(self.ctl.heartbeat, _HEARTBEATS["event"]),
                         counts=False)  # fmt: skip

    async def call(self, step: Step, call_id: str) -> None:
        if self.ctl.dialect == "simple":
            await self.write(frame({"type": "tool_call", "name": step.tool, "args": step.args}))
            return
        obj = self._obj([{"functionCall": {"id": call_id, "name": step.tool, "args": step.args}}])
        obj["longRunningToolIds"] = [call_id]
        await self.write(frame(obj))

    async def result(self, step: Step, call_id: str, summary: str) -> None:
        response = {"status": "success", "message": step.result, "draft_summary": summary}
        if self.ctl.dialect == "simple":
            await self.write(frame({"type": "tool_result", "name": step.tool, "result": response}))
            return
        part = {"functionResponse": {"id": call_id, "name": step.tool, "response": response}}
        obj = self._obj([part], role="user")
        obj["actions"] = {"stateDelta": {"draft_updated": True}, "artifactDelta": {}}
        await self.write(frame(obj))


def _summary(session: SessionRecord) -> str:
    from ..draft import Draft

    return Draft.from_json(session.state.get("draft")).summary()


def _stage_two(ctl: ChatControls, plan: Plan) -> list[Step]:
    """The steps the backend finishes after the stream closes: music and title after a new video."""
    steps = list(plan.steps)
    if not ctl.two_stage or len(steps) < 2 or steps[0].args.get("action") != "create_video":
        return []
    return steps[1:]


async def _finish_later(ctl: ChatControls, steps: list[Step], session: SessionRecord) -> None:
    await asyncio.sleep(ctl.stage_two_delay)
    for step in steps:
        step.edit(session.state)


async def _announce_stage_two(turn: _Turn, later: list[Step], session: SessionRecord) -> None:
    """The long-running call the stream closes on, and the background task that completes it."""
    call = Step(
        {"action": "stage_two", "steps": [dict(step.args) for step in later]},
        lambda state: None,
        "Music and title added",
    )
    task = asyncio.get_running_loop().create_task(_finish_later(turn.ctl, later, session))
    turn.ctl.background.add(task)
    task.add_done_callback(turn.ctl.background.discard)
    await turn.call(call, f"adk-{uuid.uuid4()}")
    if not turn.ctl.silent:
        await turn.text(
            "The video is in the timeline. Adding the music and title now; they will appear "
            "in a moment."
        )


async def _perform(turn: _Turn, plan: Plan, session: SessionRecord) -> None:
    """Say and do ``plan``; edits are applied even after the client is gone."""
    ctl = turn.ctl
    later = _stage_two(ctl, plan)
    steps = list(plan.steps[: len(plan.steps) - len(later)])
    try:
        if ctl.heartbeats_only:
            for _ in range(_MAX_HEARTBEATS):
                await turn.heartbeat()
                await turn.pause()
            return
        if plan.intro and not (ctl.silent and plan.edits):
            await turn.text(plan.intro, chunked=plan.edits)
        if ctl.stream_error is not None:
            message, ctl.stream_error = ctl.stream_error, None
            body = f'{{"error": "{message}"}}' if ctl.unescaped_error else None
            await turn.write(f"data: {body}\n\n".encode() if body else frame({"error": message}))
            steps.clear()
            later.clear()
            return
        while steps:
            step = steps[0]
            call_id = f"adk-{uuid.uuid4()}"
            await turn.call(step, call_id)
            for _ in range(ctl.work_steps):
                await turn.pause()
                await turn.heartbeat()
            step.edit(session.state)
            steps.pop(0)
            await turn.result(step, call_id, _summary(session))
            await turn.pause()
        if later:
            stage_two, later = later, []
            await _announce_stage_two(turn, stage_two, session)
            return
        if plan.outro and not ctl.silent:
            await turn.text(plan.outro)
        if ctl.trailing_issue:
            await turn.text(TEMPORARY_ISSUE)
    except _Gone:
        if steps and ctl.finish_delay > 0:
            await asyncio.sleep(ctl.finish_delay)
        for step in steps + later:
            step.edit(session.state)


def _charge(ctl: ChatControls, user: User, session: SessionRecord, plan: Plan) -> int:
    if not plan.edits or session.session_id in ctl.charged_sessions:
        return 0
    cost = ctl.edit_cost
    if user.credits_available < cost:
        raise APIFailure(2001, DEFAULT_MESSAGES[2001])
    ctl.charged_sessions.add(session.session_id)
    user.credits_available -= cost
    user.credits_frozen += cost
    return cost


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
        ctl = chat_controls(emu)
        plan = plan_reply(text, session.state)
        cost = _charge(ctl, user, session, plan)
        session.chat_log.append(message)
        ctl.streams += 1
        resp = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        turn = _Turn(resp, request, ctl)
        try:
            await resp.prepare(request)
            await _perform(turn, plan, session)
        finally:
            user.credits_frozen -= cost
        if not turn.gone:
            try:
                await resp.write_eof()
            except (ConnectionError, RuntimeError):
                ctl.disconnects += 1
        return resp

    app.router.add_post("/run_sse", run_sse)
