"""``POST /run_sse``: the chat stream, in Google ADK's wire form (docs/protocol.md, "Chat").

The scripted agent (:mod:`._agent`) plans the answer; :mod:`._chat_wire` puts it on the wire the way
the real backend does: text as partial deltas followed by the final event repeating the whole text,
an ``edit_multitrack`` (or ``generate_video_with_seedance``) ``functionCall``, heartbeats while the
tool "works", the edit applied to the session state, the ``functionResponse`` (``role: "user"``,
the agent as author), closing words with ``turnComplete``, then the close (there is no done event).

Before the stream starts, failures are plain HTTP errors the way ADK answers them: a body missing
``app_name``, ``user_id``, ``session_id`` or ``new_message`` (ADK also takes the camelCase
spellings), or a message without text, is 422 ``{"detail": ...}``; another app or user than
``nemo_agent``/``me`` is 404 ``{"detail": "Session not found"}``. NemoVideo's own layer answers in
its envelope: a bad token 1001, an unknown session 1002 (or ADK's 404, ``unknown_session``), work
the user cannot pay for 2001. Editing costs ``edit_cost`` once per session, generating
``generation_cost`` a clip, reserved as ``frozen`` while the stream runs. The message is appended
to the session's ``chat_log``. Once started, the edit completes server-side even when the client
goes away or the connection is cut, as the real service's does.

Timing and faults come from the emulator's ``emu.chat`` (:class:`ChatControls`).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Any

from aiohttp import web

from nemovideo._http import endpoints as api
from nemovideo.testing._agent.agent import EDIT_TOOL, Plan, Step, plan_reply
from nemovideo.testing._agent.questions import plan_answer
from nemovideo.testing._chat.controls import ChatControls
from nemovideo.testing._chat.upstream import forward
from nemovideo.testing._chat.wire import AGENT_NAME, Gone, Turn
from nemovideo.testing._server.keys import EMULATOR
from nemovideo.testing._server.store import DEFAULT_MESSAGES, APIFailure, SessionRecord, User

if TYPE_CHECKING:
    from nemovideo.testing._server.app import Emulator

__all__ = ["add_routes"]

TEMPORARY_ISSUE = "I encountered a temporary issue. Please try again."
_MAX_HEARTBEATS = 100_000
_FIELDS = (
    ("app_name", "appName"),
    ("user_id", "userId"),
    ("session_id", "sessionId"),
    ("new_message", "newMessage"),
)


class _Refused(Exception):
    """A pre-stream failure answered ADK's way: an HTTP status and ``{"detail": ...}``."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


def _message_text(message: Any) -> str | None:
    if not isinstance(message, dict) or not isinstance(message.get("parts"), list):
        return None
    texts = [
        p["text"]
        for p in message["parts"]
        if isinstance(p, dict) and isinstance(p.get("text"), str)
    ]
    return "".join(texts) if texts else None


def _request(body: dict[str, Any]) -> dict[str, Any]:
    """The four ``RunAgentRequest`` fields by their snake_case names; 422/404 as ADK answers."""
    fields: dict[str, Any] = {}
    missing = []
    for name, alias in _FIELDS:
        value = body.get(name, body.get(alias))
        if value is None:
            missing.append(name)
        fields[name] = value
    if missing:
        raise _Refused(422, f"Field required: {', '.join(missing)}")
    if fields["app_name"] != AGENT_NAME or fields["user_id"] != "me":
        raise _Refused(404, "Session not found")
    return fields


def _summary(session: SessionRecord) -> str:
    from nemovideo.draft._model import Draft

    return Draft.from_json(session.state.get("draft")).summary()


def _stage_two(ctl: ChatControls, plan: Plan) -> list[Step]:
    """The steps the backend finishes after the stream closes: music and title after a new video."""
    steps = list(plan.steps)
    new_video = bool(steps) and (
        steps[0].tool != EDIT_TOOL or steps[0].args.get("action") == "create_video"
    )
    if not ctl.two_stage or not new_video:
        return []
    later = ("add_bgm", "add_title")
    at = next((i for i, s in enumerate(steps) if s.args.get("action") in later), len(steps))
    return steps[at:]


async def _finish_later(delay: float, steps: list[Step], session: SessionRecord) -> None:
    await asyncio.sleep(delay)
    for step in steps:
        step.edit(session.state)


async def _announce_stage_two(turn: Turn, later: list[Step], session: SessionRecord) -> None:
    """The long-running call the stream closes on, and the background task that completes it."""
    call = Step(
        {"action": "stage_two", "steps": [dict(step.args) for step in later]},
        lambda state: None,
        "Music and title added",
    )
    delay = turn.ctl.stage_two_delay
    if delay is None:
        session.later += [(turn.ctl.stage_two_reads, step.edit) for step in later]
    else:
        task = asyncio.get_running_loop().create_task(_finish_later(delay, later, session))
        turn.ctl.background.add(task)
        task.add_done_callback(turn.ctl.background.discard)
    await turn.call(call, f"adk-{uuid.uuid4()}")
    if not turn.ctl.silent:
        await turn.text(
            "The video is in the timeline. Adding the music and title now; they will appear "
            "in a moment.",
            last=True,
        )


def _artifact(ctl: ChatControls, session: SessionRecord) -> tuple[str, int] | None:
    """With ``ctl.artifacts``: the next version of the session's ``draft.json`` (from 0)."""
    if not ctl.artifacts:
        return None
    version = ctl.artifact_versions.get(session.session_id, -1) + 1
    ctl.artifact_versions[session.session_id] = version
    return "draft.json", version


async def _perform(turn: Turn, plan: Plan, session: SessionRecord) -> None:
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
        if plan.question is not None:
            await turn.ask(plan.intro, plan.question, f"adk-{uuid.uuid4()}")
            return
        first_call = None
        if plan.intro and not (ctl.silent and plan.edits):
            if ctl.text_with_call and steps and ctl.stream_error is None:
                first_call = (steps[0], f"adk-{uuid.uuid4()}")
            await turn.text(plan.intro, chunked=plan.edits, last=not plan.edits, call=first_call)
        if ctl.stream_error is not None:
            message, ctl.stream_error = ctl.stream_error, None
            await turn.stream_error(message)
            steps.clear()
            later.clear()
            return
        while steps:
            step = steps[0]
            if first_call is not None:
                call_id, first_call = first_call[1], None
            else:
                call_id = f"adk-{uuid.uuid4()}"
                await turn.call(step, call_id)
            for _ in range(ctl.work_steps):
                await turn.pause()
                await turn.heartbeat()
            await ctl.wait_released()
            step.edit(session.state)
            steps.pop(0)
            await turn.result(step, call_id, _summary(session), _artifact(ctl, session))
            await turn.pause()
        if later:
            stage_two, later = later, []
            await _announce_stage_two(turn, stage_two, session)
            return
        if plan.edits and plan.outro and not ctl.silent:
            await turn.text(plan.outro, last=not ctl.trailing_issue)
        if ctl.trailing_issue:
            await turn.text(TEMPORARY_ISSUE, last=True)
    except Gone:
        if steps and ctl.finish_reads > 0:
            session.later += [(ctl.finish_reads, step.edit) for step in steps + later]
            return
        if steps and ctl.finish_delay > 0:
            await asyncio.sleep(ctl.finish_delay)
        for step in steps + later:
            step.edit(session.state)


_MORE_CREDITS = (
    "this emulator gives each new user 100 credits; start it with more: "
    "nemovideo emulator --credits 1000, Emulator(initial_credits=1000), or "
    "emu.set_credits(None, 1000)"
)


def _charge(ctl: ChatControls, user: User, session: SessionRecord, plan: Plan) -> int:
    """Reserve what ``plan`` costs (``frozen``): editing once per session, generation per clip."""
    editing = any(step.tool == EDIT_TOOL for step in plan.steps)
    edit_cost = ctl.edit_cost if editing and session.session_id not in ctl.charged_sessions else 0
    cost = edit_cost + ctl.generation_cost * plan.clips
    if not cost:
        return 0
    if user.credits_available < cost:
        raise APIFailure(2001, f"{DEFAULT_MESSAGES[2001]}: {_MORE_CREDITS}")
    if edit_cost:
        ctl.charged_sessions.add(session.session_id)
    user.credits_available -= cost
    user.credits_frozen += cost
    return cost


def _prestream(kind: str, body: dict[str, Any]) -> web.StreamResponse:
    """ADK's own pre-stream failures (docs/protocol.md, "Chat"), byte for byte in 2.x's form."""
    if kind == "404":
        sid = body.get("session_id", body.get("sessionId"))
        return web.json_response({"detail": f"Session not found: {sid}"}, status=404)
    if kind == "422":
        detail = [
            {"type": "missing", "loc": ["body", field], "msg": "Field required", "input": body}
            for field in ("userId", "newMessage")
        ]
        return web.json_response({"detail": detail}, status=422)
    if kind == "500":
        return web.Response(text="Internal Server Error", status=500)
    page = "<!doctype html><html><head><title>Sign in</title></head><body>Sign in</body></html>"
    return web.Response(text=page, content_type="text/html")


async def _replay(
    request: web.Request, answer: bytes | tuple[int, str, bytes]
) -> web.StreamResponse:
    status, content_type, data = (
        (200, "text/event-stream; charset=utf-8", answer) if isinstance(answer, bytes) else answer
    )
    resp = web.StreamResponse(status=status, headers={"Content-Type": content_type})
    await resp.prepare(request)
    await resp.write(data)
    await resp.write_eof()
    return resp


def _plan(ctl: ChatControls, text: str, session: SessionRecord) -> Plan:
    """The agent's plan: the answer to an open question, a forced question, or a fresh plan."""
    asked = ctl.asked.pop(session.session_id, None)
    plan = plan_answer(text, asked, session.state, plan_reply) if asked is not None else None
    forced, ctl.question = ctl.question, None
    if forced is not None:
        plan = Plan("I have a question before I start.", question=forced)
    plan = plan or plan_reply(text, session.state)
    if plan.question is not None:
        ctl.asked[session.session_id] = plan.question
    return plan


def add_routes(app: web.Application, emu: Emulator) -> None:
    async def run_sse(request: web.Request) -> web.StreamResponse:
        user = emu.authenticate(request)
        ctl = emu.chat
        body = await emu.json_body(request)
        if ctl.prestream is not None:
            kind, ctl.prestream = ctl.prestream, None
            return _prestream(kind, body)
        try:
            fields = _request(body)
            sid = fields["session_id"]
            known = emu.store.sessions.get(sid) if isinstance(sid, str) else None
            if ctl.unknown_session == "detail" and (known is None or known.user_id != user.user_id):
                raise _Refused(404, "Session not found")
            session = emu.store.session_for(user, sid)
            message = fields["new_message"]
            text = _message_text(message)
            if text is None or not text.strip():
                raise _Refused(422, "new_message must hold at least one text part")
        except _Refused as refused:
            return web.json_response({"detail": refused.detail}, status=refused.status)
        assert isinstance(message, dict)
        if ctl.upstream is not None:
            session.chat_log.append(message)
            ctl.streams += 1
            return await forward(request, ctl, await request.read(), body)
        if ctl.replay is not None:
            data, ctl.replay = ctl.replay, None
            ctl.streams += 1
            return await _replay(request, data)
        refusal, ctl.refusal = ctl.refusal, None
        plan = Plan("") if refusal is not None else _plan(ctl, text, session)
        try:
            cost = _charge(ctl, user, session, plan)
        except APIFailure as failure:
            url = request.app[EMULATOR].store.registration_url(user)
            if failure.code == 2001 and url:
                failure.data = {**(failure.data or {}), "registration_url": url}
            raise
        session.chat_log.append(message)
        ctl.streams += 1
        resp = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        turn = Turn(resp, request, ctl)
        try:
            await resp.prepare(request)
            if refusal is not None:
                await turn.refusal(refusal)
            else:
                await _perform(turn, plan, session)
        except Gone:
            pass
        finally:
            user.credits_frozen -= cost
        if not turn.gone:
            try:
                await resp.write_eof()
            except (ConnectionError, RuntimeError):
                ctl.disconnects += 1
        return resp

    app.router.add_route(api.CHAT.method, api.CHAT.path, run_sse)
