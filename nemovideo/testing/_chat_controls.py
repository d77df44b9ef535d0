"""``ChatControls``: how the emulator's ``/run_sse`` behaves (``emu.chat``), changeable mid-test.

Every form PROTOCOL "Chat stream" lists can be produced on purpose, so a client can be tested
against each::

    emu.chat.heartbeat = "none"          # ADK's own silence while a tool runs (no bytes at all)
    emu.chat.text_with_call = True       # one event holds the intro text *and* the functionCall
    emu.chat.artifacts = True            # a saved artifact: two frames with the same event id
    emu.chat.refusal = "Blocked"         # the model refuses: an event with errorCode/errorMessage
    emu.chat.unknown_session = "detail"  # unknown session: ADK's 404 {"detail"} instead of 1002
    emu.chat.hold()                      # tools keep running (credits frozen) until release()
"""

from __future__ import annotations

import asyncio
import weakref
from typing import TYPE_CHECKING

import attrs

from ._hold import Hold

if TYPE_CHECKING:
    from ._app import Emulator

__all__ = ["HEARTBEATS", "ChatControls", "chat_controls"]

HEARTBEATS = ("event", "empty", "comment", "none")


@attrs.define
class ChatControls(Hold):
    """How the emulator's ``/run_sse`` behaves; change the fields at any time.

    ``delay`` is the pause between frames and ``work_steps`` the heartbeats sent while a tool
    "runs" (tests use milliseconds). ``heartbeat`` is ``"event"`` (``event: heartbeat``),
    ``"empty"`` (an empty ``data:``), ``"comment"``, or ``"none"`` (a plain ADK server: nothing
    at all while a tool runs); ``dialect`` ``"adk"`` or ``"simple"``.
    One-shot faults reset themselves after firing: ``drop_after`` (cut the connection after that
    many frames; the edit still completes server-side, ``finish_delay`` later), ``stream_error``
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

    Credits: an edit costs ``edit_cost`` once per session; generating a clip
    (``generate_video_with_seedance``) costs ``generation_cost`` per clip, every time. Both are
    ``frozen`` while the stream runs; ``hold()`` keeps tools running until ``release()``, to look
    at that state mid-edit. ``two_stage`` makes generation with music or a title run in
    two stages, as the real backend's can: the video in the stream, then the music and title as a
    long-running tool call that the stream closes on, applied ``stage_two_delay`` seconds later.
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
    stream_error: str | None = None
    unescaped_error: bool = False
    error_details: str | None = None
    refusal: str | None = None
    text_with_call: bool = False
    artifacts: bool = False
    unknown_session: str = "envelope"
    edit_cost: int = 50
    generation_cost: int = 100
    two_stage: bool = False
    stage_two_delay: float = 0.05
    streams: int = 0
    dropped: int = 0
    disconnects: int = 0
    charged_sessions: set[str] = attrs.Factory(set)
    artifact_versions: dict[str, int] = attrs.Factory(dict)
    background: set[asyncio.Task[None]] = attrs.Factory(set)

    def hold(self) -> None:
        """Keep tools "running" (the stream open, credits frozen) until :meth:`release`."""
        super().hold()


_CONTROLS: weakref.WeakKeyDictionary[Emulator, ChatControls] = weakref.WeakKeyDictionary()


def chat_controls(emu: Emulator) -> ChatControls:
    """The chat controls of ``emu`` (``emu.chat`` when the emulator has that attribute)."""
    own = getattr(emu, "chat", None)
    if isinstance(own, ChatControls):
        return own
    return _CONTROLS.setdefault(emu, ChatControls())
