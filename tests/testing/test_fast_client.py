"""The test-speed client settings and the plugin's ``nemo_client`` fixture."""

from __future__ import annotations

from pathlib import Path

import pytest

import nemovideo
from nemovideo.testing import FAST_SETTINGS, Emulator, RenderControls, fast_client


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
