"""The configuration seen one concern at a time: ``config.timeouts``, ``.retries``, ``.polling``,
``.chat`` and ``.limits``, small frozen values in the manner of httpx's ``Timeout`` and ``Limits``.

The flat options stay the one source (``NemoClient(request_timeout=5)`` keeps working); a group is
a read-only view of them, handy for printing and for passing a policy around::

    >>> from nemovideo import ClientConfig
    >>> ClientConfig(base_url="http://127.0.0.1:1", max_retries=0).retries
    Retries(max_retries=0, backoff=0.5, backoff_max=8.0, rate_limit_wait=30.0)
"""

from __future__ import annotations

import attrs

__all__ = ["ChatWaits", "Limits", "Polling", "Retries", "Timeouts"]


@attrs.frozen
class Timeouts:
    """Seconds: ``request`` (one call), ``connect``, ``download`` (whole, or ``None``),
    ``render`` (``job.wait()``), ``stream_idle`` and ``stream`` (a chat answer)."""

    request: float
    connect: float
    download: float | None
    render: float
    stream_idle: float
    stream: float


@attrs.frozen
class Retries:
    """How failed requests are tried again (see ``docs/retries.md``)."""

    max_retries: int
    backoff: float
    backoff_max: float
    rate_limit_wait: float


@attrs.frozen
class Polling:
    """Render polls: ``initial`` s apart, growing x ``backoff`` up to ``interval``; at most
    ``max_polls`` (a safety cap; ``Timeouts.render`` is the real bound)."""

    initial: float
    backoff: float
    interval: float
    max_polls: int


@attrs.frozen
class ChatWaits:
    """Chat waits: "still working" notices, dropped-stream recovery, the settle re-read."""

    heartbeat_notice_interval: float
    recovery_first_wait: float
    recovery_wait: float
    recovery_max_polls: int
    settle_wait: float


@attrs.frozen
class Limits:
    """Size caps, in bytes, upload concurrency, and the connection pool's limits (0: none)."""

    max_upload_bytes: int
    upload_concurrency: int
    sse_max_line_bytes: int
    sse_max_event_bytes: int
    max_response_bytes: int
    max_connections: int = 0
    max_connections_per_host: int = 0
