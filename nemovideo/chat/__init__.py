"""Chat over SSE: ``ChatStream`` (events as they arrive) and ``send_message`` (the whole reply).

One message is one ``POST /run_sse``, sent exactly once. The answer streams back as typed events::

    async with session.chat("add lo-fi BGM at 35%") as stream:
        async for event in stream:
            if isinstance(event, nemovideo.TextEvent) and not event.partial:
                print(event.text)
    print(stream.text)

    reply = await session.send("make it 10 seconds")     # drives a ChatStream to its end
    print(reply.text or "\\n".join(reply.changes))

Rules it keeps (docs/protocol.md, "Chat"):

- **Never re-sent.** If the connection drops after the request may have reached the server, the
  stream does not POST again (that would charge twice). It waits ``recovery_first_wait``, reads
  the session state, and if the draft changed it ends with a
  [`DraftUpdatedEvent`][nemovideo.chat.DraftUpdatedEvent]; if not it waits ``recovery_wait`` and
  looks again, up to ``recovery_max_polls`` times, then raises
  [`ChatRecoveryError`][nemovideo.errors.ChatRecoveryError]. To know what "changed" means, the
  draft is read once before the message is sent (an unknown session therefore fails before
  anything is charged).
- **Bounded.** ``stream_idle_timeout`` without content (heartbeats do not count) or
  ``stream_timeout`` overall raise [`StreamTimeoutError`][nemovideo.errors.StreamTimeoutError];
  SSE lines and events over ``sse_max_line_bytes`` / ``sse_max_event_bytes`` raise
  [`StreamDecodeError`][nemovideo.errors.StreamDecodeError].
- **Patient, audibly.** Every ``heartbeat_notice_interval`` without content, ``on_waiting(elapsed)``
  is called (sync or async; default: a "Still working..." log line).
- **Released.** ``async with``, ``aclose()``, or breaking out of the loop (once the stream is
  garbage) closes the connection; the server keeps working on the edit.
"""

from __future__ import annotations

from nemovideo.chat._events import (
    ChatEvent,
    DraftUpdatedEvent,
    ErrorEvent,
    HeartbeatEvent,
    RawEvent,
    TextEvent,
    ToolCallEvent,
    ToolResultEvent,
)
from nemovideo.chat._question import Option, Question, QuestionEvent
from nemovideo.chat._reply import ChatReply
from nemovideo.chat._send import send_message
from nemovideo.chat._stream import CHAT_PATH, WHOLE_EVENTS, ChatStream, KeepEvents, WaitingCallback

__all__ = [
    "CHAT_PATH",
    "WHOLE_EVENTS",
    "ChatEvent",
    "ChatReply",
    "ChatStream",
    "DraftUpdatedEvent",
    "ErrorEvent",
    "HeartbeatEvent",
    "KeepEvents",
    "Option",
    "Question",
    "QuestionEvent",
    "RawEvent",
    "TextEvent",
    "ToolCallEvent",
    "ToolResultEvent",
    "WaitingCallback",
    "send_message",
]
