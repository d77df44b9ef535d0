"""Hostile downloads, round two: a 200 that is not a video (an error envelope, an HTML page, JSON,
text, nothing) is never saved as one; the other source is tried; a gzip-encoded download with a
``Content-Length`` is whole; an unparseable render URL is a typed error and the fallback still runs;
a CJK or emoji file name up to the file system's byte limit is saved."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

import nemovideo

from ._hostile import (
    FALLBACK,
    POLL,
    Handler,
    Hostile,
    assert_no_secret,
    client_for,
    download,
    html,
    json_text,
    leftovers,
    outcome,
    prepared,
    reply,
    untouched,
)

MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 16
MOV = b"\x00\x00\x00\x14ftypqt  " + b"\x01" * 3000
OLD_MOV = b"\x00\x00\x08\x00mdat" + b"\x02" * 3000
WEBM = b"\x1aE\xdf\xa3\x9fB\x86\x81\x01" + b"\x03" * 3000
GIF = b"GIF89a" + b"\x04" * 3000


def body(data: bytes, content_type: str = "video/mp4") -> Handler:
    return reply(200, data, {"Content-Type": content_type})


NOT_VIDEOS = {
    "envelope-1002": (body(b'{"code": 1002, "message": "session gone"}', "application/json"),
                      "session gone"),
    "envelope-as-mp4": (body(b'{"code": 1002, "message": "session gone"}'), "session gone"),
    "html": (html(200, "<!DOCTYPE html><html><body>Sign in {auth}</body></html>"), "HTML page"),
    "html-as-mp4": (body(b"<html><body>Access denied</body></html>"), "HTML page"),
    "json-error": (body(b'{"error": "expired signature"}', "application/json"),
                   "expired signature"),
    "xml-s3-error": (body(b"<?xml version='1.0'?><Error><Code>AccessDenied</Code></Error>",
                          "application/xml"), "XML document"),
    "text": (body(b"Service temporarily unavailable", "text/plain"), "text"),
    "empty": (body(b""), "empty body"),
    "unknown-binary": (body(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "image/png"), "unknown format"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(NOT_VIDEOS))
async def test_a_200_that_is_not_a_video_is_a_typed_error_and_saves_nothing(
    hostile: Hostile, tmp_path: Path, secret: str, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    answer, named = NOT_VIDEOS[case]
    hostile.on("GET", "/files/", answer)
    hostile.on("GET", FALLBACK, answer)
    out = prepared(tmp_path)
    result = await download(hostile, tmp_path, secret, f"{hostile.url}/files/out.mp4",
                            out / "out.mp4")  # fmt: skip
    assert isinstance(result, nemovideo.APIError), f"saved a non-video: {result!r}"
    assert named in str(result) and "nothing was saved" in str(result), str(result)
    untouched(out)
    assert hostile.count("GET", "/files/") == 1, "a 200 that is not a video is not a network error"
    assert hostile.count("GET", FALLBACK) == 1, "the fallback source was not tried"
    assert_no_secret([secret], error=result, records=caplog.records)


async def test_the_api_fallback_envelope_is_its_typed_error(
    hostile: Hostile, tmp_path: Path, secret: str
) -> None:
    hostile.on("GET", "/files/", html(200, "<html>login</html>"))
    hostile.on("GET", FALLBACK, body(b'{"code": 1002, "message": "no such session"}',
                                     "application/json"))  # fmt: skip
    out = prepared(tmp_path)
    result = await download(hostile, tmp_path, secret, f"{hostile.url}/files/x.mp4",
                            out / "out.mp4")  # fmt: skip
    assert isinstance(result, nemovideo.SessionNotFoundError), repr(result)
    assert result.code == 1002 and result.http_status == 200
    untouched(out)


async def test_a_cdn_error_page_falls_back_to_the_api_copy(
    hostile: Hostile, tmp_path: Path, secret: str
) -> None:
    hostile.on("GET", "/files/", body(b'{"error": "SignatureExpired"}', "application/json"))
    hostile.on("GET", FALLBACK, body(MP4))
    out = prepared(tmp_path)
    path = await download(hostile, tmp_path, secret, f"{hostile.url}/files/x.mp4",
                          out / "new.mp4")  # fmt: skip
    assert isinstance(path, Path), repr(path)
    assert path.read_bytes() == MP4
    assert leftovers(out) == ["new.mp4", "out.mp4"]


@pytest.mark.parametrize(
    ("data", "content_type"),
    [(MP4, "video/mp4"), (MOV, "video/quicktime"), (OLD_MOV, "application/octet-stream"),
     (WEBM, "video/webm"), (GIF, "image/gif"), (MP4, ""), (MP4, "text/plain")],
    ids=["mp4", "mov", "mov-mdat-first", "webm", "gif", "mp4-no-type", "mp4-mislabelled"],
)  # fmt: skip
async def test_every_video_container_is_saved_whole(
    hostile: Hostile, tmp_path: Path, secret: str, data: bytes, content_type: str
) -> None:
    hostile.on("GET", "/files/", reply(200, data, {"Content-Type": content_type}
                                       if content_type else {}))  # fmt: skip
    path = await download(hostile, tmp_path, secret, f"{hostile.url}/files/v.mp4",
                          tmp_path / "v.mp4")  # fmt: skip
    assert isinstance(path, Path), repr(path)
    assert path.read_bytes() == data
    assert hostile.count("GET", FALLBACK) == 0


async def test_a_gzip_encoded_download_with_a_content_length_is_whole(
    hostile: Hostile, tmp_path: Path, secret: str
) -> None:
    data = MP4 * 64
    packed = gzip.compress(data)
    assert len(packed) < len(data)
    hostile.on("GET", "/files/", reply(200, packed, {"Content-Type": "video/mp4",
                                                    "Content-Encoding": "gzip"}))  # fmt: skip
    seen: list[tuple[int, int]] = []
    hostile.on("GET", POLL, json_text(json.dumps(
        {"status": "completed", "outputUrl": f"{hostile.url}/files/v.mp4"})))  # fmt: skip
    async with client_for(hostile, tmp_path, secret) as client:
        job = await client.renderer.resume("render_1")
        path = await outcome(
            job.download(tmp_path / "v.mp4", progress=lambda d, t: seen.append((d, t)))
        )
    assert isinstance(path, Path), repr(path)
    assert path.read_bytes() == data
    assert hostile.count("GET", "/files/") == 1 and hostile.count("GET", FALLBACK) == 0
    assert seen[-1] == (len(data), len(data)), "progress must count the decoded bytes"


async def test_a_truncated_gzip_download_is_not_saved(
    hostile: Hostile, tmp_path: Path, secret: str
) -> None:
    packed = gzip.compress(MP4 * 64)
    head = (f"HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nContent-Encoding: gzip\r\n"
            f"Content-Length: {len(packed)}\r\n\r\n").encode()  # fmt: skip
    from ._hostile import raw

    hostile.on("GET", "/files/", raw(head + packed[: len(packed) // 2]))
    hostile.on("GET", FALLBACK, raw(head + packed[: len(packed) // 2]))
    out = prepared(tmp_path)
    result = await download(hostile, tmp_path, secret, f"{hostile.url}/files/out.mp4",
                            out / "out.mp4", max_retries=0)  # fmt: skip
    assert isinstance(result, nemovideo.NemoError), repr(result)
    untouched(out)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:99999/v.mp4", "http://[::1", "http://[::1/v.mp4", "ftp://x/v.mp4"]
)
async def test_an_unusable_render_url_falls_back(
    hostile: Hostile, tmp_path: Path, secret: str, url: str
) -> None:
    hostile.on("GET", FALLBACK, body(MP4))
    path = await download(hostile, tmp_path, secret, url, tmp_path / "dl")
    assert isinstance(path, Path), repr(path)
    assert path.name == "dl.mp4" and path.read_bytes() == MP4  # a name without a suffix is a file
    assert hostile.count("GET", FALLBACK) == 1


async def test_an_unusable_render_url_and_a_failing_fallback_is_typed(
    hostile: Hostile, tmp_path: Path, secret: str
) -> None:
    hostile.on("GET", FALLBACK, html(200, "<html>maintenance</html>"))
    out = prepared(tmp_path)
    result = await download(hostile, tmp_path, secret, "http://127.0.0.1:99999/v.mp4",
                            out / "out.mp4")  # fmt: skip
    assert isinstance(result, nemovideo.APIError), repr(result)
    assert "HTML page" in str(result)
    untouched(out)


@pytest.mark.parametrize("name", ["视频" * 41 + ".mp4", "🎬" * 62 + ".mp4"], ids=["cjk", "emoji"])
async def test_a_long_cjk_or_emoji_file_name_is_saved(
    hostile: Hostile, tmp_path: Path, secret: str, name: str
) -> None:
    assert 240 < len(name.encode()) <= 255
    hostile.on("GET", "/files/", body(MP4))
    path = await download(hostile, tmp_path, secret, f"{hostile.url}/files/v.mp4", tmp_path / name)
    assert isinstance(path, Path), repr(path)
    assert path.name == name and path.read_bytes() == MP4
    assert [p for p in leftovers(tmp_path) if p.endswith(".part")] == []


@pytest.mark.parametrize(
    "raw_path",
    ["/files/a%2fb%7E.mp4?sig=ab%2bc%3d&x=a+b", "/files/%E5%86%99.mp4?X-Amz-Signature=0f"],
)
async def test_a_render_url_is_fetched_exactly_as_the_server_wrote_it(
    hostile: Hostile, tmp_path: Path, secret: str, raw_path: str
) -> None:
    hostile.on("GET", "/files/", body(MP4))
    path = await download(hostile, tmp_path, secret, f"{hostile.url}{raw_path}",
                          tmp_path / "v.mp4")  # fmt: skip
    assert isinstance(path, Path), repr(path)
    (seen,) = hostile.requests("GET", "/files/")
    assert seen.raw_path == raw_path
