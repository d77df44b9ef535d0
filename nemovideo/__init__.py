"""nemovideo: the asyncio-first SDK for the NemoVideo cloud video API.

import nemovideo

async with nemovideo.NemoClient() as client:
    session = await client.create_session()
    print(await client.credits())
"""

from ._config import ClientConfig
from ._version import __version__
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
from .session import Session
from .state import SessionState

__all__ = [
    "APIError",
    "AuthenticationError",
    "ChatRecoveryError",
    "ClientClosedError",
    "ClientConfig",
    "Credits",
    "Draft",
    "ExportBlockedError",
    "FileTooLargeError",
    "InsecureURLError",
    "InsufficientCreditsError",
    "MissingClientIdError",
    "NemoClient",
    "NemoError",
    "NotFoundError",
    "RateLimitError",
    "RenderFailedError",
    "RenderTimeoutError",
    "Segment",
    "ServerError",
    "Session",
    "SessionNotFoundError",
    "SessionState",
    "StreamDecodeError",
    "StreamTimeoutError",
    "Track",
    "TrackType",
    "TransportError",
    "UnsupportedFileError",
    "ValidationError",
    "__version__",
]
