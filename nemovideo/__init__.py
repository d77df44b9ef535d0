"""nemovideo: the asyncio-first SDK for the NemoVideo cloud video API.

import nemovideo

async with nemovideo.NemoClient() as client:
    session = await client.create_session()
    print(await client.credits())
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._chat_events import (
    ChatEvent,
    DraftUpdatedEvent,
    ErrorEvent,
    HeartbeatEvent,
    RawEvent,
    TextEvent,
    ToolCallEvent,
    ToolResultEvent,
)
from ._config import ClientConfig
from ._version import __version__
from .chat import ChatReply, ChatStream, send_message
from .client import Credits, NemoClient
from .draft import Draft, Segment, Track, TrackType
from .errors import (
    APIError,
    AuthenticationError,
    ChatRecoveryError,
    ClientClosedError,
    ExportBlockedError,
    FileTooLargeError,
    InsecureURLError,
    InsufficientCreditsError,
    MissingClientIdError,
    NemoError,
    NotFoundError,
    RateLimitError,
    RenderFailedError,
    RenderTimeoutError,
    ServerError,
    SessionNotFoundError,
    StreamDecodeError,
    StreamTimeoutError,
    TransportError,
    UnsupportedFileError,
    ValidationError,
)
from .render import Renderer, RenderJob, RenderResult, RenderStatus
from .session import Session
from .state import SessionState

__all__ = [
    "APIError",
    "Assistant",
    "AssistantReply",
    "AuthenticationError",
    "ChatEvent",
    "ChatRecoveryError",
    "ChatReply",
    "ChatStream",
    "ClientClosedError",
    "ClientConfig",
    "Credits",
    "Draft",
    "DraftUpdatedEvent",
    "ErrorEvent",
    "ExportBlockedError",
    "FileTooLargeError",
    "GuiTranslation",
    "HeartbeatEvent",
    "InsecureURLError",
    "InsufficientCreditsError",
    "Intent",
    "MissingClientIdError",
    "NemoClient",
    "NemoError",
    "NotFoundError",
    "RateLimitError",
    "RawEvent",
    "RenderFailedError",
    "RenderJob",
    "RenderResult",
    "RenderStatus",
    "RenderTimeoutError",
    "Renderer",
    "Segment",
    "ServerError",
    "Session",
    "SessionNotFoundError",
    "SessionState",
    "StreamDecodeError",
    "StreamTimeoutError",
    "TextEvent",
    "ToolCallEvent",
    "ToolResultEvent",
    "Track",
    "TrackType",
    "TransportError",
    "UnsupportedFileError",
    "ValidationError",
    "__version__",
    "route",
    "send_message",
    "translate_gui",
]

if TYPE_CHECKING:
    from .assistant import Assistant, AssistantReply
    from .intents import GuiTranslation, Intent, route, translate_gui

# The conversation layer compiles ~200 routing patterns; load it on first use so that
# `import nemovideo` stays cheap for apps that only call the API (benchmarks/bench_import.py).
_LAZY = {
    "Assistant": "assistant",
    "AssistantReply": "assistant",
    "GuiTranslation": "intents",
    "Intent": "intents",
    "route": "intents",
    "translate_gui": "intents",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nemovideo' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
