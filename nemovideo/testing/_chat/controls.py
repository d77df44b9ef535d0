"""``ChatControls``: how the emulator's ``/run_sse`` behaves (``emu.chat``), changeable mid-test.

Every form docs/protocol.md, "Chat" lists can be produced on purpose, so a client can be tested
against each::

    emu.chat.heartbeat = "none"          # ADK's own silence while a tool runs (no bytes at all)
    emu.chat.text_with_call = True       # one event holds the intro text *and* the functionCall
    emu.chat.artifacts = True            # a saved artifact: two frames with the same event id
    emu.chat.refusal = "Blocked"         # the model refuses: an event with errorCode/errorMessage
    emu.chat.unknown_session = "detail"  # unknown session: ADK's 404 {"detail"} instead of 1002
    emu.chat.progressive = True          # ADK 2.x streaming: each call partial, then final
    emu.chat.stream_error = "boom"       # the next answer ends on a terminal {"error"} frame
    emu.chat.question = {...}            # the next answer asks (ask_question) with these args
    emu.chat.prestream = "422"           # the next /run_sse fails before the stream: 404/422/500/html
    emu.chat.upstream = adk_url          # forward /run_sse to a real `adk api_server`
    emu.chat.hold()                      # tools keep running (credits frozen) until release()
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from nemovideo.testing._server.hold import Hold

if TYPE_CHECKING:
    pass

__all__ = ["HEARTBEATS", "PRESTREAM", "ChatControls"]

HEARTBEATS = ("event", "empty", "comment", "none")
PRESTREAM = ("404", "422", "500", "html")


@attrs.define
class ChatControls(Hold):
    """How the emulator's ``/run_sse`` behaves; change the fields at any time.

    ``delay`` is the pause between frames and ``work_steps`` the heartbeats sent while a tool
    "runs" (tests use milliseconds). ``heartbeat`` is ``"event"`` (``event: heartbeat``),
    ``"empty"`` (an empty ``data:``), ``"comment"``, or ``"none"`` (a plain ADK server: nothing
    at all while a tool runs); ``dialect`` ``"adk"`` or ``"simple"``.
    One-shot faults reset themselves after firing: ``drop_after`` (cut the connection after that
    many frames; the edit still completes server-side, at the session's ``finish_reads``-th
    state read from the drop when that is set, else ``finish_delay`` seconds later), ``stream_error``
    (end with an ADK ``{"error": ...}`` frame instead of the edit; unescaped when
    ``unescaped_error``, with ``error_details`` beside it when that is set, as newer versions do)
    and ``refusal`` (the model refuses: one event with ``errorCode`` and ``errorMessage`` and no
    content, nothing edited or charged). ``silent`` answers edits with no text;
    ``heartbeats_only`` sends heartbeats until the client leaves; ``trailing_issue`` appends
    "I encountered a temporary issue". Counters: ``streams``, ``dropped``, ``disconnects``.

    ADK wire details: ``text_with_call`` puts the intro's final text and the first
    ``functionCall`` in one event; ``artifacts`` makes each edit save a ``draft.json`` artifact,
    sent as ADK's API server does: the event twice under one ``id``, first its content, then a
    content-less frame with ``actions.artifactDelta``. ``unknown_session`` answers a ``/run_sse``
    for an unknown session as NemoVideo's envelope (``"envelope"``: code 1002) or as ADK's
    ``404 {"detail": "Session not found"}`` (``"detail"``).

    ADK 2.x streaming: ``progressive`` sends each ``functionCall`` first in a ``partial: true``
    event, then again in the final event (same call id and event id), as ADK 2.x does with
    streaming on. ``stream_error`` takes a multi-line message too: unescaped, it spreads over
    several lines (blank ones included) as ADK 1.x writes it.

    Questions: an ambiguous request ("make a video" with nothing uploaded, "change the music"
    with two audio tracks) ends the turn on an ``ask_question`` call; ``question`` (one-shot)
    makes the next answer ask with those args whatever the message. The next message answers it
    (``"1. <prompt>: <label>"`` lines or ``"Skipped"``); ``asked`` holds the open question of
    each session.

    Pre-stream failures, one-shot: ``prestream`` ``"404"`` (``{"detail": "Session not found:
    <sid>"}``), ``"422"`` (``detail`` a list of ``{type, loc, msg, input}``), ``"500"``
    (``text/plain`` "Internal Server Error", an agent that fails to load) or ``"html"`` (HTTP
    200 with an HTML page); ``replay`` answers the next message with exactly those bytes (a
    capture): ``bytes`` as an event stream, or ``(status, content_type, body)``.

    A real ADK peer: with ``upstream`` (an ``adk api_server`` base URL) the emulator still
    authenticates, checks the session and logs the message, then creates the ADK session once
    (``POST /apps/{app}/users/{user}/sessions/{sid}``), forwards the request body unchanged (but
    for ``app_name`` -> ``upstream_app``, ``streaming`` when ``upstream_streaming`` is not None,
    and ``upstream_body``, a function that may rewrite the body) and streams ADK's status,
    content type and bytes back unchanged. ``upstream_posts`` counts the forwarded POSTs;
    ``upstream_answers`` keeps each answer's ``(status, content_type, body)``.

    Credits: an edit costs ``edit_cost`` once per session; generating a clip
    (``generate_video_with_seedance``) costs ``generation_cost`` per clip, every time. Both are
    ``frozen`` while the stream runs; ``hold()`` keeps tools running until ``release()``, to look
    at that state mid-edit. ``two_stage`` makes generation with music or a title run in
    two stages, as the real backend's can: the video in the stream, then the music and title as a
    long-running tool call that the stream closes on, applied at the session's
    ``stage_two_reads``-th state read after the stream closed (an event, not a clock: the client's
    first read after the stream still sees stage one), or ``stage_two_delay`` seconds later when
    that is set.
    """

    delay: float = 0.01
    work_steps: int = 2
    heartbeat: str = "event"
    dialect: str = "adk"
    silent: bool = False
    heartbeats_only: bool = False
    trailing_issue: bool = False
    drop_after: int | None = None
    finish_delay: float = 0.0
    finish_reads: int = 0
    stream_error: str | None = None
    unescaped_error: bool = False
    error_details: Any = None
    refusal: str | None = None
    text_with_call: bool = False
    artifacts: bool = False
    unknown_session: str = "envelope"
    edit_cost: int = 50
    generation_cost: int = 100
    two_stage: bool = False
    stage_two_reads: int = 2
    stage_two_delay: float | None = None
    progressive: bool = False
    question: Mapping[str, Any] | None = None
    prestream: str | None = None
    replay: bytes | tuple[int, str, bytes] | None = None
    upstream: str | None = None
    upstream_app: str | None = None
    upstream_streaming: bool | None = None
    upstream_body: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    upstream_posts: int = 0
    upstream_answers: list[tuple[int, str, bytes]] = attrs.Factory(list)
    upstream_sessions: set[tuple[str, str, str]] = attrs.Factory(set)
    asked: dict[str, Mapping[str, Any]] = attrs.Factory(dict)
    streams: int = 0
    dropped: int = 0
    disconnects: int = 0
    charged_sessions: set[str] = attrs.Factory(set)
    artifact_versions: dict[str, int] = attrs.Factory(dict)
    background: set[asyncio.Task[None]] = attrs.Factory(set)

    def hold(self) -> None:
        """Keep tools "running" (the stream open, credits frozen) until :meth:`release`."""
        super().hold()
