"""Hostile downloads: redirects without a target or in a loop, answers that are not a video, bodies
shorter than announced, and local targets that cannot take the file. Nothing lost: no file appears
under the final name unless it is whole, a file already there survives a failure, and no temp file
is left behind."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import nemovideo

from ._hostile import (
    FALLBACK,
    VIDEO,
    Handler,
    Hostile,
    assert_no_secret,
    download,
    html,
    json_text,
    leftovers,
    prepared,
    raw,
    reply,
    untouched,
)


def video(body: bytes = VIDEO) -> Handler:
    return reply(200, body, {"Content-Type": "video/mp4"})


def redirect(status: int, location: str | None) -> Handler:
    return reply(status, b"", {"Location": location} if location is not None else {})


@pytest.mark.parametrize(
    "answer",
    [
        redirect(302, None),
        redirect(301, ""),
        html(404, "<h1>Not found</h1><!-- {auth} -->"),
        html(500, "<h1>Oops</h1>{auth}"),
        json_text('{"code": 1, "message": "denied for {token}"}', 403),
        reply(204),
        reply(206, VIDEO[:100], {"Content-Type": "video/mp4", "Content-Range": "bytes 0-99/9999"}),
    ],
    ids=["302-no-location", "301-empty-location", "404-html", "500-html", "403-json", "204", "206"],
)
async def test_an_answer_that_is_not_the_video_saves_nothing(
    hostile: Hostile, tmp_path: Path, secret: str, caplog: pytest.LogCaptureFixture,
    answer: Handler,
) -> None:  # fmt: skip
    hostile.on("GET", "/files/", answer)
    hostile.on("GET", FALLBACK, answer)
    out = prepared(tmp_path)
    result = await download(
        hostile, tmp_path, secret, f"{hostile.url}/files/out.mp4", out / "out.mp4"
    )
    assert isinstance(result, nemovideo.NemoError), f"saved a non-video: {result!r}"
    untouched(out)
    assert_no_secret([secret], error=result, records=caplog.records)


async def test_a_redirect_to_another_host_carries_no_token_and_no_attribution(
    hostile: Hostile, tmp_path: Path, secret: str
) -> None:
    async with Hostile() as cdn:
        cdn.on("GET", "/cdn/", video())
        hostile.on("GET", "/files/", redirect(302, f"{cdn.url}/cdn/a.mp4"))
        out = tmp_path / "out"
        path = await download(
            hostile, tmp_path, secret, f"{hostile.url}/files/a.mp4", out / "a.mp4"
        )
    assert isinstance(path, Path), repr(path)
    assert path.read_bytes() == VIDEO
    (seen,) = cdn.seen
    leaked = [
        h for h in seen.headers if h.lower() == "authorization" or h.lower().startswith("x-skill")
    ]
    assert leaked == [], f"the other host got {leaked}"
    assert hostile.requests("GET", "/files/")[0].headers.get("Authorization") == f"Bearer {secret}"


@pytest.mark.parametrize("host", ["other-port", "localhost-same-port"])
async def test_an_output_url_on_another_origin_carries_no_token(
    hostile: Hostile, tmp_path: Path, secret: str, host: str
) -> None:
    async with Hostile() as cdn:
        cdn.on("GET", "/", video())
        hostile.on("GET", "/files/", video())
        url = (f"{cdn.url}/cdn/a.mp4" if host == "other-port"
               else f"http://localhost:{hostile.port}/files/a.mp4")  # fmt: skip
        path = await download(hostile, tmp_path, secret, url, tmp_path / "a.mp4")
        seen = cdn.seen if host == "other-port" else hostile.requests("GET", "/files/")
    assert isinstance(path, Path), repr(path)
    assert [s.headers.get("Authorization") for s in seen] == [None]
    assert not any(h.lower().startswith("x-skill") for s in seen for h in s.headers)


@pytest.mark.parametrize(
    "answer",
    [
        redirect(302, "/files/out.mp4"),
        redirect(307, "/files/other.mp4"),
        redirect(302, "file:///etc/passwd"),
        redirect(302, "javascript:alert(1)"),
        redirect(302, "http://[::1"),
    ],
    ids=["self-loop", "ping-pong", "file-scheme", "javascript", "broken-url"],
)
async def test_a_redirect_loop_or_a_bad_location_is_a_typed_error(
    hostile: Hostile, tmp_path: Path, secret: str, answer: Handler
) -> None:
    hostile.on("GET", "/files/out.mp4", answer)
    hostile.on("GET", "/files/other.mp4", redirect(307, "/files/out.mp4"))
    hostile.on("GET", FALLBACK, answer)
    out = prepared(tmp_path)
    result = await download(
        hostile, tmp_path, secret, f"{hostile.url}/files/out.mp4", out / "out.mp4"
    )
    assert isinstance(result, nemovideo.NemoError), repr(result)
    untouched(out)
    assert hostile.count() <= 1 + 2 * 2 * 6, "a poll, then at most 6 hops x 2 tries x 2 sources"


def truncated(close: bool) -> Handler:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nContent-Length: %d\r\n\r\n" % len(VIDEO)
    return raw(head + VIDEO[: len(VIDEO) // 2], close=close)


@pytest.mark.parametrize("close", [True, False], ids=["closed", "stalled"])
async def test_a_body_shorter_than_its_content_length_is_retried_then_a_typed_error(
    hostile: Hostile, tmp_path: Path, secret: str, close: bool
) -> None:
    hostile.on("GET", "/files/", truncated(close))
    hostile.on("GET", FALLBACK, truncated(close))
    out = prepared(tmp_path)
    result = await download(hostile, tmp_path, secret, f"{hostile.url}/files/out.mp4",
                            out / "out.mp4", request_timeout=0.3)  # fmt: skip
    assert isinstance(result, nemovideo.TransportError), repr(result)
    assert hostile.count("GET", "/files/") == 2, "retried once (max_retries=1)"
    assert hostile.count("GET", FALLBACK) == 2
    untouched(out)


async def test_a_short_body_then_a_whole_one_saves_the_whole_one(
    hostile: Hostile, tmp_path: Path, secret: str
) -> None:
    from ._hostile import sequence

    hostile.on("GET", "/files/", sequence(truncated(True), video()))
    out = prepared(tmp_path)
    path = await download(
        hostile, tmp_path, secret, f"{hostile.url}/files/new.mp4", out / "new.mp4"
    )
    assert isinstance(path, Path), repr(path)
    assert path.read_bytes() == VIDEO
    assert leftovers(out) == ["new.mp4", "out.mp4"]


async def test_a_target_that_is_an_existing_directory_is_a_download_error(
    hostile: Hostile, tmp_path: Path, secret: str
) -> None:
    hostile.on("GET", "/files/", video())
    out = tmp_path / "videos"
    (out / "clip.mp4").mkdir(parents=True)
    result = await download(hostile, tmp_path, secret, f"{hostile.url}/files/clip.mp4", out)
    assert isinstance(result, nemovideo.DownloadError), repr(result)
    assert "directory" in str(result)
    assert leftovers(out) == ["clip.mp4"] and (out / "clip.mp4").is_dir()
    assert hostile.count("GET", "/files/") == 0, "refused before fetching a byte"


@contextlib.contextmanager
def tmpfs(where: Path, *options: str) -> Iterator[Path]:
    """A tiny tmpfs at ``where`` (root only); skips the test when it cannot be mounted."""
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join(options), "tmpfs", str(where)],
                          capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or done.returncode})")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


@contextlib.contextmanager
def not_writable(where: Path) -> Iterator[Path]:
    """A directory this process truly cannot write to: mode 0o500, or for root (which ignores
    modes) a read-only tmpfs."""
    where.mkdir(parents=True)
    where.chmod(0o500)
    try:
        if not os.access(where, os.W_OK):
            yield where
            return
    finally:
        where.chmod(0o700)
    with tmpfs(where, "ro", "size=64k") as mounted:
        assert not os.access(mounted, os.W_OK) or _read_only(mounted)
        yield mounted


def _read_only(path: Path) -> bool:
    return bool(os.statvfs(path).f_flag & os.ST_RDONLY)


async def test_a_directory_that_is_not_writable_is_a_download_error(
    hostile: Hostile, tmp_path: Path, secret: str
) -> None:
    hostile.on("GET", "/files/", video())
    with not_writable(tmp_path / "locked") as locked:
        result = await download(hostile, tmp_path, secret, f"{hostile.url}/files/a.mp4",
                                locked / "a.mp4")  # fmt: skip
        assert isinstance(result, nemovideo.DownloadError), repr(result)
        assert "writable" in str(result) or "read-only" in str(result), str(result)
        assert leftovers(locked) == []


@pytest.mark.parametrize(
    "target", ["/proc/self/out.mp4", "/proc/self/fdinfo/"], ids=["proc", "proc-dir"]
)
async def test_a_target_under_proc_is_a_typed_error(
    hostile: Hostile, tmp_path: Path, secret: str, target: str
) -> None:
    hostile.on("GET", "/files/", video())
    result = await download(hostile, tmp_path, secret, f"{hostile.url}/files/a.mp4", Path(target))
    assert isinstance(result, nemovideo.NemoError), repr(result)


@pytest.mark.parametrize(
    "name", ["a" * 300, "日" * 90, "b" * 251], ids=["300-chars", "270-bytes", "255-bytes"]
)
async def test_a_server_file_name_too_long_is_a_download_error_or_a_shorter_name(
    hostile: Hostile, tmp_path: Path, secret: str, name: str
) -> None:
    hostile.on("GET", "/files/", video())
    out = tmp_path / "out"
    out.mkdir()
    result = await download(hostile, tmp_path, secret, f"{hostile.url}/files/{name}.mp4", out)
    files = leftovers(out)
    if isinstance(result, nemovideo.NemoError):
        assert isinstance(result, nemovideo.DownloadError), repr(result)
        assert files == [], files
    else:
        assert files == [result.name] and len(result.name.encode()) <= 255
        assert result.read_bytes() == VIDEO


async def test_a_full_disk_is_a_download_error_and_leaves_nothing(
    hostile: Hostile, tmp_path: Path, secret: str
) -> None:
    hostile.on("GET", "/files/", video(VIDEO * 64))  # 256 KiB into a 64 KiB file system
    with tmpfs(tmp_path / "small", "size=64k") as small:
        result = await download(
            hostile, tmp_path, secret, f"{hostile.url}/files/a.mp4", small / "a.mp4"
        )
        assert isinstance(result, nemovideo.DownloadError), repr(result)
        assert "full" in str(result), str(result)
        assert leftovers(small) == []
        assert hostile.count("GET", "/files/") == 1, "a full disk is not retried"
