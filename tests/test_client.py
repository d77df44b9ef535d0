"""NemoClient itself: the round trip, sessions, lifecycle, configuration precedence."""

from __future__ import annotations

import asyncio
import warnings
from pathlib import Path

import pytest

import nemovideo
from nemovideo.testing import Emulator, fast_client


async def test_credits_session_state_round_trip(nemo_client: nemovideo.NemoClient) -> None:
    bal = await nemo_client.credits()
    assert bal == nemovideo.Credits(available=100, frozen=0, total=100)
    session = await nemo_client.create_session(language="zh")
    assert session.id.isdigit() and session.task_id
    assert nemo_client.user_id and nemo_client.user_id.startswith("anon_")
    state = await session.state()
    assert state.session_id == session.id and state.task_id == session.task_id
    assert not state.draft.ready_for_export
    assert "session=" + session.id in session.claim_url
    link = await session.claim_link()
    assert "/workspace/claim?ct=clm_" in link


async def test_unknown_and_dropped_sessions(
    emulator: Emulator, nemo_client: nemovideo.NemoClient
) -> None:
    with pytest.raises(nemovideo.SessionNotFoundError):
        await nemo_client.session("1234567890123456789").state()
    session = await nemo_client.create_session()
    emulator.faults.drop_session(session.id)
    with pytest.raises(nemovideo.SessionNotFoundError):
        await session.state()
    with pytest.raises(nemovideo.ValidationError):
        nemo_client.session("../etc/passwd")


async def test_closed_client_refuses_and_unentered_client_is_safe(
    emulator: Emulator, tmp_path: Path
) -> None:
    client = fast_client(emulator, tmp_path)
    assert (await client.credits()).available == 100
    await client.aclose()
    assert client.closed
    with pytest.raises(nemovideo.ClientClosedError):
        await client.credits()
    await client.aclose()


def test_config_precedence(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(
        '{"base_url": "https://file.example", "skill_version": "9.9.9", "request_timeout": 5}'
    )
    env = {"NEMO_CONFIG_DIR": str(tmp_path), "NEMO_API_URL": "https://env.example",
           "NEMO_CLIENT_ID": "cid", "SKILL_SOURCE": "clawhub"}  # fmt: skip
    cfg = nemovideo.ClientConfig.from_env(env, request_timeout=7)
    assert cfg.base_url == "https://env.example"
    assert cfg.skill_version == "9.9.9"
    assert cfg.request_timeout == 7
    assert cfg.client_id == "cid" and cfg.skill_platform == "clawhub"
    assert cfg.config_dir == tmp_path
    assert cfg.max_polls == 1000 and cfg.poll_interval == 30 and cfg.stream_timeout == 900
    assert cfg.render_timeout == 600 and cfg.poll_initial_interval == 2 and cfg.poll_backoff == 1.5
    defaults = nemovideo.ClientConfig.from_env({"NEMO_CONFIG_DIR": str(tmp_path / "none")})
    assert defaults.base_url == "https://mega-api-prod.nemovideo.ai"
    assert defaults.skill_platform == "unknown"
    with pytest.raises(TypeError, match="unknown configuration"):
        nemovideo.ClientConfig.from_env(env, no_such_option=1)


def test_bad_config_is_refused(tmp_path: Path) -> None:
    with pytest.raises(nemovideo.InsecureURLError):
        nemovideo.ClientConfig(base_url="http://api.example.com")
    assert nemovideo.ClientConfig(
        base_url="http://api.example.com", allow_insecure_http=True
    ).base_url.startswith("http://")
    assert nemovideo.ClientConfig(base_url="http://localhost:8000/").base_url.endswith(":8000")
    with pytest.raises(nemovideo.ValidationError):
        nemovideo.ClientConfig(base_url="ftp://x")
    with pytest.raises(nemovideo.ValidationError):
        nemovideo.ClientConfig(request_timeout=0)
    (tmp_path / "config.json").write_text("{broken")
    with pytest.raises(nemovideo.ValidationError, match="not valid JSON"):
        nemovideo.ClientConfig.from_env({"NEMO_CONFIG_DIR": str(tmp_path)})


async def test_a_client_left_open_warns_by_name(emulator: Emulator, tmp_path: Path) -> None:
    client = fast_client(emulator, tmp_path / "cfg")
    await client.credits()
    with pytest.warns(ResourceWarning, match="was never closed"):
        client.__del__()
    await client.aclose()
    async with fast_client(emulator, tmp_path / "cfg2") as closed:
        await closed.credits()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        closed.__del__()


@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_a_client_used_from_a_second_event_loop_says_so(tmp_path: Path) -> None:
    async def first() -> tuple[nemovideo.NemoClient, str]:
        emu = await Emulator().start()
        client = fast_client(emu, tmp_path / "cfg")
        await client.credits()
        await emu.close()
        return client, emu.url

    client, _ = asyncio.run(first())

    async def second() -> None:
        with pytest.raises(nemovideo.ClientClosedError, match="another event loop"):
            await client.credits()

    asyncio.run(second())


@pytest.mark.parametrize(("service", "name"), [("uploader", "Uploader"), ("renderer", "Renderer")])
async def test_a_service_repr_names_the_api_not_the_token(
    emulator: Emulator, tmp_path: Path, service: str, name: str
) -> None:
    """``client.uploader`` and ``client.renderer`` show where they talk to, never the token."""
    async with fast_client(emulator, tmp_path, token="nmv_usr_secret") as client:
        shown = repr(getattr(client, service))
        assert shown == f"<{name} base_url={emulator.url!r}>"
        assert "nmv_usr_secret" not in shown
