from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import nemovideo
from nemovideo.testing import FAST_SETTINGS, Emulator, fast_client

FAST: dict[str, Any] = dict(FAST_SETTINGS)
"""The shipped test-speed settings (``nemovideo.testing.FAST_SETTINGS``), as a plain dict."""

make_client = fast_client
"""A client pointed at an emulator with millisecond waits and its own config dir."""


@pytest.fixture
async def client(emulator: Emulator, tmp_path: Path) -> AsyncIterator[nemovideo.NemoClient]:
    async with make_client(emulator, tmp_path / "config") as c:
        yield c
