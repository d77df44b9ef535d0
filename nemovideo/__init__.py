"""nemovideo: the asyncio-first SDK for the NemoVideo cloud video API.

This module is the map: every public name, grouped by job, with the module that owns it::

    import nemovideo

    async def main() -> None:
        async with nemovideo.NemoClient() as client:
            session = await client.create_session()
            print(await client.credits())

What a client needs first (the client, its config, the errors) is imported eagerly; the rest loads
on first use: sessions, their state and drafts once a session is made or read (each of their value
classes costs the import about a millisecond), chat, upload and export once a session exists, the
conversation layer (~200 routing patterns) when asked for. So ``import nemovideo`` costs little
beyond aiohttp itself (``benchmarks/bench_import.py``). ``from nemovideo import X`` and ``nemovideo.X`` work for
every name either way, and each public class reports ``nemovideo`` as its module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nemovideo import errors
from nemovideo._config.config import ClientConfig
from nemovideo._version import __version__
from nemovideo.client import Credits, NemoClient
from nemovideo.errors import *  # noqa: F403 (every error class; see __all__ below)

#: Loaded on first use: public name -> the module (under ``nemovideo``) that owns it.
_LAZY: dict[str, str] = {
    # the configuration's grouped views (``config.timeouts``...)
    **dict.fromkeys(("ChatWaits", "Limits", "Polling", "Retries", "Timeouts"), "_config.groups"),
    # one session and what it holds
    "Session": "session",
    **dict.fromkeys(("CanvasConfig", "GeneratedMedia", "MediaInfo", "SessionState"), "state"),
    **dict.fromkeys(("Draft", "Segment", "Track", "TrackType"), "draft._model"),
    # chat: one message, its streamed events, the whole reply, the agent's questions
    "ChatStream": "chat._stream",
    "send_message": "chat._send",
    "ChatReply": "chat._reply",
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
        "chat._events",
    ),
    **dict.fromkeys(("QuestionEvent", "Question", "Option"), "chat._question"),
    # upload and export
    **dict.fromkeys(("Uploader", "UploadedMedia"), "upload._uploader"),
    **dict.fromkeys(("Renderer", "RenderJob"), "render._renderer"),
    **dict.fromkeys(("RenderResult", "RenderStatus"), "render._status"),
    # batches: a manifest, a journal, exactly once
    **dict.fromkeys(("BatchJob", "BatchResult"), "batch"),
    # the skill's conversation layer
    **dict.fromkeys(("Assistant", "AssistantReply"), "assistant._assistant"),
    **dict.fromkeys(("Intent", "GuiTranslation", "route", "translate_gui"), "assistant._intents"),
    # the blocking client
    **dict.fromkeys(
        (
            "SyncNemoClient",
            "SyncSession",
            "SyncRenderJob",
            "SyncChatStream",
            "SyncRenderer",
            "SyncUploader",
        ),
        "sync._client",
    ),
    "SyncAssistant": "sync._assistant",
}

if TYPE_CHECKING:  # the same names as _LAZY, for type checkers (``X as X``: re-exported)
    from nemovideo._config.groups import ChatWaits as ChatWaits
    from nemovideo._config.groups import Limits as Limits
    from nemovideo._config.groups import Polling as Polling
    from nemovideo._config.groups import Retries as Retries
    from nemovideo._config.groups import Timeouts as Timeouts
    from nemovideo.assistant._assistant import Assistant as Assistant
    from nemovideo.assistant._assistant import AssistantReply as AssistantReply
    from nemovideo.assistant._intents import GuiTranslation as GuiTranslation
    from nemovideo.assistant._intents import Intent as Intent
    from nemovideo.assistant._intents import route as route
    from nemovideo.assistant._intents import translate_gui as translate_gui
    from nemovideo.batch import BatchJob as BatchJob
    from nemovideo.batch import BatchResult as BatchResult
    from nemovideo.chat import ChatStream as ChatStream
    from nemovideo.chat import send_message as send_message
    from nemovideo.chat._events import ChatEvent as ChatEvent
    from nemovideo.chat._events import DraftUpdatedEvent as DraftUpdatedEvent
    from nemovideo.chat._events import ErrorEvent as ErrorEvent
    from nemovideo.chat._events import HeartbeatEvent as HeartbeatEvent
    from nemovideo.chat._events import RawEvent as RawEvent
    from nemovideo.chat._events import TextEvent as TextEvent
    from nemovideo.chat._events import ToolCallEvent as ToolCallEvent
    from nemovideo.chat._events import ToolResultEvent as ToolResultEvent
    from nemovideo.chat._question import Option as Option
    from nemovideo.chat._question import Question as Question
    from nemovideo.chat._question import QuestionEvent as QuestionEvent
    from nemovideo.chat._reply import ChatReply as ChatReply
    from nemovideo.draft._model import Draft as Draft
    from nemovideo.draft._model import Segment as Segment
    from nemovideo.draft._model import Track as Track
    from nemovideo.draft._model import TrackType as TrackType
    from nemovideo.render._renderer import Renderer as Renderer
    from nemovideo.render._renderer import RenderJob as RenderJob
    from nemovideo.render._status import RenderResult as RenderResult
    from nemovideo.render._status import RenderStatus as RenderStatus
    from nemovideo.session import Session as Session
    from nemovideo.state import CanvasConfig as CanvasConfig
    from nemovideo.state import GeneratedMedia as GeneratedMedia
    from nemovideo.state import MediaInfo as MediaInfo
    from nemovideo.state import SessionState as SessionState
    from nemovideo.sync._assistant import SyncAssistant as SyncAssistant
    from nemovideo.sync._client import SyncChatStream as SyncChatStream
    from nemovideo.sync._client import SyncNemoClient as SyncNemoClient
    from nemovideo.sync._client import SyncRenderer as SyncRenderer
    from nemovideo.sync._client import SyncRenderJob as SyncRenderJob
    from nemovideo.sync._client import SyncSession as SyncSession
    from nemovideo.sync._client import SyncUploader as SyncUploader
    from nemovideo.upload._uploader import UploadedMedia as UploadedMedia
    from nemovideo.upload._uploader import Uploader as Uploader

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
    # one session and what it holds (loaded on first use, see _LAZY)
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
__all__ += [name for name in _LAZY if name not in __all__]


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
