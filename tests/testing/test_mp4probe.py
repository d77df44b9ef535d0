"""probe_mp4 reads real ffmpeg output (moov first or last, 64-bit boxes) and refuses non-MP4s."""

from __future__ import annotations

import math
import re
import struct
import subprocess
from pathlib import Path

import pytest

from nemovideo.testing._render.ffmpeg import (
    RenderError,
    ffmpeg_exe,
    make_sample_audio,
    make_sample_image,
    render_draft,
)
from nemovideo.testing.drafts import bgm_track, make_draft, title_track, video_track
from nemovideo.testing.mp4probe import probe_mp4


async def test_rendered_video_with_audio(tmp_path: Path) -> None:
    await make_sample_image(tmp_path / "m_a.jpg", "A", 64, 36)
    media = [{"media_id": "m_a", "url": "http://cdn/files/m_a.jpg", "kind": "image"}]
    draft = make_draft([video_track(media, 3000), bgm_track("tone", 0.5, 2000)])
    out = await render_draft(draft, tmp_path, tmp_path / "v.mp4", width=128, height=72, fps=12)
    info = probe_mp4(out)
    assert (info.width, info.height, info.codec, info.audio_codec) == (128, 72, "avc1", "mp4a")
    assert info.has_video and info.has_audio and info.size == out.stat().st_size
    assert info.duration_s == pytest.approx(3.0, abs=0.05)
    assert info.fps == pytest.approx(12, abs=0.5)
    assert [t.handler for t in info.tracks] == ["vide", "soun"]


async def test_audio_only_m4a_with_moov_at_the_end(tmp_path: Path) -> None:
    path = await make_sample_audio(tmp_path / "tone.m4a", 1.5)
    data = path.read_bytes()
    assert data.index(b"moov") > data.index(b"mdat"), "ffmpeg writes moov last without faststart"
    info = probe_mp4(path)
    assert info.has_audio and not info.has_video and info.codec is None
    assert info.duration_s == pytest.approx(1.5, abs=0.05) and info.fps is None


async def test_64_bit_box_sizes_and_refusals(tmp_path: Path) -> None:
    source = await make_sample_audio(tmp_path / "a.m4a", 1.0)
    data = source.read_bytes()
    ftyp_size = struct.unpack(">I", data[:4])[0]
    big = tmp_path / "big.mp4"
    free = struct.pack(">I4sQ", 1, b"free", 16 + 8) + bytes(8)
    big.write_bytes(data[:ftyp_size] + free + data[ftyp_size:])
    assert probe_mp4(big).duration_s == pytest.approx(1.0, abs=0.05)

    (tmp_path / "x.txt").write_text("definitely not a video")
    with pytest.raises(ValueError, match="not an MP4"):
        probe_mp4(tmp_path / "x.txt")
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) - 40])
    with pytest.raises(ValueError):
        probe_mp4(cut)
    (tmp_path / "ftyp_only.mp4").write_bytes(data[:ftyp_size])
    with pytest.raises(ValueError, match="no moov"):
        probe_mp4(tmp_path / "ftyp_only.mp4")


def _fitted(image: Path, out: Path) -> Path:
    """``image`` fitted to 160x90 the way the renderer fits a still, as one raw frame."""
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", str(image),
         "-vf", "scale=160:90:force_original_aspect_ratio=decrease,pad=160:90:(ow-iw)/2:(oh-ih)/2,"
         "format=yuv420p", "-f", "rawvideo", str(out)],
        check=True,
    )  # fmt: skip
    return out


def _frame_at(video: Path, seconds: float, out: Path) -> Path:
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-ss", f"{seconds}",
         "-i", str(video), "-frames:v", "1", "-pix_fmt", "yuv420p", "-f", "rawvideo", str(out)],
        check=True,
    )  # fmt: skip
    return out


async def test_stills_decoded_once_render_every_frame_of_the_same_picture(tmp_path: Path) -> None:
    """Each still is decoded and scaled once and repeated (issue 16): the output keeps the
    draft's duration and every frame at the rate, shows the picture itself (fitted to the frame),
    and fades only at the clip's edges."""
    media = []
    for name in ("m_a", "m_b"):
        await make_sample_image(tmp_path / f"{name}.png", name, 64, 48)
        media.append({"media_id": name, "url": f"http://cdn/files/{name}.png", "kind": "image"})
    draft = make_draft([video_track(media, 4000, "fade")])
    out = await render_draft(draft, tmp_path, tmp_path / "v.mp4", width=160, height=90, fps=10)
    info = probe_mp4(out)
    assert info.duration_s == pytest.approx(4.0, abs=0.05)
    assert (info.width, info.height, info.codec) == (160, 90, "avc1")
    assert next(t.samples for t in info.tracks if t.handler == "vide") == 40
    reference = _fitted(tmp_path / "m_b.png", tmp_path / "ref.yuv")
    raw = ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", "160x90"]
    middle = _frame_at(out, 3.0, tmp_path / "mid.yuv")
    start = _frame_at(out, 2.0, tmp_path / "start.yuv")
    assert _psnr_raw(middle, reference, raw) > 30, "mid-clip shows the still itself"
    assert _psnr_raw(start, reference, raw) < _psnr_raw(middle, reference, raw), "faded in"


@pytest.mark.parametrize(("clip_ms", "parts"), [(1000, 3), (1050, 1)])
async def test_a_video_encoded_in_parts_side_by_side_is_the_same_video(
    tmp_path: Path, clip_ms: int, parts: int
) -> None:
    """An MP4 encoded in parts by ffmpegs running side by side, then joined (issue 27), has the
    frames, size, sound and pictures of the same video encoded whole; it is cut only where a clip
    and every clip before it start on a frame (not after one of 1.05 s at 10 fps)."""
    media = []
    for name in ("m_a", "m_b", "m_c"):
        await make_sample_image(tmp_path / f"{name}.png", name, 64, 36)
        media.append({"media_id": name, "url": f"http://cdn/files/{name}.png", "kind": "image"})
    tracks = [video_track(media, 3 * clip_ms, "fade"), bgm_track("tone", 0.5, 2000)]
    draft = make_draft([*tracks, title_track("Hi", 1500)])
    size = {"width": 160, "height": 90, "fps": 10}
    whole = await render_draft(draft, tmp_path, tmp_path / "whole.mp4", **size, jobs=1)
    seen: list[float] = []
    split = await render_draft(
        draft, tmp_path, tmp_path / "split.mp4", **size, jobs=3, progress=seen.append
    )
    facts = [
        (i.duration_s, [(t.handler, t.samples) for t in i.tracks], i.width, i.height, i.codec,
         i.audio_codec)
        for i in (probe_mp4(whole), probe_mp4(split))
    ]  # fmt: skip
    assert facts[0] == facts[1]
    assert next(n for kind, n in facts[0][1] if kind == "vide") == math.ceil(3 * clip_ms / 100)
    assert _psnr_raw(split, whole, []) > 40
    encoders = split.read_bytes().count(b"x264 - core")
    assert (whole.read_bytes().count(b"x264 - core"), encoders) == (1, parts)
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0, abs=0.15)


async def test_a_part_that_fails_fails_the_render_and_leaves_no_file(tmp_path: Path) -> None:
    """When one part's ffmpeg fails (a corrupt still), the render raises ``RenderError`` with
    ffmpeg's words, the other parts are stopped, and nothing is left under the output's name."""
    media = []
    for name in ("m_a", "m_b", "m_c"):
        await make_sample_image(tmp_path / f"{name}.png", name, 64, 36)
        media.append({"media_id": name, "url": f"http://cdn/files/{name}.png", "kind": "image"})
    (tmp_path / "m_c.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a picture")
    out = tmp_path / "v.mp4"
    with pytest.raises(RenderError, match="ffmpeg exited"):
        await render_draft(make_draft([video_track(media, 3000)]), tmp_path, out,
                           width=160, height=90, fps=10, jobs=3)  # fmt: skip
    assert not out.exists() and not (tmp_path / ".v.mp4.part.mp4").exists()


def _psnr_raw(a: Path, b: Path, raw: list[str]) -> float:
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", *raw, "-i", str(a), *raw, "-i", str(b),
         "-lavfi", "[0:v][1:v]psnr", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    found = re.search(r"average:(\S+)", proc.stderr)
    assert found, proc.stderr[-500:]
    return math.inf if found.group(1) == "inf" else float(found.group(1))
