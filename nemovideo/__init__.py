"""nemovideo: the asyncio-first SDK for the NemoVideo cloud video API.

This module is the map: every public name, grouped by job, with the module that owns it::

    import nemovideo

    async def main() -> None:
        async with nemovideo.NemoClient() as client:
            session = await client.create_session()
            print(await client.credits())

What a client needs first (the client, its config, sessions, drafts, state, the errors) is imported
eagerly; the rest loads on first use (the conversation layer compiles ~200 routing patterns, and
chat, upload and export are needed only once a session exists), so ``import nemovideo`` stays
cheap (``benchmarks/bench_import.py``). ``from nemovideo import X`` and ``nemovideo.X`` work for
every name either way, and each public class reports ``nemovideo`` as its module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._config import ClientConfig
from ._config_groups import ChatWaits, Limits, Polling, Retries, Timeouts
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
from .state import CanvasConfig, GeneratedMedia, MediaInfo, SessionState

#: Loaded on first use: public name -> the module (under ``nemovideo``) that owns it.
_LAZY: dict[str, str] = {
    # chat: one message, its streamed events, the whole reply, the agent's questions
    **dict.fromkeys(("ChatStream", "send_message"), "chat"),
    "ChatReply": "_chat_reply",
    **dict.fromkeys(
        (
            "ChatEvent",
            "TextEvent",
            "ToolCallEvent",
            "ToolResultEvent",
            "HeartbeatEvent",
            "ErrorEvent",
            "RawEvent",
            "DraftUpdatedEvent",
        ),
        "_chat_events",
    ),
    **dict.fromkeys(("QuestionEvent", "Question", "Option"), "_chat_question"),
    # upload and export
    **dict.fromkeys(("Uploader", "UploadedMedia"), "upload"),
    **dict.fromkeys(("Renderer", "RenderJob"), "render"),
    **dict.fromkeys(("RenderResult", "RenderStatus"), "_render_status"),
    # the skill's conversation layer
    **dict.fromkeys(("Assistant", "AssistantReply"), "assistant"),
    **dict.fromkeys(("Intent", "GuiTranslation", "route", "translate_gui"), "intents"),
    # the blocking client
    **dict.fromkeys(
        (
            "SyncNemoClient",
            "SyncSession",
            "SyncRenderJob",
            "SyncChatStream",
            "SyncRenderer",
            "SyncUploader",
            "SyncAssistant",
        ),
        "sync",
    ),
}

if TYPE_CHECKING:  # the same names as _LAZY, spelled out for type checkers
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
    from ._chat_reply import ChatReply
    from ._render_status import RenderResult, RenderStatus
    from .assistant import Assistant, AssistantReply
    from .chat import ChatStream, send_message
    from .intents import GuiTranslation, Intent, route, translate_gui
    from .render import Renderer, RenderJob
    from .sync import (
        SyncAssistant,
        SyncChatStream,
        SyncNemoClient,
        SyncRenderer,
        SyncRenderJob,
        SyncSession,
        SyncUploader,
    )
    from .upload import UploadedMedia, Uploader

__all__ = [  # noqa: RUF022 (grouped by job, like the imports)
    # the client and its settings
    "ChatWaits",
    "ClientConfig",
    "Credits",
    "Limits",
    "NemoClient",
    "Polling",
    "Retries",
    "Timeouts",
    "__version__",
    # one session and what it holds
    "CanvasConfig",
    "Draft",
    "GeneratedMedia",
    "MediaInfo",
    "Segment",
    "Session",
    "SessionState",
    "Track",
    "TrackType",
    # the errors (the tree is in nemovideo.errors)
    "APIError",
    "AgentError",
    "AuthenticationError",
    "ChatRecoveryError",
    "ClientClosedError",
    "DownloadError",
    "ExportBlockedError",
    "FileTooLargeError",
    "InsecureURLError",
    "InsufficientCreditsError",
    "MissingClientIdError",
    "NemoError",
    "NotFoundError",
    "RateLimitError",
    "RenderFailedError",
    "RenderTimeoutError",
    "ServerError",
    "SessionNotFoundError",
    "StreamDecodeError",
    "StreamTimeoutError",
    "TransportError",
    "UnsupportedFileError",
    "ValidationError",
    # loaded on first use (see _LAZY)
    "ChatStream",
    "send_message",
    "ChatReply",
    "ChatEvent",
    "TextEvent",
    "ToolCallEvent",
    "ToolResultEvent",
    "HeartbeatEvent",
    "ErrorEvent",
    "RawEvent",
    "DraftUpdatedEvent",
    "QuestionEvent",
    "Question",
    "Option",
    "Uploader",
    "UploadedMedia",
    "Renderer",
    "RenderJob",
    "RenderResult",
    "RenderStatus",
    "Assistant",
    "AssistantReply",
    "Intent",
    "GuiTranslation",
    "route",
    "translate_gui",
    "SyncNemoClient",
    "SyncSession",
    "SyncRenderJob",
    "SyncChatStream",
    "SyncRenderer",
    "SyncUploader",
    "SyncAssistant",
]


def _public(value: Any) -> Any:
    """Report ``nemovideo`` as the module of a public class, so reprs, tracebacks and pickles show
    the path users import (``nemovideo.APIError``, not ``nemovideo.errors.APIError``)."""
    if isinstance(value, type) and value.__module__.startswith("nemovideo."):
        value.__module__ = __name__
    return value


for _name in __all__:
    if _name in globals():
        _public(globals()[_name])


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nemovideo' has no attribute {name!r}")
    import importlib

    value = _public(getattr(importlib.import_module(f".{module}", __name__), name))
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
