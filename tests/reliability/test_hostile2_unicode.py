"""Unicode everywhere a string enters: lone surrogates in server ids are typed errors at the
boundary; CJK and emoji file names up to the file system's byte limit are accepted; a local file
name that is not UTF-8 is refused before any byte is sent; caller input with a NUL or a surrogate
(a download path, an ``upload_urls`` URL, ``config_dir``) is a ``ValidationError``; a URL is sent
exactly as the caller wrote it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

import nemovideo

from ._hostile import (
    SESSION_ID,
    Hostile,
    client_for,
    envelope,
    expect_error,
    json_text,
    outcome,
    state_answer,
)

CREATE = "/api/tasks/me/with-session/nemo_agent"
UPLOAD = "/api/upload-video/nemo_agent/me/"
SUBMIT = "/api/render/proxy/lambda"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 200
BAD_IDS = ['"55\\ud800"', '"\\udfff"', '"ok\\udc80ok"']


@pytest.mark.parametrize("raw_id", BAD_IDS)
async def test_a_server_session_id_with_a_lone_surrogate_is_a_typed_error(
    hostile: Hostile, tmp_path: Path, secret: str, raw_id: str
) -> None:
    hostile.on("POST", CREATE, json_text(
        f'{{"code": 0, "data": {{"session_id": {raw_id}, "task_id": "t1"}}}}'))  # fmt: skip
    async with client_for(hostile, tmp_path, secret) as client:
        error = await expect_error(client.create_session())
    assert isinstance(error, nemovideo.APIError), repr(error)
    assert "session id" in str(error)
    str(error).encode("utf-8", "backslashreplace")


@pytest.mark.parametrize("raw_id", BAD_IDS)
async def test_a_server_job_id_with_a_lone_surrogate_is_a_typed_error(
    hostile: Hostile, tmp_path: Path, secret: str, raw_id: str
) -> None:
    hostile.on("GET", "/api/state/", state_answer())
    hostile.on("POST", SUBMIT, json_text(
        f'{{"success": true, "data": {{"id": {raw_id}, "status": "pending"}}}}'))  # fmt: skip
    async with client_for(hostile, tmp_path, secret) as client:
        error = await expect_error(client.session(SESSION_ID).export())
    assert isinstance(error, nemovideo.APIError), repr(error)
    assert hostile.count("POST", SUBMIT) == 1


async def test_a_task_id_with_a_lone_surrogate_is_typed_in_the_claim_url(
    hostile: Hostile, tmp_path: Path, secret: str
) -> None:
    hostile.on("POST", CREATE, json_text(
        f'{{"code": 0, "data": {{"session_id": "{SESSION_ID}", "task_id": "t\\ud800"}}}}'))  # fmt: skip
    async with client_for(hostile, tmp_path, secret) as client:
        session = await client.create_session()
        with pytest.raises(nemovideo.NemoError):
            _ = session.claim_url


def _media_answer(name: str) -> Any:
    return envelope({"files": [{"filename": name, "file_type": "image/jpeg",
                                "cdn_url": "https://cdn.test/a.jpg"}]})  # fmt: skip


@pytest.mark.parametrize(
    "name",
    ["视频" * 41 + ".jpg", "🎬" * 62 + ".jpg", "写真.jpeg"],
    ids=["cjk-250", "emoji-252", "short"],
)
async def test_cjk_and_emoji_file_names_up_to_the_byte_limit_upload(
    hostile: Hostile, tmp_path: Path, secret: str, name: str
) -> None:
    assert len(name.encode()) <= 255
    path = tmp_path / name
    path.write_bytes(JPEG)
    hostile.on("POST", UPLOAD, _media_answer(name))
    async with client_for(hostile, tmp_path, secret) as client:
        media = await outcome(client.session(SESSION_ID).upload([path]))
    assert isinstance(media, list) and len(media) == 1, repr(media)
    (seen,) = hostile.requests("POST", UPLOAD)
    assert JPEG in seen.body


async def test_a_file_name_over_the_byte_limit_is_refused_before_sending(
    hostile: Hostile, tmp_path: Path, secret: str
) -> None:
    name = "视频" * 43 + ".jpg"  # 262 bytes, 90 characters
    async with client_for(hostile, tmp_path, secret) as client:
        error = await expect_error(client.session(SESSION_ID).upload([(name, JPEG)]))
    assert isinstance(error, nemovideo.ValidationError), repr(error)
    assert hostile.count("POST") == 0


async def test_a_file_name_that_is_not_utf8_is_refused_before_sending(
    hostile: Hostile, tmp_path: Path, secret: str
) -> None:
    raw_name = os.fsencode(tmp_path) + b"/clip\xff\xfe.jpg"
    fd = os.open(raw_name, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, JPEG)
    os.close(fd)
    path = Path(os.fsdecode(raw_name))
    hostile.on("POST", UPLOAD, _media_answer("x.jpg"))
    async with client_for(hostile, tmp_path, secret) as client:
        session = client.session(SESSION_ID)
        for item in ([path], [str(path)], [("clip\udcff.jpg", JPEG)]):
            error = await expect_error(session.upload(item))
            assert isinstance(error, nemovideo.ValidationError), repr(error)
            assert "UTF-8" in str(error)
    assert hostile.count("POST") == 0


BAD_URLS = ["https://x.test/a\x00.jpg", "https://x.test/a\ud800.jpg", "https://x.test/a b.jpg",
            "https://x.test:99999/a.jpg", "http://[::1", "https://x.test/a\n.jpg", b"https://x"]  # fmt: skip


@pytest.mark.parametrize("url", BAD_URLS, ids=[repr(u)[:30] for u in BAD_URLS])
async def test_a_bad_upload_url_is_a_validation_error_before_sending(
    hostile: Hostile, tmp_path: Path, secret: str, url: Any
) -> None:
    async with client_for(hostile, tmp_path, secret) as client:
        error = await expect_error(client.session(SESSION_ID).upload_urls([url]))
    assert isinstance(error, nemovideo.ValidationError), repr(error)
    assert hostile.count("POST") == 0


@pytest.mark.parametrize(
    "url",
    ["https://cdn.test/a%2Fb/IMG.JPG?x=1&y=%20z", "https://EXAMPLE.test:443/./a/../b.jpg",
     "https://xn--bcher-kva.test/%E5%86%99.png", "https://bücher.test/写真.png",
     "https://cdn.test/a.jpg#frag"],
)  # fmt: skip
async def test_an_upload_url_is_sent_exactly_as_given(
    hostile: Hostile, tmp_path: Path, secret: str, url: str
) -> None:
    hostile.on("POST", UPLOAD, _media_answer("a.jpg"))
    async with client_for(hostile, tmp_path, secret) as client:
        result = await outcome(client.session(SESSION_ID).upload_urls([url]))
    assert isinstance(result, list), repr(result)
    (seen,) = hostile.requests("POST", UPLOAD)
    assert json.loads(seen.body)["urls"] == [url]


@pytest.mark.parametrize("target", ["out\x00.mp4", "out\ud800.mp4", 5])
async def test_a_download_path_with_a_nul_or_surrogate_is_a_validation_error(
    hostile: Hostile, tmp_path: Path, secret: str, target: Any
) -> None:
    hostile.on("GET", "/api/render/proxy/lambda/", json_text(json.dumps(
        {"status": "completed", "outputUrl": f"{hostile.url}/files/v.mp4"})))  # fmt: skip
    async with client_for(hostile, tmp_path, secret) as client:
        job = await client.renderer.resume("render_1")
        error = await expect_error(job.download(target))
    assert isinstance(error, nemovideo.ValidationError), repr(error)
    assert hostile.count("GET", "/files/") == 0


@pytest.mark.parametrize("config_dir", ["cfg\x00", "cfg\ud800"])
def test_a_config_dir_with_a_nul_or_surrogate_is_a_validation_error(config_dir: str) -> None:
    with pytest.raises(nemovideo.ValidationError):
        nemovideo.NemoClient(token="t", base_url="http://127.0.0.1:9", config_dir=config_dir)


async def test_a_download_name_over_the_byte_limit_is_a_download_error(
    hostile: Hostile, tmp_path: Path, secret: str
) -> None:
    hostile.on("GET", "/api/render/proxy/lambda/", json_text(json.dumps(
        {"status": "completed", "outputUrl": f"{hostile.url}/files/v.mp4"})))  # fmt: skip
    async with client_for(hostile, tmp_path, secret) as client:
        job = await client.renderer.resume("render_1")
        error = await expect_error(job.download(tmp_path / ("🎬" * 70 + ".mp4")))
    assert isinstance(error, nemovideo.DownloadError), repr(error)
    assert "too long" in str(error)
    assert hostile.count("GET", "/files/") == 0


@pytest.mark.parametrize("where", ["session-answer", "token-answer"])
async def test_a_user_id_with_a_lone_surrogate_never_reaches_a_url_altered(
    hostile: Hostile, tmp_path: Path, where: str
) -> None:
    bad = '"anon_\\ud800x"'
    user = bad if where == "token-answer" else '"anon_1"'
    hostile.on("POST", "/api/auth/anonymous-token",
               json_text(f'{{"code": 0, "data": {{"token": "nmv_usr_t", "user_id": {user}}}}}'))  # fmt: skip
    session_user = bad if where == "session-answer" else '"anon_1"'
    hostile.on("POST", CREATE, json_text(f'{{"code": 0, "data": {{"session_id": "{SESSION_ID}", '
                                         f'"task_id": "t1", "user_id": {session_user}}}}}'))  # fmt: skip
    hostile.on("GET", "/api/credits/", json_text('{"code": 2001, "message": "no credits"}'))
    async with client_for(hostile, tmp_path, None) as client:
        await client.create_session()
        error = await expect_error(client.credits())
    assert isinstance(error, nemovideo.InsufficientCreditsError), repr(error)
    assert error.registration_url in (None, "https://nemovideo.com/register?bind=anon_1")
    assert "anon_x" not in str(error), "a user id is used as sent or not at all"


async def test_a_token_with_a_lone_surrogate_is_a_typed_error(
    hostile: Hostile, tmp_path: Path
) -> None:
    hostile.on("POST", "/api/auth/anonymous-token",
               json_text('{"code": 0, "data": {"token": "nmv_usr_\\ud800"}}'))  # fmt: skip
    async with client_for(hostile, tmp_path, None) as client:
        error = await expect_error(client.credits())
    assert isinstance(error, nemovideo.APIError), repr(error)
    assert hostile.count("GET") == 0
