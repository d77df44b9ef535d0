"""A real renderer for the emulator: a draft in the emulator's form in, an H.264 MP4 out.

The ffmpeg binary comes from the ``imageio-ffmpeg`` package (the ``emulator`` extra); nothing is
downloaded at run time. ffmpeg runs as an asyncio subprocess so a render never blocks the emulator's
event loop::

    out = await render_draft(draft, emu.files_dir, emu.files_dir / "job.mp4", width=320, height=180)

What is rendered (the draft form is docs/protocol.md's "The draft"), simply and deterministically:

- the first non-empty video track (``tt`` 0): each segment shows its image (a still, decoded and
  scaled once, then repeated) or video, letterboxed to the frame, for exactly its duration; gaps
  and a missing source are a coloured placeholder; ``transition: "fade"`` fades through black over
  ``transition_ms`` at both ends, which keeps every clip's timing identical to the draft;
- audio tracks (``tt`` 1): each segment at its ``volume`` from its start; a missing source is a
  generated tone, so the mix is audible and testable;
- text tracks (``tt`` 7): burned in with ``drawtext`` (DejaVu Sans) when the font is installed.

An MP4 or MOV is encoded with x264 at a constant QP; a large one (``PARALLEL_MIN_PIXELS``) in
parts by several ffmpegs at once, joined without encoding again (``render_draft``'s ``jobs``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import math
import os
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import attrs
from yarl import URL

from nemovideo._util.numbers import finite_float
from nemovideo._util.tasks import gather_or_cancel
from nemovideo.draft._model import Draft, Segment, TrackType

__all__ = [
    "FONT",
    "RenderError",
    "ffmpeg_exe",
    "make_sample_audio",
    "make_sample_image",
    "render_draft",
]

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
AUDIO_RATE = 44100
_STDERR_TAIL = 2000
STALL_S = 8.0
ATTEMPTS = 3
_WORK_COUNTERS = frozenset({"frame", "out_time_us", "total_size"})
ProgressFn = Callable[[float], None]


class RenderError(RuntimeError):
    """ffmpeg failed; the message ends with the tail of its stderr."""


MISSING_FFMPEG = (
    "The emulator renders with the ffmpeg of the imageio-ffmpeg package, which is not installed: "
    "pip install 'nemovideo[emulator]' (from a clone: pip install -e '.[emulator,cli]'), "
    "or set IMAGEIO_FFMPEG_EXE to an ffmpeg binary."
)


def ffmpeg_exe() -> str:
    """The ffmpeg binary shipped by ``imageio-ffmpeg`` (``IMAGEIO_FFMPEG_EXE`` overrides it);
    ``RenderError`` naming the extra to install when neither is there."""
    override = os.environ.get("IMAGEIO_FFMPEG_EXE")
    if override:
        return override
    try:
        import imageio_ffmpeg
    except ImportError:
        raise RenderError(MISSING_FFMPEG) from None
    exe: str = imageio_ffmpeg.get_ffmpeg_exe()
    return exe


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def _color(seed: str) -> str:
    return "0x" + hashlib.sha256(seed.encode()).hexdigest()[:6]


def _filter_path(path: Path) -> str:
    """A path quoted for a filter-graph option value."""
    escaped = str(path).replace("\\", "\\\\").replace("'", "\\'").replace(":", "\\:")
    return f"'{escaped}'"


def _font_available() -> bool:
    return FONT.is_file()


def _write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _local(src: str | None, files_dir: Path) -> Path | None:
    """The local file a segment's ``src`` names (``files_dir / URL(src).name``), if it exists."""
    if not src:
        return None
    name = URL(src).name if "://" in src else Path(src).name
    if not name or name.startswith(".") or "/" in name or "\\" in name:
        return None
    path = files_dir / name
    return path if path.is_file() else None


async def _run(args: Sequence[str], progress: ProgressFn | None = None, total_s: float = 0) -> None:
    """Run ffmpeg; feed ``progress`` (0-1) from its ``-progress`` output; raise RenderError.

    The ffmpeg 7 binary that imageio-ffmpeg ships deadlocks now and then (about one run in 40 of
    a render with filters: its worker threads parked, no exit), while its main thread goes on
    writing the same ``-progress`` block every half second. So ``STALL_S`` seconds in which the
    work counters (``frame``, ``out_time_us``, ``total_size``) do not move, or nothing is
    written at all, means that deadlock: the process is killed and the same command (``-y``
    overwrites the output) runs again, up to ``ATTEMPTS`` times in all.
    """
    for attempt in range(1, ATTEMPTS + 1):
        try:
            await _run_once(args, progress, total_s)
            return
        except _Stalled:
            if attempt == ATTEMPTS:
                raise RenderError(
                    f"ffmpeg stalled (no progress for {STALL_S:g} s) in {ATTEMPTS} attempts"
                ) from None


class _Stalled(Exception):
    """ffmpeg wrote no progress for ``STALL_S`` seconds."""


async def _run_once(args: Sequence[str], progress: ProgressFn | None, total_s: float) -> None:
    proc = await asyncio.create_subprocess_exec(
        ffmpeg_exe(),
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "error",
        "-y",
        "-progress",
        "pipe:1",
        "-nostats",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None

    async def read_progress(stream: asyncio.StreamReader) -> None:
        loop = asyncio.get_running_loop()
        counters: dict[str, str] = {}
        moved = loop.time()
        while True:
            try:
                line = await asyncio.wait_for(stream.readline(), STALL_S)
            except asyncio.TimeoutError:
                raise _Stalled from None
            if not line:
                return
            key, _, value = line.decode("ascii", "replace").strip().partition("=")
            if key in _WORK_COUNTERS and counters.get(key) != value:
                counters[key] = value
                moved = loop.time()
            elif loop.time() - moved > STALL_S:
                raise _Stalled
            if key == "out_time_us" and progress is not None and total_s > 0:
                with contextlib.suppress(ValueError):
                    progress(min(1.0, max(0.0, int(value) / 1e6 / total_s)))

    try:
        _, err, _ = await asyncio.gather(
            read_progress(proc.stdout), proc.stderr.read(), proc.wait()
        )
    except BaseException:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        raise
    if proc.returncode != 0:
        tail = err.decode("utf-8", "replace")[-_STDERR_TAIL:].strip()
        raise RenderError(f"ffmpeg exited with {proc.returncode}: {tail}")


class _Graph:
    """Inputs and filter chains of one ffmpeg command, built up segment by segment."""

    def __init__(self, width: int, height: int, fps: int) -> None:
        self.w, self.h, self.fps = width, height, fps
        self.inputs: list[str] = []
        self.chains: list[str] = []
        self._n = 0

    def add_input(self, *args: str) -> int:
        self.inputs += args
        self._n += 1
        return self._n - 1

    def _label(self, prefix: str) -> str:
        return f"{prefix}{len(self.chains)}"

    def still(self, seconds: float, color: str) -> str:
        idx = self.add_input(
            "-f", "lavfi", "-i", f"color=c={color}:s={self.w}x{self.h}:r={self.fps}:d={seconds:.3f}"
        )
        label = self._label("v")
        self.chains.append(f"[{idx}:v]setsar=1,format=yuv420p[{label}]")
        return label

    def clip(self, seg: Segment, path: Path | None, seconds: float, index: int) -> str:
        if path is None:
            return self._faded(self.still(seconds, _color(seg.src or str(index))), seg, seconds)
        fit = (
            f"scale={self.w}:{self.h}:force_original_aspect_ratio=decrease,"
            f"pad={self.w}:{self.h}:(ow-iw)/2:(oh-ih)/2,setsar=1"
        )
        label = self._label("v")
        if (seg.kind or "image") == "video":
            idx = self.add_input("-stream_loop", "-1", "-t", f"{seconds:.3f}", "-i", str(path))
            self.chains.append(
                f"[{idx}:v]{fit},fps={self.fps},format=yuv420p,"
                f"trim=duration={seconds:.3f},setpts=PTS-STARTPTS[{label}]"
            )
        else:
            idx = self.add_input("-framerate", str(self.fps), "-i", str(path))
            frames = math.ceil(seconds * self.fps) + 1
            self.chains.append(
                f"[{idx}:v]trim=end_frame=1,{fit},format=yuv420p,"
                f"loop=loop={frames - 1}:size=1:start=0,settb=1/{self.fps},setpts=N,"
                f"trim=duration={seconds:.3f},setpts=PTS-STARTPTS[{label}]"
            )
            return self._faded_still(label, seg, seconds)
        return self._faded(label, seg, seconds)

    def _fade_s(self, seg: Segment, seconds: float) -> float:
        meta = seg.meta
        if str(meta.get("transition", "none")) != "fade":
            return 0.0
        return min((finite_float(meta.get("transition_ms")) or 500) / 1000, seconds / 2)

    def _faded_still(self, label: str, seg: Segment, seconds: float) -> str:
        """Fade a repeated still only where it fades: the frames between play the one frame.

        ``fade`` writes into every frame it is given, so a whole repeated still would be copied
        frame by frame; split at the fade edges (same timestamps, so the same pixels as one fade
        over the whole clip), only the frames inside the fades are processed.
        """
        fade = self._fade_s(seg, seconds)
        if fade * self.fps < 3 or (seconds - 2 * fade) * self.fps < 3:
            return self._faded(label, seg, seconds)
        head, body, tail, out = (f"{label}{part}" for part in ("h", "b", "t", "f"))
        rest = seconds - fade
        self.chains += [
            f"[{label}]split=3[{head}][{body}][{tail}]",
            f"[{head}]trim=end={fade:.3f},fade=t=in:st=0:d={fade:.3f},setpts=PTS-STARTPTS[{head}o]",
            f"[{body}]trim=start={fade:.3f}:end={rest:.3f},setpts=PTS-STARTPTS[{body}o]",
            f"[{tail}]trim=start={rest:.3f},fade=t=out:st={rest:.3f}:d={fade:.3f},"
            f"setpts=PTS-STARTPTS[{tail}o]",
            f"[{head}o][{body}o][{tail}o]concat=n=3:v=1:a=0[{out}]",
        ]
        return out

    def _faded(self, label: str, seg: Segment, seconds: float) -> str:
        fade = self._fade_s(seg, seconds)
        if fade <= 0:
            return label
        out = self._label("f")
        self.chains.append(
            f"[{label}]fade=t=in:st=0:d={fade:.3f},"
            f"fade=t=out:st={seconds - fade:.3f}:d={fade:.3f}[{out}]"
        )
        return out

    def audio(self, seg: Segment, path: Path | None, index: int) -> str:
        seconds = seg.duration_ms / 1000
        if path is None:
            freq = 220 * (1 + index % 4)
            idx = self.add_input(
                "-f",
                "lavfi",
                "-i",
                f"sine=frequency={freq}:sample_rate={AUDIO_RATE}:duration={seconds:.3f}",
            )
        else:
            idx = self.add_input("-stream_loop", "-1", "-t", f"{seconds:.3f}", "-i", str(path))
        volume = seg.volume if seg.volume is not None else 1.0
        delay = int(seg.start_ms)
        label = self._label("a")
        self.chains.append(
            f"[{idx}:a]aformat=sample_rates={AUDIO_RATE}:channel_layouts=stereo,"
            f"atrim=duration={seconds:.3f},asetpts=PTS-STARTPTS,volume={volume:.4f},"
            f"adelay={delay}|{delay}[{label}]"
        )
        return label


def _video_segments(draft: Draft) -> list[Segment]:
    for track in draft.tracks:
        if track.type == TrackType.VIDEO and track.segments:
            return sorted(track.segments, key=lambda s: s.start_ms)
    return []


def _drawtext(seg: Segment, textfile: Path, height: int, offset: float = 0.0) -> str:
    """``drawtext`` for a text segment, its times taken from ``offset`` seconds into the video."""
    meta = seg.meta
    size = max(8, min(round((finite_float(meta.get("font_size")) or 48) * height / 1080), height))
    y = "h-text_h-h/12" if meta.get("position") == "bottom" else "(h-text_h)/2"
    return (
        f"drawtext=fontfile={_filter_path(FONT)}:textfile={_filter_path(textfile)}:"
        f"fontsize={size}:fontcolor=white:borderw={max(1, size // 16)}:bordercolor=black:"
        f"x=(w-text_w)/2:y={y}:"
        f"enable='between(t,{seg.start_ms / 1000 - offset:.3f},{seg.end_ms / 1000 - offset:.3f})'"
    )


_MUXER = {"mp4": "mp4", "mov": "mov", "webm": "webm", "gif": "gif"}
#: Constant QP rather than CRF: on the 1080p demo slideshow CRF's per-frame rate analysis made
#: the encode take 1.3x the CPU of QP 16 (QP: 0.72-0.77x of CRF's, interleaved rounds). QP 16
#: keeps CRF 20's quality (PSNR against a lossless encode of the demo: 57.3 dB average, 56.0
#: minimum; CRF 20: 59.4, 54.9) in a smaller file (3.1 MB; CRF 20: 3.3 MB).
_X264_QP = {"low": "28", "medium": "22", "high": "16"}
_VP8_CRF = {"low": "40", "medium": "24", "high": "10"}
#: Below this many pixels (width x height x frames) one ffmpeg is quicker than several.
PARALLEL_MIN_PIXELS = 1280 * 720 * 60
MAX_JOBS = 8


def _video_codec(format: str, quality: str, preset: str, fps: int) -> list[str]:
    """The ffmpeg video encoder arguments for ``format`` at ``quality`` (an unknown one: MP4)."""
    if format == "gif":
        return ["-c:v", "gif", "-r", str(min(fps, 15))]
    if format == "webm":
        return [
            "-c:v",
            "libvpx",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-b:v",
            "2M",
            "-crf",
            _VP8_CRF.get(quality, "10"),
            "-pix_fmt",
            "yuv420p",
            "-r",
            str(fps),
        ]
    return [
        "-c:v",
        "libx264",
        "-preset",
        preset,
        "-qp",
        _X264_QP.get(quality, "16"),
        "-pix_fmt",
        "yuv420p",
        "-r",
        str(fps),
    ]


@attrs.frozen
class _Piece:
    """A stretch of the video timeline: a segment's clip, or black where no segment is."""

    start: float
    seconds: float
    clip: tuple[Segment, Path | None, int] | None = None
    """The segment, its local file (None for a remote one), its index; None for black."""

    def add(self, graph: _Graph) -> str:
        if self.clip is None:
            return graph.still(self.seconds, "black")
        seg, path, index = self.clip
        return graph.clip(seg, path, self.seconds, index)


def _pieces(model: Draft, files_dir: Path, total: float) -> list[_Piece]:
    pieces: list[_Piece] = []
    cursor = 0.0
    for i, seg in enumerate(_video_segments(model)):
        start, end = seg.start_ms / 1000, seg.end_ms / 1000
        if start > cursor + 1e-3:
            pieces.append(_Piece(cursor, start - cursor))
        begin = max(start, cursor)
        if end - begin > 1e-3:
            pieces.append(_Piece(begin, end - begin, (seg, _local(seg.src, files_dir), i)))
        cursor = max(cursor, end)
    if total - cursor > 1e-3:
        pieces.append(_Piece(cursor, total - cursor))
    return pieces


def _chunks(pieces: list[_Piece], fps: int, total: float, jobs: int) -> list[list[_Piece]]:
    """``pieces`` in at most ``jobs`` runs of about equal length, cut only where this piece and
    every one before it start on a frame, so the runs' frames put end to end are exactly those
    of the whole (a piece that ends between frames shifts the ones after it by its last frame)."""
    cuts = list(
        itertools.takewhile(
            lambda n: abs(pieces[n].start * fps - round(pieces[n].start * fps)) < 1e-6,
            range(1, len(pieces)),
        )
    )
    chosen: list[int] = []
    for k in range(1, jobs):
        if cuts:
            best = min(cuts, key=lambda n: abs(pieces[n].start - total * k / jobs))
            if best not in chosen:
                chosen.append(best)
    bounds = [0, *sorted(chosen), len(pieces)]
    return [pieces[a:b] for a, b in itertools.pairwise(bounds)]


def _auto_jobs(width: int, height: int, fps: int, total: float) -> int:
    cpus = os.cpu_count() or 1
    if cpus < 2 or width * height * fps * total < PARALLEL_MIN_PIXELS:
        return 1
    return min(cpus + 1, MAX_JOBS)


def _texts(model: Draft, folder: Path) -> list[tuple[Segment, Path]]:
    """The text segments to burn in, each with the file its text is written to (none without
    the font)."""
    if not _font_available():
        return []
    segs = [
        seg
        for track in model.tracks
        if track.type == TrackType.TEXT
        for seg in track.segments
        if seg.text
    ]
    return [
        (seg, _write_text(folder / f"text{n}.txt", seg.text or "")) for n, seg in enumerate(segs)
    ]


def _video(
    graph: _Graph, pieces: list[_Piece], texts: list[tuple[Segment, Path]], height: int
) -> str:
    """Add ``pieces`` (with the texts shown over them) to ``graph``; the output's label."""
    offset = pieces[0].start
    span = pieces[-1].start + pieces[-1].seconds - offset
    parts = [piece.add(graph) for piece in pieces]
    graph.chains.append("".join(f"[{p}]" for p in parts) + f"concat=n={len(parts)}:v=1:a=0[vcat]")
    shown = [
        _drawtext(seg, path, height, offset)
        for seg, path in texts
        if seg.end_ms / 1000 > offset and seg.start_ms / 1000 < offset + span
    ]
    if not shown:
        return "vcat"
    graph.chains.append(f"[vcat]{','.join(shown)}[vtext]")
    return "vtext"


async def _render_chunks(
    chunks: list[list[_Piece]],
    texts: list[tuple[Segment, Path]],
    folder: Path,
    size: tuple[int, int, int],
    codecs: list[str],
    progress: ProgressFn | None,
) -> Path:
    """Encode each run of pieces by its own ffmpeg, all at once; a concat list of the parts.

    One ffmpeg keeps little more than one core busy on a 1080p slideshow (the demo: 3.0 s wall
    for 3.4 s CPU on two idle cores), so runs encoded side by side finish sooner; the parts are
    joined without encoding again.
    """
    width, height, fps = size
    spans = [sum(p.seconds for p in chunk) for chunk in chunks]
    total = sum(spans)
    done = [0.0] * len(chunks)
    threads = ["-threads", str(max(1, (os.cpu_count() or 1) // len(chunks)))]

    def reporter(k: int) -> ProgressFn | None:
        if progress is None:
            return None

        def report(fraction: float) -> None:
            done[k] = fraction * spans[k]
            progress(min(1.0, sum(done) / total))

        return report

    outs = [folder / f"part{k}.mp4" for k in range(len(chunks))]
    runs: list[Awaitable[None]] = []
    for k, chunk in enumerate(chunks):
        graph = _Graph(width, height, fps)
        video = _video(graph, chunk, texts, height)
        args = [
            *graph.inputs,
            "-filter_complex",
            ";".join(graph.chains),
            "-map",
            f"[{video}]",
            *codecs,
            *threads,
            "-t",
            f"{spans[k]:.3f}",
            str(outs[k]),
        ]
        runs.append(_run(args, reporter(k), spans[k]))
    await gather_or_cancel(*runs)
    listing = folder / "parts.txt"
    listing.write_text("".join(f"file '{out.name}'\n" for out in outs), encoding="utf-8")
    return listing


async def render_draft(
    draft: dict[str, Any],
    files_dir: Path,
    out: Path,
    *,
    width: int = 1920,
    height: int = 1080,
    fps: int = 30,
    progress: ProgressFn | None = None,
    preset: str = "ultrafast",
    format: str = "mp4",
    quality: str = "high",
    jobs: int | None = None,
) -> Path:
    """Render ``draft`` to ``out`` (written to a temp name, then renamed) as ``format``: an H.264
    MP4 or MOV, a VP8 WebM, or a GIF (no sound), smaller and softer at a lower ``quality``.

    Sources resolve as ``files_dir / URL(src).name``; ``progress(fraction)`` follows ffmpeg.
    An MP4 or MOV is encoded in up to ``jobs`` parts side by side (cut where a clip starts on a
    frame), then joined; ``None`` picks by size and cores (one for a small video), ``1`` never
    splits. Raises ``ValueError`` for a draft with nothing to show, ``RenderError`` when ffmpeg
    fails.
    """
    model = Draft.from_json(draft)
    if not model.ready_for_export:
        raise ValueError("The draft has no segments to render")
    total = max((t.end_ms for t in model.tracks), default=0.0) / 1000
    if total <= 0:
        raise ValueError("The draft's duration is zero")
    width, height = _even(width), _even(height)
    pieces = _pieces(model, files_dir, total)
    if jobs is None:
        jobs = _auto_jobs(width, height, fps, total)
    chunks = _chunks(pieces, fps, total, jobs) if format in ("mp4", "mov") else [pieces]

    with tempfile.TemporaryDirectory(prefix="nemo-render-") as tmp:
        folder = Path(tmp)
        texts = _texts(model, folder)
        codecs = _video_codec(format, quality, preset, fps)
        graph = _Graph(width, height, fps)
        if len(chunks) > 1:
            listing = await _render_chunks(
                chunks, texts, folder, (width, height, fps), codecs, progress
            )
            graph.add_input("-f", "concat", "-safe", "0", "-i", str(listing))
            maps, codecs = ["-map", "0:v"], ["-c:v", "copy"]
        else:
            maps = ["-map", f"[{_video(graph, pieces, texts, height)}]"]
        sounds = [
            graph.audio(seg, _local(seg.src, files_dir), n)
            for track in model.tracks
            if track.type == TrackType.AUDIO
            for n, seg in enumerate(track.segments)
            if seg.duration_ms > 0
        ]
        if sounds and format != "gif":
            graph.chains.append(
                "".join(f"[{s}]" for s in sounds)
                + f"amix=inputs={len(sounds)}:normalize=0:duration=longest,"
                f"apad=whole_dur={total:.3f},atrim=duration={total:.3f}[aout]"
            )
            maps += ["-map", "[aout]"]
            codecs += (
                ["-c:a", "libopus", "-b:a", "96k", "-ar", "48000"]
                if format == "webm"
                else ["-c:a", "aac", "-b:a", "128k", "-ar", str(AUDIO_RATE)]
            )
        if format in ("mp4", "mov"):
            codecs += ["-movflags", "+faststart"]
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(f".{out.name}.part.{_MUXER.get(format, 'mp4')}")
        filters = ["-filter_complex", ";".join(graph.chains)] if graph.chains else []
        args = [*graph.inputs, *filters, *maps, *codecs, "-t", f"{total:.3f}", str(partial)]
        try:
            await _run(args, None if len(chunks) > 1 else progress, total)
            os.replace(partial, out)
        finally:
            with contextlib.suppress(OSError):
                partial.unlink()
    return out


async def make_sample_image(path: str | Path, text: str, w: int = 640, h: int = 360) -> Path:
    """A ``w`` x ``h`` image (format from the suffix: .jpg, .png, .webp) with ``text`` on a colour."""
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="nemo-sample-") as tmp:
        vf: list[str] = []
        if text and _font_available():
            textfile = _write_text(Path(tmp) / "text.txt", text)
            vf = [
                "-vf",
                f"drawtext=fontfile={_filter_path(FONT)}:textfile={_filter_path(textfile)}:"
                f"fontsize={max(8, h // 8)}:fontcolor=white:x=(w-text_w)/2:y=(h-text_h)/2",
            ]
        args = ["-f", "lavfi", "-i", f"color=c={_color(text)}:s={_even(w)}x{_even(h)}:d=1"]
        await _run([*args, *vf, "-frames:v", "1", "-update", "1", str(path)])
    return path


async def make_sample_audio(path: str | Path, seconds: float = 2.0, freq: int = 440) -> Path:
    """A ``seconds``-long tone (format from the suffix: .wav, .mp3, .m4a, .aac)."""
    path = Path(path)
    args = [
        "-f",
        "lavfi",
        "-i",
        f"sine=frequency={freq}:sample_rate={AUDIO_RATE}:duration={seconds}",
    ]
    codec = {".mp3": ["-c:a", "libmp3lame"], ".m4a": ["-c:a", "aac"], ".aac": ["-c:a", "aac"]}
    await _run([*args, *codec.get(path.suffix.lower(), []), str(path)])
    return path
