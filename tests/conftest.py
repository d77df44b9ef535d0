from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import nemovideo
from nemovideo.testing import Emulator

FAST: dict[str, Any] = {
    "rate_limit_wait": 0.01,
    "retry_backoff": 0.001,
    "retry_backoff_max": 0.01,
    "poll_interval": 0.01,
    "max_polls": 3000,
    "recovery_first_wait": 0.01,
    "settle_wait": 0.01,
    "recovery_wait": 0.02,
    "heartbeat_notice_interval": 0.05,
    "request_timeout": 20.0,
}


def make_client(emu: Emulator, config_dir: Path, **overrides: Any) -> nemovideo.NemoClient:
    """A client pointed at ``emu`` with millisecond waits and its own config dir."""
    opts = {**FAST, **overrides}
    return nemovideo.NemoClient(
        config=nemovideo.ClientConfig(base_url=emu.url, config_dir=config_dir, **opts)
    )


@pytest.fixture
async def client(emulator: Emulator, tmp_path: Path) -> AsyncIterator[nemovideo.NemoClient]:
    async with make_client(emulator, tmp_path / "config") as c:
        yield c
