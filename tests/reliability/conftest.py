"""Fixtures of the hostile-server suite (``_hostile.py`` holds the server and the checks)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator

import pytest

from ._hostile import Hostile


@pytest.fixture
async def hostile() -> AsyncIterator[Hostile]:
    """A started loopback server that answers 404 until a test says otherwise."""
    async with Hostile() as srv:
        yield srv


@pytest.fixture
def secret(caplog: pytest.LogCaptureFixture) -> str:
    """A unique token, not shaped like one (so only the client's own redaction can hide it);
    every log record at DEBUG is captured for the leak checks."""
    caplog.set_level(logging.DEBUG)
    return f"hostile-{uuid.uuid4().hex}"
