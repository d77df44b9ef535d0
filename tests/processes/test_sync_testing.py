"""Testing blocking code (issue 21): the plugin's ``threaded_emulator`` fixture serves a
``SyncNemoClient``, and a sync client pointed at an emulator its own thread's loop serves fails at
once, naming that fixture, instead of waiting for a network timeout.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import nemovideo
from nemovideo.sync import SyncNemoClient
from nemovideo.testing import Emulator, threaded_emulator

from ..conftest import FAST


def test_the_threaded_fixture_serves_a_sync_client(
    threaded_emulator: Emulator, tmp_path: Path
) -> None:
    threaded_emulator.faults.rate_limit(times=1, path="/api/credits")
    with SyncNemoClient(base_url=threaded_emulator.url, config_dir=tmp_path, **FAST) as client:
        assert client.credits().available == 100
    assert len(threaded_emulator.requests_to("/api/credits")) == 2


async def test_the_threaded_fixture_serves_a_sync_client_inside_a_running_loop(
    threaded_emulator: Emulator, tmp_path: Path
) -> None:
    with SyncNemoClient(base_url=threaded_emulator.url, config_dir=tmp_path, **FAST) as client:
        session = client.create_session()
        assert client.session(session.id).state().session_id == session.id


async def test_a_sync_client_on_the_loop_serving_its_emulator_fails_at_once(
    emulator: Emulator, tmp_path: Path
) -> None:
    with SyncNemoClient(base_url=emulator.url, config_dir=tmp_path, request_timeout=60) as client:
        started = time.monotonic()
        with pytest.raises(nemovideo.NemoError) as caught:
            client.credits()
        assert time.monotonic() - started < 1.0
    assert "threaded_emulator" in str(caught.value)
    assert emulator.requests == [], "nothing was sent"


def test_an_emulator_thread_starts_and_closes_outside_pytest(tmp_path: Path) -> None:
    """As in a notebook: start it now, close it later; its temp dir goes with it."""
    thread = threaded_emulator()
    emu = thread.start()
    with SyncNemoClient(base_url=emu.url, config_dir=tmp_path, **FAST) as client:
        assert client.credits().available == 100
    data_dir = emu.data_dir
    thread.close()
    thread.close()
    assert not data_dir.exists()
