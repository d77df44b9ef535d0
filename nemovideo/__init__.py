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

from . import errors
from ._config import ClientConfig
from ._config_groups import ChatWaits, Limits, Polling, Retries, Timeouts
from ._version import __version__
from .client import Credits, NemoClient
from .draft import Draft, Segment, Track, TrackType
from .errors import *  # noqa: F403 (every error class; see __all__ below)
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

if TYPE_CHECKING:  # the same names as _LAZY, for type checkers (``X as X``: re-exported)
    from ._chat_events import ChatEvent as ChatEvent
    from ._chat_events import DraftUpdatedEvent as DraftUpdatedEvent
    from ._chat_events import ErrorEvent as ErrorEvent
    from ._chat_events import HeartbeatEvent as HeartbeatEvent
    from ._chat_events import RawEvent as RawEvent
    from ._chat_events import TextEvent as TextEvent
    from ._chat_events import ToolCallEvent as ToolCallEvent
    from ._chat_events import ToolResultEvent as ToolResultEvent
    from ._chat_question import Option as Option
    from ._chat_question import Question as Question
    from ._chat_question import QuestionEvent as QuestionEvent
    from ._chat_reply import ChatReply as ChatReply
    from ._render_status import RenderResult as RenderResult
    from ._render_status import RenderStatus as RenderStatus
    from .assistant import Assistant as Assistant
    from .assistant import AssistantReply as AssistantReply
    from .chat import ChatStream as ChatStream
    from .chat import send_message as send_message
    from .intents import GuiTranslation as GuiTranslation
    from .intents import Intent as Intent
    from .intents import route as route
    from .intents import translate_gui as translate_gui
    from .render import Renderer as Renderer
    from .render import RenderJob as RenderJob
    from .sync import SyncAssistant as SyncAssistant
    from .sync import SyncChatStream as SyncChatStream
    from .sync import SyncNemoClient as SyncNemoClient
    from .sync import SyncRenderer as SyncRenderer
    from .sync import SyncRenderJob as SyncRenderJob
    from .sync import SyncSession as SyncSession
    from .sync import SyncUploader as SyncUploader
    from .upload import UploadedMedia as UploadedMedia
    from .upload import Uploader as Uploader

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
]
# the errors: every class nemovideo.errors exports (its docstring draws the tree); its helpers
# (SUPPORTED_FORMATS, error_for, parse_retry_after) stay there
__all__ += [name for name in errors.__all__ if isinstance(getattr(errors, name), type)]
# loaded on first use (see _LAZY)
__all__ += _LAZY


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
