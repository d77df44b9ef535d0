"""The test-speed client settings and the plugin's ``nemo_client`` fixture."""

from __future__ import annotations

import glob
import os
import tempfile
from pathlib import Path

import pytest

import nemovideo
from nemovideo.testing import FAST_SETTINGS, Emulator, RenderControls, fast_client, offline_client


async def test_nemo_client_talks_to_the_tests_emulator(
    nemo_client: nemovideo.NemoClient, emulator: Emulator, tmp_path: Path
) -> None:
    assert nemo_client.config.base_url == emulator.url
    assert Path(nemo_client.config.config_dir).is_relative_to(tmp_path), "its own config dir"
    for name, value in FAST_SETTINGS.items():
        assert getattr(nemo_client.config, name) == value, name
    emulator.faults.rate_limit(times=1, path="/api/credits")
    assert (await nemo_client.credits()).available == 100
    assert len(emulator.requests_to("/api/credits", "GET")) == 2, "retried after the wait"


async def test_fast_client_overrides_win_and_settings_are_read_only(
    emulator: Emulator, tmp_path: Path
) -> None:
    async with fast_client(emulator, tmp_path / "c", max_retries=0, poll_interval=0.5) as client:
        assert (client.config.max_retries, client.config.poll_interval) == (0, 0.5)
        assert client.config.rate_limit_wait == FAST_SETTINGS["rate_limit_wait"]
        emulator.faults.server_error(times=1, path="/api/credits")
        with pytest.raises(nemovideo.ServerError):
            await client.credits()
    with pytest.raises(TypeError):
        FAST_SETTINGS["poll_interval"] = 9  # type: ignore[index]
    with pytest.raises(nemovideo.ValidationError):
        fast_client(emulator, tmp_path / "d", poll_interval=-1)


async def test_render_controls_are_a_plain_attribute(emulator: Emulator) -> None:
    assert emulator.render is emulator.render
    emulator.render = RenderControls(width=64, height=36, fps=5)
    assert emulator.render.width == 64
    with pytest.raises(ValueError, match="poll_shape"):
        emulator.render.poll_shape = 4
    with pytest.raises(ValueError, match="failure_shape"):
        emulator.render.failure_shape = "loud"


async def test_offline_client_brings_its_own_emulator_and_folder_and_removes_both() -> None:
    async with offline_client(max_retries=0) as client:
        config_dir = str(client.config.config_dir)
        url = client.config.base_url
        assert Path(config_dir).name.startswith("nemovideo-offline-")
        assert client.config.max_retries == 0
        assert client.config.poll_interval == FAST_SETTINGS["poll_interval"]
        assert (await client.credits()).available == 100
        assert _entries(config_dir), "the anonymous token is cached in its own folder"
    assert _entries(config_dir) is None, "the temporary folder is removed"
    async with nemovideo.NemoClient(base_url=url, config_dir=config_dir, max_retries=0) as after:
        with pytest.raises(nemovideo.TransportError):
            await after.credits()


async def test_offline_client_refuses_a_bad_option_before_starting_anything() -> None:
    pattern = os.path.join(tempfile.gettempdir(), "nemovideo-offline-*")
    made = set(glob.glob(pattern))
    with pytest.raises(nemovideo.ValidationError, match="poll_interval"):
        async with offline_client(poll_interval=-1):
            pytest.fail("no client for a bad option")
    assert set(glob.glob(pattern)) <= made


def _entries(folder: str) -> list[str] | None:
    """The names in ``folder``, or None when it does not exist."""
    try:
        return os.listdir(folder)
    except FileNotFoundError:
        return None
