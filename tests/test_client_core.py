"""The foundation against the emulator over 127.0.0.1: headers, envelope, errors, retries, auth."""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import traceback
import warnings
from pathlib import Path

import aiohttp
import pytest

import nemovideo
from nemovideo import errors
from nemovideo.testing import Emulator

from .conftest import make_client

ATTRIBUTION = ("X-Skill-Source", "X-Skill-Version", "X-Skill-Platform")


def _api_requests(emu: Emulator) -> list[object]:
    return list(emu.requests)


async def test_every_request_carries_attribution_headers(
    emulator: Emulator, client: nemovideo.NemoClient
) -> None:
    await client.credits()
    session = await client.create_session(language="en")
    await session.state()
    await session.claim_link()
    assert len(emulator.requests) >= 5
    for req in emulator.requests:
        headers = {k.lower(): v for k, v in req.headers.items()}
        for name in ATTRIBUTION:
            assert headers.get(name.lower()), f"{req.method} {req.path} lacks {name}"
        assert headers["x-skill-source"] == "free-image-to-video-generator"
        assert headers["x-skill-version"] == "1.0.0"
        if "anonymous-token" not in req.path:
            assert headers["authorization"].startswith("Bearer nmv_usr_")


async def test_credits_session_state_round_trip(client: nemovideo.NemoClient) -> None:
    bal = await client.credits()
    assert bal == nemovideo.Credits(available=100, frozen=0, total=100)
    session = await client.create_session(language="zh")
    assert session.id.isdigit() and session.task_id
    assert client.user_id and client.user_id.startswith("anon_")
    state = await session.state()
    assert state.session_id == session.id and state.task_id == session.task_id
    assert not state.draft.ready_for_export
    assert "session=" + session.id in session.claim_url
    link = await session.claim_link()
    assert "/workspace/claim?ct=clm_" in link


CASES = [
    (1002, nemovideo.SessionNotFoundError),
    (2001, nemovideo.InsufficientCreditsError),
    (4001, nemovideo.UnsupportedFileError),
    (4002, nemovideo.FileTooLargeError),
    (400, nemovideo.MissingClientIdError),
    (402, nemovideo.ExportBlockedError),
    (429, nemovideo.RateLimitError),
    (503, nemovideo.ServerError),
    (1001, nemovideo.AuthenticationError),
]


@pytest.mark.parametrize("style", ["body", "status"])
@pytest.mark.parametrize(("code", "cls"), CASES)
async def test_each_code_maps_to_its_class(
    emulator: Emulator, client: nemovideo.NemoClient, style: str, code: int, cls: type
) -> None:
    await client.credits()
    emulator.error_style = style
    # Enough failures to outlast every retry the client is allowed for this code.
    emulator.faults.error(code, times=10, path="/api/credits")
    before = len(emulator.requests_to("/api/credits"))
    if code == 503 and style == "body":
        cls = nemovideo.APIError  # ServerError means HTTP 5xx; a 503 code on a 200 is the API's
    with pytest.raises(cls) as info:
        await client.credits()
    exc = info.value
    assert type(exc) is cls
    assert isinstance(exc, nemovideo.APIError) and isinstance(exc, nemovideo.NemoError)
    assert exc.code == code
    assert exc.http_status == (200 if style == "body" else exc.http_status)
    if style == "status":
        assert exc.http_status >= 400
    assert str(exc)
    attempts = len(emulator.requests_to("/api/credits")) - before
    retried_503 = client.config.max_retries + 1 if style == "status" else 1
    expected = {429: 2, 503: retried_503, 1001: 2}.get(code, 1)
    assert attempts == expected
    if code == 2001:
        assert exc.registration_url.endswith(f"/register?bind={client.user_id}")
        assert exc.registration_url in str(exc)
    if code == 4001:
        assert "png" in exc.supported_formats and "Supported formats" in str(exc)
    if code == 4002:
        assert exc.limit_bytes == 200 * 1024 * 1024 and "compress" in str(exc)
    if code == 402:
        assert "upgrade" in str(exc).lower() and not isinstance(
            exc, nemovideo.InsufficientCreditsError
        )


async def test_http_error_without_json_body(
    emulator: Emulator, client: nemovideo.NemoClient
) -> None:
    await client.credits()
    emulator.faults.server_error(times=10, status=502, body=False, path="/api/credits")
    with pytest.raises(nemovideo.ServerError) as info:
        await client.credits()
    assert info.value.http_status == 502


async def test_429_retried_once_after_advertised_wait(
    emulator: Emulator, client: nemovideo.NemoClient
) -> None:
    await client.credits()
    emulator.faults.rate_limit(times=1, retry_after=0.2, path="/api/credits")
    assert (await client.credits()).available == 100
    hits = emulator.requests_to("/api/credits")[-2:]
    assert hits[1].time - hits[0].time >= 0.2


async def test_429_without_retry_after_uses_configured_wait(
    emulator: Emulator, tmp_path: Path
) -> None:
    async with make_client(emulator, tmp_path, rate_limit_wait=0.15) as client:
        await client.credits()
        emulator.error_style = "status"
        emulator.faults.error(429, times=1, path="/api/credits")
        await client.credits()
        hits = emulator.requests_to("/api/credits")[-2:]
        assert hits[1].time - hits[0].time >= 0.15


async def test_expired_token_refreshed_exactly_once_under_concurrency(
    emulator: Emulator, client: nemovideo.NemoClient
) -> None:
    await client.credits()
    first_user = client.user_id
    emulator.faults.expire_tokens()
    results = await asyncio.gather(*(client.credits() for _ in range(20)))
    assert all(r.available == 100 for r in results)
    assert len(emulator.requests_to("/api/auth/anonymous-token")) == 2
    assert client.user_id == first_user


async def test_second_1001_raises(emulator: Emulator, client: nemovideo.NemoClient) -> None:
    await client.credits()
    emulator.faults.error(1001, times=2, path="/api/credits")
    with pytest.raises(nemovideo.AuthenticationError):
        await client.credits()
    assert len(emulator.requests_to("/api/auth/anonymous-token")) == 2


async def test_explicit_token_is_not_replaced(emulator: Emulator, tmp_path: Path) -> None:
    async with make_client(emulator, tmp_path, token="nmv_usr_not_a_real_one") as client:
        with pytest.raises(nemovideo.AuthenticationError, match="NEMO_TOKEN"):
            await client.credits()
    assert emulator.requests_to("/api/auth/anonymous-token") == []


def _file_modes(directory: Path) -> dict[str, int]:
    return {f.name: stat.S_IMODE(f.stat().st_mode) for f in directory.iterdir()}


async def test_identity_files_are_private_and_reused(emulator: Emulator, tmp_path: Path) -> None:
    async with make_client(emulator, tmp_path) as client:
        await client.credits()
        user = client.user_id
    modes = _file_modes(tmp_path)
    assert "client_id" in modes and any(n.startswith("token-") for n in modes)
    assert set(modes.values()) == {0o600}, modes
    # A restarted notebook reuses the cached token: no second anonymous-token call.
    async with make_client(emulator, tmp_path) as again:
        await again.credits()
        assert again.user_id == user
    assert len(emulator.requests_to("/api/auth/anonymous-token")) == 1


async def test_missing_client_id_answer_creates_a_new_id(
    emulator: Emulator, tmp_path: Path
) -> None:
    async with make_client(emulator, tmp_path) as client:
        emulator.faults.error(400, times=1, path="/api/auth/anonymous-token")
        await client.credits()
    calls = emulator.requests_to("/api/auth/anonymous-token")
    assert len(calls) == 2
    ids = [{k.lower(): v for k, v in c.headers.items()}["x-client-id"] for c in calls]
    assert ids[0] != ids[1]
    assert (tmp_path / "client_id").read_text().strip() == ids[1]


async def test_get_retried_on_5xx_and_reset_but_post_is_not(
    emulator: Emulator, client: nemovideo.NemoClient
) -> None:
    await client.credits()
    emulator.faults.server_error(times=2, status=503, path="/api/credits")
    assert (await client.credits()).total == 100
    emulator.faults.reset_connection(times=1, path="/api/credits")
    assert (await client.credits()).total == 100

    emulator.faults.server_error(times=1, status=503, path="/with-session")
    with pytest.raises(nemovideo.ServerError):
        await client.create_session()
    emulator.faults.reset_connection(times=1, path="/with-session")
    with pytest.raises(nemovideo.TransportError):
        await client.create_session()
    assert len(emulator.requests_to("/with-session")) == 2


async def test_unknown_and_dropped_sessions(
    emulator: Emulator, client: nemovideo.NemoClient
) -> None:
    with pytest.raises(nemovideo.SessionNotFoundError):
        await client.session("1234567890123456789").state()
    session = await client.create_session()
    emulator.faults.drop_session(session.id)
    with pytest.raises(nemovideo.SessionNotFoundError):
        await session.state()
    with pytest.raises(nemovideo.ValidationError):
        client.session("../etc/passwd")


async def test_closed_client_refuses_and_unentered_client_is_safe(
    emulator: Emulator, tmp_path: Path
) -> None:
    client = make_client(emulator, tmp_path)
    assert (await client.credits()).available == 100
    await client.aclose()
    assert client.closed
    with pytest.raises(nemovideo.ClientClosedError):
        await client.credits()
    await client.aclose()


async def test_unreachable_host_is_a_transport_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = nemovideo.ClientConfig(
        base_url=f"http://127.0.0.1:{port}", config_dir=tmp_path, token="nmv_usr_x",
        max_retries=1, retry_backoff=0.001,
    )  # fmt: skip
    async with nemovideo.NemoClient(config=cfg) as client:
        with pytest.raises(nemovideo.TransportError) as info:
            await client.credits()
    assert "nmv_usr_x" not in str(info.value)
    assert f"cannot connect to 127.0.0.1:{port}" in str(info.value)
    assert "ssl:default" not in str(info.value), "aiohttp's connection details stay out"


async def test_request_timeout_holds_with_the_callers_own_http_session(
    emulator: Emulator, tmp_path: Path
) -> None:
    """An app's ``aiohttp.ClientSession`` (default: 5 minutes) does not lift ``request_timeout``."""
    async with aiohttp.ClientSession() as shared:
        config = nemovideo.ClientConfig(
            base_url=emulator.url, config_dir=tmp_path, request_timeout=0.2, max_retries=0
        )
        async with nemovideo.NemoClient(config=config, http_session=shared) as client:
            await client.credits()
            emulator.faults.delay(2.0, path="/api/credits")
            with pytest.raises(nemovideo.TransportError, match=r"GET /api/credits\S* timed out"):
                await client.credits()
            assert [f.kind for f in emulator.faults.fired] == ["delay"]
            assert (await client.credits()).total >= 0, "the next request is unaffected"
        assert not shared.closed, "the caller's session stays open"


async def test_token_never_in_repr_logs_or_errors(
    emulator: Emulator, client: nemovideo.NemoClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await client.credits()
    token = emulator.requests[-1].headers["Authorization"].removeprefix("Bearer ")
    assert token.startswith("nmv_usr_")
    texts = [
        repr(client),
        repr(client.config),
        repr(client.api),
        repr(client.api.auth),
    ]
    emulator.faults.error(2001, times=1)
    emulator.faults.error(1001, times=2)
    for _ in range(2):
        try:
            await client.credits()
        except nemovideo.NemoError as exc:
            texts += [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    explicit = nemovideo.ClientConfig(token="nmv_usr_secret_value", base_url=emulator.url)
    texts.append(repr(explicit))
    texts += [r.getMessage() for r in caplog.records]
    assert caplog.records, "expected debug logging to be captured"
    for text in texts:
        assert token not in text
        assert "nmv_usr_secret_value" not in text


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


def test_retry_after_parsing() -> None:
    assert errors.parse_retry_after("2.5") == 2.5
    assert errors.parse_retry_after(None) is None
    assert errors.parse_retry_after("soon") is None
    when = errors.parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0)
    assert when == 10.0


def test_concurrent_processes_agree_on_client_id(tmp_path: Path) -> None:
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        ids = pool.map(_client_id_in_process, [str(tmp_path)] * 8)
    assert len(set(ids)) == 1
    assert (tmp_path / "client_id").read_text() == ids[0]
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def _client_id_in_process(config_dir: str) -> str:
    from nemovideo._auth import ClientIdStore

    return ClientIdStore(nemovideo.ClientConfig(config_dir=Path(config_dir))).get()


def test_hints_follow_the_server_message_as_a_new_sentence() -> None:
    exc = nemovideo.InsufficientCreditsError(
        "Insufficient credits", registration_url="https://nemovideo.com/register?bind=anon_1"
    )
    assert str(exc) == (
        "Insufficient credits. Register to get more credits: "
        "https://nemovideo.com/register?bind=anon_1"
    )
    assert str(nemovideo.ExportBlockedError("Export needs a plan.")).endswith(
        "plan. Register or upgrade your plan to export."
    )


def test_rate_limit_and_blocked_export_messages_say_it_once() -> None:
    assert "wait 12 s" in str(nemovideo.RateLimitError("Too many requests", retry_after=12))
    blocked = str(nemovideo.ExportBlockedError("Free plan: register or upgrade to export."))
    assert blocked.lower().count("upgrade") == 1


async def test_a_client_left_open_warns_by_name(emulator: Emulator, tmp_path: Path) -> None:
    client = make_client(emulator, tmp_path / "cfg")
    await client.credits()
    with pytest.warns(ResourceWarning, match="was never closed"):
        client.__del__()
    await client.aclose()
    async with make_client(emulator, tmp_path / "cfg2") as closed:
        await closed.credits()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        closed.__del__()


@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_a_client_used_from_a_second_event_loop_says_so(tmp_path: Path) -> None:
    async def first() -> tuple[nemovideo.NemoClient, str]:
        emu = await Emulator().start()
        client = make_client(emu, tmp_path / "cfg")
        await client.credits()
        await emu.close()
        return client, emu.url

    client, _ = asyncio.run(first())

    async def second() -> None:
        with pytest.raises(nemovideo.ClientClosedError, match="another event loop"):
            await client.credits()

    asyncio.run(second())
