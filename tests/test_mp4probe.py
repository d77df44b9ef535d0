"""probe_mp4 reads real ffmpeg output (moov first or last, 64-bit boxes) and refuses non-MP4s."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from nemovideo.testing._drafts import bgm_track, make_draft, video_track
from nemovideo.testing._ffmpeg import make_sample_audio, make_sample_image, render_draft
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
