"""The keyword options of ``NemoClient(...)``, typed, so a type checker catches a misspelt one."""

from __future__ import annotations

import os
from typing import TypedDict

__all__ = ["ConfigOptions"]


class ConfigOptions(TypedDict, total=False):
    """The keyword options of ``NemoClient(...)``, ``with_options(...)`` and ``from_env(...)``.

    One key per :class:`ClientConfig` field (a test keeps the two equal), so a type checker
    catches ``NemoClient(request_timout=5)``.
    """

    base_url: str
    web_url: str
    token: str | None
    client_id: str | None
    config_dir: str | os.PathLike[str]
    skill_name: str
    skill_version: str
    skill_platform: str
    request_timeout: float
    connect_timeout: float
    max_retries: int
    retry_backoff: float
    retry_backoff_max: float
    rate_limit_wait: float
    poll_interval: float
    poll_initial_interval: float
    poll_backoff: float
    render_timeout: float
    max_polls: int
    heartbeat_notice_interval: float
    stream_idle_timeout: float
    stream_timeout: float
    recovery_first_wait: float
    recovery_wait: float
    recovery_max_polls: int
    settle_wait: float
    max_upload_bytes: int
    upload_concurrency: int
    sse_max_line_bytes: int
    sse_max_event_bytes: int
    max_response_bytes: int
    max_connections: int
    max_connections_per_host: int
    download_timeout: float | None
    proxy: str | None
    trust_env: bool
    allow_insecure_http: bool
