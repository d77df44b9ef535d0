"""Uploads through the public API against the emulator over loopback sockets."""

from __future__ import annotations

import hashlib
import io
import os
import tracemalloc
from pathlib import Path

import pytest
from yarl import URL

import nemovideo
from nemovideo.notebook import progress_bar
from nemovideo.testing import Emulator, fast_client, sample_images

UPLOAD = "/api/upload-video/"
MP4_HEAD = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"


def stored(emu: Emulator, media: nemovideo.upload.UploadedMedia) -> Path:
    assert media.url is not None
    return emu.files_dir / URL(media.url).name


def sparse_mp4(path: Path, size: int) -> Path:
    with path.open("wb") as fh:
        fh.write(MP4_HEAD)
        fh.truncate(size)
    return path


async def test_paths_bytes_and_file_objects_arrive_intact(
    emulator: Emulator, nemo_client: nemovideo.NemoClient
) -> None:
    first, second, third = sample_images()
    session = await nemo_client.create_session()
    with third.open("rb") as fh:
        media = await session.upload([str(first), ("copy.jpg", second.read_bytes()), fh])
    assert [m.name for m in media] == ["city_1.jpg", "copy.jpg", "city_3.jpg"]
    for m, original in zip(media, (first, second, third), strict=True):
        assert stored(emulator, m).read_bytes() == original.read_bytes()
        assert m.kind == "image" and m.size == original.stat().st_size and m.media_id
    infos = emulator.session(session.id).state["video_infos"]
    assert [i["filename"] for i in infos] == ["city_1.jpg", "copy.jpg", "city_3.jpg"]


def _fifo(path: Path) -> Path:
    """A named pipe with no writer: opening it to read would wait forever."""
    os.mkfifo(path)
    return path


@pytest.mark.parametrize(
    ("make_bad", "error", "says"),
    [
        (lambda d: d / "notes.txt", nemovideo.UnsupportedFileError, "Supported formats"),
        (lambda d: sparse_mp4(d / "big.mp4", 200 * 1024 * 1024 + 1),
         nemovideo.FileTooLargeError, "compress the file or trim it"),
        (lambda d: d / "missing.jpg", nemovideo.ValidationError, "no such file"),
        (lambda d: d / "fake.mp4", nemovideo.UnsupportedFileError, "looks like text"),
        (lambda d: d / "empty.png", nemovideo.ValidationError, "empty"),
        (lambda d: d, nemovideo.ValidationError, "not a regular file"),
        (lambda d: _fifo(d / "pipe.mp4"), nemovideo.ValidationError, "not a regular file"),
    ],
)  # fmt: skip
async def test_a_bad_file_stops_the_batch_before_any_byte(
    emulator: Emulator, nemo_client: nemovideo.NemoClient, tmp_path: Path, make_bad: object,
    error: type[Exception], says: str,
) -> None:  # fmt: skip
    (tmp_path / "notes.txt").write_text("shopping list")
    (tmp_path / "fake.mp4").write_text("definitely not a video")
    (tmp_path / "empty.png").write_bytes(b"")
    assert callable(make_bad)
    bad = make_bad(tmp_path)
    session = await nemo_client.create_session()
    with pytest.raises(error, match=says) as info:
        await session.upload([*sample_images(), bad])
    assert bad.name in str(info.value) or str(bad) in str(info.value)
    assert emulator.requests_to(UPLOAD) == []
    assert emulator.session(session.id).state["video_infos"] == []


async def test_file_objects_must_be_binary_and_seekable(
    emulator: Emulator, nemo_client: nemovideo.NemoClient, tmp_path: Path
) -> None:
    session = await nemo_client.create_session()
    text = tmp_path / "a.jpg"
    text.write_bytes(sample_images()[0].read_bytes())
    with text.open("r", encoding="latin-1") as fh, pytest.raises(nemovideo.ValidationError):
        await session.upload([fh])
    unnamed = io.BytesIO(b"\xff\xd8\xff" + b"0" * 10)
    with pytest.raises(nemovideo.ValidationError, match="name"):
        await session.upload([unnamed])
    with pytest.raises(nemovideo.ValidationError, match="at least one"):
        await session.upload([])
    assert emulator.requests_to(UPLOAD) == []


async def test_server_side_limits_map_to_the_same_errors(tmp_path: Path) -> None:
    async with Emulator(max_upload_bytes=5000) as emu, fast_client(emu, tmp_path) as client:
        session = await client.create_session()
        with pytest.raises(nemovideo.FileTooLargeError) as info:
            await session.upload([sample_images()[0]])
        assert info.value.code == 4002
        assert list(emu.files_dir.iterdir()) == [], "a refused upload leaves no file"


async def test_url_uploads_land_in_state_and_bad_urls_never_leave(
    emulator: Emulator, nemo_client: nemovideo.NemoClient
) -> None:
    session = await nemo_client.create_session()
    media = await session.upload_urls(["https://media.example/clips/intro.mp4"])
    assert [m.name for m in media] == ["intro.mp4"] and media[0].kind == "video"
    infos = (await session.state()).video_infos
    assert [i.url for i in infos] == ["https://media.example/clips/intro.mp4"]
    for bad in ("file:///etc/passwd", "ftp://x.example/a.mp4", "not a url", "https:///a.mp4"):
        with pytest.raises(nemovideo.ValidationError):
            await session.upload_urls([bad])
    with pytest.raises(nemovideo.UnsupportedFileError):
        await session.upload_urls(["https://media.example/readme.txt"])
    assert len(emulator.requests_to(UPLOAD)) == 1


async def test_progress_is_monotone_and_ends_at_the_total(
    emulator: Emulator, nemo_client: nemovideo.NemoClient, tmp_path: Path
) -> None:
    video = sparse_mp4(tmp_path / "clip.mp4", 3 * 1024 * 1024 + 17)
    files = [*sample_images(), video]
    total = sum(f.stat().st_size for f in files)
    seen: list[tuple[int, int]] = []
    session = await nemo_client.create_session()
    await session.upload(files, progress=lambda done, of: seen.append((done, of)))
    assert seen[-1] == (total, total)
    assert all(of == total for _, of in seen)
    assert [d for d, _ in seen] == sorted({d for d, _ in seen})
    with progress_bar(desc="upload") as bar:
        await session.upload(files, progress=bar)
        assert bar.n == total


async def test_reset_upload_is_resent_whole_and_stored_once(
    emulator: Emulator, nemo_client: nemovideo.NemoClient, tmp_path: Path
) -> None:
    video = sparse_mp4(tmp_path / "clip.mp4", 2 * 1024 * 1024)
    seen: list[int] = []
    session = await nemo_client.create_session()
    emulator.faults.reset_connection(times=1, path=UPLOAD)
    (media,) = await session.upload([video], progress=lambda d, _: seen.append(d))
    assert len(emulator.requests_to(UPLOAD)) == 2
    digest = hashlib.sha256(video.read_bytes()).hexdigest()
    assert hashlib.sha256(stored(emulator, media).read_bytes()).hexdigest() == digest
    assert len(emulator.session(session.id).state["video_infos"]) == 1
    assert seen == sorted(seen) and seen[-1] == video.stat().st_size


async def test_big_upload_streams_in_bounded_memory(
    emulator: Emulator, nemo_client: nemovideo.NemoClient, tmp_path: Path
) -> None:
    video = sparse_mp4(tmp_path / "big.mp4", 64 * 1024 * 1024)
    session = await nemo_client.create_session()
    tracemalloc.start()
    try:
        (media,) = await session.upload([video])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stored(emulator, media).stat().st_size == video.stat().st_size
    assert peak < 16 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB for a 64 MB upload"


async def test_parallel_uploads_when_asked(emulator: Emulator, tmp_path: Path) -> None:
    async with fast_client(emulator, tmp_path, upload_concurrency=3) as client:
        session = await client.create_session()
        media = await session.upload(sample_images())
    assert [m.name for m in media] == [p.name for p in sample_images()], "results keep input order"
    names = {i["filename"] for i in emulator.session(session.id).state["video_infos"]}
    assert names == {p.name for p in sample_images()}


async def test_a_file_that_shrinks_mid_upload_fails_once_naming_it(
    emulator: Emulator, nemo_client: nemovideo.NemoClient, tmp_path: Path
) -> None:
    """The payload's own ``ValidationError`` comes out as itself: not a network error, not retried
    (uploads are otherwise retried as idempotent), no aiohttp connection details in the text."""
    clip = sparse_mp4(tmp_path / "clip.mp4", 3 * 1024 * 1024)
    session = await nemo_client.create_session()

    def shrink(done: int, total: int) -> None:
        if done and clip.stat().st_size > 100:
            os.truncate(clip, 100)  # after the first 1 MB chunk went out

    with pytest.raises(nemovideo.ValidationError, match=r"clip\.mp4: the file shrank") as info:
        await session.upload([clip], progress=shrink)
    assert not isinstance(info.value, nemovideo.TransportError)
    assert "ConnectionKey" not in str(info.value) and "Connection<" not in str(info.value)
    assert "1048576 of 3145728 bytes" in str(info.value)
    assert len(emulator.requests_to(UPLOAD, "POST")) == 1, "not retried"
    assert emulator.session(session.id).state["video_infos"] == []


async def test_bare_bytes_and_mappings_are_refused_with_the_accepted_forms(
    emulator: Emulator, nemo_client: nemovideo.NemoClient
) -> None:
    jpeg = sample_images()[0].read_bytes()
    session = await nemo_client.create_session()
    cases: list[tuple[object, str]] = [
        (jpeg, "Cannot upload bare bytes: they carry no file name"),
        (bytearray(jpeg), "Cannot upload bare bytearray"),
        ([jpeg], "Cannot upload bare bytes"),
        ({"a.jpg": jpeg}, r"Cannot upload a dict; for name -> bytes pass list\(files.items\(\)\)"),
        (5, "Cannot upload int"),
        ([5], "Cannot upload int"),
    ]
    for files, says in cases:
        with pytest.raises(nemovideo.ValidationError, match=says) as info:
            await session.upload(files)  # type: ignore[arg-type]
        assert "(file name, bytes) pairs like ('a.jpg', data)" in str(info.value)
    assert emulator.requests_to(UPLOAD) == []

    (pair,) = await session.upload(("one.jpg", jpeg))  # type: ignore[arg-type]
    with sample_images()[1].open("rb") as fh:
        (handle,) = await session.upload(fh)  # type: ignore[arg-type]
    assert (pair.name, handle.name) == ("one.jpg", sample_images()[1].name)
    assert stored(emulator, pair).read_bytes() == jpeg


async def test_urls_without_an_extension_are_left_to_the_server(
    emulator: Emulator, nemo_client: nemovideo.NemoClient
) -> None:
    """Many CDN URLs have no extension; only a known-bad one (``.php``) is refused locally."""
    session = await nemo_client.create_session()
    for url in ("https://example.com/image?id=3", "https://cdn.example.com/v/abc/"):
        sent = len(emulator.requests_to(UPLOAD))
        with pytest.raises(nemovideo.UnsupportedFileError) as info:
            await session.upload_urls([url])
        assert info.value.http_status is not None, "the server's 4001, not a local check"
        assert len(emulator.requests_to(UPLOAD)) == sent + 1
        assert emulator.requests_to(UPLOAD)[-1].json == {"urls": [url], "source_type": "url"}
    sent = len(emulator.requests_to(UPLOAD))
    with pytest.raises(nemovideo.UnsupportedFileError, match="Unsupported file format"):
        await session.upload_urls(["https://example.com/view.php?id=3"])
    assert len(emulator.requests_to(UPLOAD)) == sent
    (media,) = await session.upload_urls(["https://example.com/img/photo.JPG?w=300"])
    assert media.kind == "image"


async def test_file_names_with_spaces_quotes_and_unicode_arrive_as_written(
    nemo_client: nemovideo.NemoClient, emulator: Emulator, tmp_path: Path
) -> None:
    names = ["city 1.jpg", '城市 "2".jpg']
    for name, image in zip(names, sample_images(), strict=False):
        (tmp_path / name).write_bytes(image.read_bytes())
    session = await nemo_client.create_session()
    media = await session.upload([tmp_path / n for n in names])
    assert [m.info.filename for m in media] == names
    infos = emulator.session(session.id).state["video_infos"]
    assert [i["filename"] for i in infos] == names
