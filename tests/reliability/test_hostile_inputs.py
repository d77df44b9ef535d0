"""Hostile inputs: control characters in tokens (given or issued), client ids and upload file names
fail before anything is sent; broken config and client-id files are reported or replaced."""

from __future__ import annotations

import io
import json
import logging
import uuid
from pathlib import Path
from typing import Any

import pytest

import nemovideo

from ._hostile import (
    FAST,
    SESSION_ID,
    Hostile,
    assert_no_secret,
    client_for,
    envelope,
    expect_error,
    outcome,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
CONTROL = ["\r\nX-Injected: 1", "\n", "\r", "\x00", "\x7f", "\t", " ", "\x1b[2J", "\u2028"]
CREDITS = envelope({"available": 1, "frozen": 0})


def credits_route(srv: Hostile) -> None:
    srv.on("GET", "/api/credits", CREDITS)


@pytest.mark.parametrize("bad", CONTROL, ids=repr)
@pytest.mark.parametrize("where", ["argument", "environment", "config-file"])
async def test_a_control_character_in_the_token_fails_before_sending(
    hostile: Hostile, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str, bad: str
) -> None:
    if where == "environment" and bad == "\x00":
        pytest.skip("a POSIX environment variable cannot hold a NUL")
    credits_route(hostile)
    secret = f"tok{uuid.uuid4().hex}"
    token = f"{secret}{bad}tail"
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    options = {k: v for k, v in FAST.items()}

    async def make_and_call() -> Any:
        if where == "argument":
            client = nemovideo.NemoClient(base_url=hostile.url, token=token,
                                          config_dir=config_dir, **options)  # fmt: skip
        else:
            if where == "environment":
                monkeypatch.setenv("NEMO_TOKEN", token)
            else:
                (config_dir / "config.json").write_text(json.dumps({"token": token}))
            client = nemovideo.NemoClient(base_url=hostile.url, config_dir=config_dir, **options)
        async with client:
            return await client.credits()

    error = await expect_error(make_and_call())
    assert isinstance(error, nemovideo.ValidationError), repr(error)
    assert hostile.seen == [], "nothing is sent with a token that would break the header"
    assert_no_secret([secret], error=error)


@pytest.mark.parametrize("bad", CONTROL, ids=repr)
async def test_an_issued_token_with_a_control_character_is_refused_and_never_cached(
    hostile: Hostile, tmp_path: Path, caplog: pytest.LogCaptureFixture, bad: str
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = f"nmv_usr_{uuid.uuid4().hex}"
    issued = f"{secret}{bad}tail"
    hostile.on("POST", "/api/auth/anonymous-token",
               envelope({"token": issued, "user_id": "anon_1"}))  # fmt: skip
    credits_route(hostile)
    async with client_for(hostile, tmp_path, None) as client:
        error = await expect_error(client.credits())
    assert hostile.count("GET", "/api/credits") == 0, "the bad token was sent"
    cached = [
        p
        for p in (tmp_path / "config").glob("*")
        if p.is_file() and secret in p.read_text("latin-1")
    ]
    assert cached == [], f"the bad token was cached in {cached}"
    assert_no_secret([secret], error=error, records=caplog.records)


@pytest.mark.parametrize("bad", CONTROL, ids=repr)
@pytest.mark.parametrize("where", ["argument", "environment"])
async def test_a_control_character_in_the_client_id_fails_before_sending(
    hostile: Hostile, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str, bad: str
) -> None:
    if where == "environment" and bad == "\x00":
        pytest.skip("a POSIX environment variable cannot hold a NUL")
    client_id = f"{uuid.uuid4()}{bad}"

    async def make_and_call() -> Any:
        if where == "argument":
            client = client_for(hostile, tmp_path, None, client_id=client_id)
        else:
            monkeypatch.setenv("NEMO_CLIENT_ID", client_id)
            client = nemovideo.NemoClient(base_url=hostile.url, config_dir=tmp_path / "c", **FAST)
        async with client:
            return await client.credits()

    error = await expect_error(make_and_call())
    assert isinstance(error, nemovideo.ValidationError), repr(error)
    assert hostile.seen == []


def _named(name: str) -> io.BytesIO:
    handle = io.BytesIO(PNG)
    handle.name = name
    return handle


@pytest.mark.parametrize("bad", ["\r\n", "\n", "\x00", "\x7f", "\x1b"], ids=repr)
@pytest.mark.parametrize("form", ["pair", "path", "path-str", "file-object"])
async def test_a_control_character_in_an_upload_file_name_fails_before_sending(
    hostile: Hostile, tmp_path: Path, secret: str, form: str, bad: str
) -> None:
    name = f"clip{bad}evil.png"
    if form == "pair":
        item: Any = (name, PNG)
    elif form == "file-object":
        item = _named(name)
    else:
        path = tmp_path / name
        if "\x00" not in name:
            path.write_bytes(PNG)
        item = path if form == "path" else str(path)
    async with client_for(hostile, tmp_path, secret) as client:
        error = await expect_error(client.session(SESSION_ID).upload([item]))
    assert isinstance(error, nemovideo.ValidationError), repr(error)
    assert hostile.seen == []


@pytest.mark.parametrize(
    "content",
    [b"\xff\xfe{\x00}\x00", b'{"request_timeout": 1}\xff', b"[" * 100_000 + b"]" * 100_000,
     b'{"request_timeout": NaN}', b'{"max_retries": 1e999}', b'{"request_timeout": "5"}',
     "directory"],
    ids=["utf16", "trailing-byte", "nested", "nan", "huge", "string", "directory"],
)  # fmt: skip
def test_a_broken_config_file_is_a_validation_error(tmp_path: Path, content: Any) -> None:
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    if content == "directory":
        (config_dir / "config.json").mkdir()
    else:
        (config_dir / "config.json").write_bytes(content)
    with pytest.raises(nemovideo.ValidationError, match="config"):
        nemovideo.NemoClient(config_dir=config_dir)


def test_a_config_file_that_is_a_directory_is_a_validation_error(tmp_path: Path) -> None:
    (tmp_path / "config.json").mkdir()
    with pytest.raises(nemovideo.ValidationError, match="config"):
        nemovideo.NemoClient(config_dir=tmp_path)


@pytest.mark.parametrize(
    "kind", ["binary", "non-uuid", "empty", "dangling-symlink", "uuid-and-junk"]
)
async def test_a_broken_client_id_file_is_replaced_by_a_fresh_uuid_with_a_log_line(
    hostile: Hostile, tmp_path: Path, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    caplog.set_level(logging.DEBUG)
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    path = config_dir / "client_id"
    if kind == "binary":
        path.write_bytes(b"\x00\xff\xfe\x89PNG\r\n")
    elif kind == "non-uuid":
        path.write_text("not-a-uuid\n")
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "uuid-and-junk":
        path.write_text(f"{uuid.uuid4()}\r\nX-Injected: 1")
    else:
        path.symlink_to(tmp_path / "nowhere" / "client_id")
    hostile.on("POST", "/api/auth/anonymous-token",
               envelope({"token": f"nmv_usr_{uuid.uuid4().hex}", "user_id": "anon_1"}))  # fmt: skip
    credits_route(hostile)
    async with client_for(hostile, tmp_path, None, config_dir=config_dir) as client:
        credits = await outcome(client.credits())
    assert isinstance(credits, nemovideo.Credits), repr(credits)
    (token_call,) = hostile.requests("POST", "/api/auth")
    sent = token_call.headers["X-Client-Id"]
    assert uuid.UUID(sent) and sent == str(uuid.UUID(sent)), sent
    assert not path.is_symlink() and path.read_text().strip() == sent, "replaced in place"
    assert not [p for p in config_dir.iterdir() if p.name.endswith(".tmp")]
    if kind != "empty":
        assert any("client" in r.getMessage().lower() and r.levelno >= logging.INFO
                   for r in caplog.records), "no log line says the client id was replaced"  # fmt: skip


async def test_a_client_id_path_that_is_a_directory_is_a_typed_error(
    hostile: Hostile, tmp_path: Path
) -> None:
    config_dir = tmp_path / "config"
    (config_dir / "client_id").mkdir(parents=True)
    async with client_for(hostile, tmp_path, None, config_dir=config_dir) as client:
        result = await outcome(client.credits())
    assert isinstance(result, (nemovideo.NemoError, nemovideo.Credits)), repr(result)


@pytest.mark.parametrize("sid", ["../../credits", "a/b", "..", "", "x" * 300, "1\r\n2", "1\x00",
                                 "55\ud800", "\udfff", "a\x00b"], ids=repr)  # fmt: skip
async def test_a_hostile_session_id_is_refused_by_every_entry_point(
    hostile: Hostile, tmp_path: Path, secret: str, sid: str
) -> None:
    """Traversal, control characters, lone surrogates: refused before a byte is sent."""
    async with client_for(hostile, tmp_path, secret) as client:
        with pytest.raises(nemovideo.ValidationError):
            client.session(sid)
        with pytest.raises(nemovideo.ValidationError):
            nemovideo.Session(client, sid, task_id=None, user_id=None)
        for call in (client.uploader.upload(sid, [("a.png", PNG)]),
                     client.uploader.upload_urls(sid, ["https://cdn.example.com/a.jpg"]),
                     client.renderer.export(sid, draft={"t": [{"tt": 0, "sg": [{"d": 1}]}]}),
                     client.renderer.resume(sid)):  # fmt: skip
            error = await expect_error(call)
            assert isinstance(error, nemovideo.ValidationError), repr(error)
    assert hostile.seen == []
