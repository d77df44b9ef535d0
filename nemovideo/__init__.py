"""nemovideo: the asyncio-first SDK for the NemoVideo cloud video API.

import nemovideo

async with nemovideo.NemoClient() as client:
    session = await client.create_session()
    print(await client.credits())
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._config import ClientConfig
from ._version import __version__
from .client import Credits, NemoClient
from .draft import Draft, Segment, Track, TrackType
from .errors import (
    AgentError,
    APIError,
    AuthenticationError,
    ChatRecoveryError,
    ClientClosedError,
    DownloadError,
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
from .session import Session
from .state import SessionState

__all__ = [
    "APIError",
    "AgentError",
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
    "DownloadError",
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
    "Option",
    "Question",
    "QuestionEvent",
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
    "SyncAssistant",
    "SyncChatStream",
    "SyncNemoClient",
    "SyncRenderJob",
    "SyncRenderer",
    "SyncSession",
    "SyncUploader",
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
    from ._chat_question import Option, Question, QuestionEvent
    from .assistant import Assistant, AssistantReply
    from .chat import ChatReply, ChatStream, send_message
    from .intents import GuiTranslation, Intent, route, translate_gui
    from .render import Renderer, RenderJob, RenderResult, RenderStatus
    from .sync import (
        SyncAssistant,
        SyncChatStream,
        SyncNemoClient,
        SyncRenderer,
        SyncRenderJob,
        SyncSession,
        SyncUploader,
    )

# What a client needs (NemoClient, Session, Draft, the errors) is imported eagerly. The rest loads
# on first use: the conversation layer compiles ~200 routing patterns, and chat streaming and
# export are needed only once a session exists (session.chat() and session.export() import them),
# so `import nemovideo` stays cheap (benchmarks/bench_import.py). `from nemovideo import X` and
# `nemovideo.X` work for every name either way.
_LAZY = {
    "Assistant": "assistant",
    "AssistantReply": "assistant",
    "ChatEvent": "_chat_events",
    "ChatReply": "chat",
    "ChatStream": "chat",
    "DraftUpdatedEvent": "_chat_events",
    "ErrorEvent": "_chat_events",
    "GuiTranslation": "intents",
    "HeartbeatEvent": "_chat_events",
    "Intent": "intents",
    "Option": "_chat_question",
    "Question": "_chat_question",
    "QuestionEvent": "_chat_question",
    "RawEvent": "_chat_events",
    "RenderJob": "render",
    "RenderResult": "render",
    "RenderStatus": "render",
    "Renderer": "render",
    "SyncAssistant": "sync",
    "SyncChatStream": "sync",
    "SyncNemoClient": "sync",
    "SyncRenderJob": "sync",
    "SyncRenderer": "sync",
    "SyncSession": "sync",
    "SyncUploader": "sync",
    "TextEvent": "_chat_events",
    "ToolCallEvent": "_chat_events",
    "ToolResultEvent": "_chat_events",
    "route": "intents",
    "send_message": "chat",
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


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
