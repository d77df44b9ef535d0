"""Tokens and client ids against the emulator: renewal on 1001, explicit tokens, private files."""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import traceback
from pathlib import Path

import pytest

import nemovideo
from nemovideo.testing import Emulator, fast_client


async def test_expired_token_refreshed_exactly_once_under_concurrency(
    emulator: Emulator, nemo_client: nemovideo.NemoClient
) -> None:
    await nemo_client.credits()
    first_user = nemo_client.user_id
    emulator.faults.expire_tokens()
    results = await asyncio.gather(*(nemo_client.credits() for _ in range(20)))
    assert all(r.available == 100 for r in results)
    assert len(emulator.requests_to("/api/auth/anonymous-token")) == 2
    assert nemo_client.user_id == first_user


async def test_second_1001_raises(emulator: Emulator, nemo_client: nemovideo.NemoClient) -> None:
    await nemo_client.credits()
    emulator.faults.error(1001, times=2, path="/api/credits")
    with pytest.raises(nemovideo.AuthenticationError):
        await nemo_client.credits()
    assert len(emulator.requests_to("/api/auth/anonymous-token")) == 2


async def test_explicit_token_is_not_replaced(emulator: Emulator, tmp_path: Path) -> None:
    async with fast_client(emulator, tmp_path, token="nmv_usr_not_a_real_one") as client:
        with pytest.raises(nemovideo.AuthenticationError, match="NEMO_TOKEN"):
            await client.credits()
    assert emulator.requests_to("/api/auth/anonymous-token") == []


def _file_modes(directory: Path) -> dict[str, int]:
    return {f.name: stat.S_IMODE(f.stat().st_mode) for f in directory.iterdir()}


async def test_identity_files_are_private_and_reused(emulator: Emulator, tmp_path: Path) -> None:
    async with fast_client(emulator, tmp_path) as client:
        await client.credits()
        user = client.user_id
    modes = _file_modes(tmp_path)
    assert "client_id" in modes and any(n.startswith("token-") for n in modes)
    assert set(modes.values()) == {0o600}, modes
    # A restarted notebook reuses the cached token: no second anonymous-token call.
    async with fast_client(emulator, tmp_path) as again:
        await again.credits()
        assert again.user_id == user
    assert len(emulator.requests_to("/api/auth/anonymous-token")) == 1


async def test_missing_client_id_answer_creates_a_new_id(
    emulator: Emulator, tmp_path: Path
) -> None:
    async with fast_client(emulator, tmp_path) as client:
        emulator.faults.error(400, times=1, path="/api/auth/anonymous-token")
        await client.credits()
    calls = emulator.requests_to("/api/auth/anonymous-token")
    assert len(calls) == 2
    ids = [{k.lower(): v for k, v in c.headers.items()}["x-client-id"] for c in calls]
    assert ids[0] != ids[1]
    assert (tmp_path / "client_id").read_text().strip() == ids[1]


async def test_token_never_in_repr_logs_or_errors(
    emulator: Emulator, nemo_client: nemovideo.NemoClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await nemo_client.credits()
    token = emulator.requests[-1].headers["Authorization"].removeprefix("Bearer ")
    assert token.startswith("nmv_usr_")
    texts = [
        repr(nemo_client),
        repr(nemo_client.config),
        repr(nemo_client.api),
        repr(nemo_client._transport.auth),  # noqa: SLF001
    ]
    emulator.faults.error(2001, times=1)
    emulator.faults.error(1001, times=2)
    for _ in range(2):
        try:
            await nemo_client.credits()
        except nemovideo.NemoError as exc:
            texts += [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    explicit = nemovideo.ClientConfig(token="nmv_usr_secret_value", base_url=emulator.url)
    texts.append(repr(explicit))
    texts += [r.getMessage() for r in caplog.records]
    assert caplog.records, "expected debug logging to be captured"
    for text in texts:
        assert token not in text
        assert "nmv_usr_secret_value" not in text


def test_concurrent_processes_agree_on_client_id(tmp_path: Path) -> None:
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        ids = pool.map(_client_id_in_process, [str(tmp_path)] * 8)
    assert len(set(ids)) == 1
    assert (tmp_path / "client_id").read_text() == ids[0]
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def _client_id_in_process(config_dir: str) -> str:
    from nemovideo._http.auth import ClientIdStore

    return ClientIdStore(nemovideo.ClientConfig(config_dir=Path(config_dir))).get()
