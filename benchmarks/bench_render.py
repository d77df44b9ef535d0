"""The emulator's renderer on the ``make demo`` draft: today's ffmpeg graph next to the old one.

The demo draft is what the emulator agent makes of "turn these images into a 15-second video with
smooth transitions": the three bundled 640x360 sample images, 5 s each with fades, rendered at
1920x1080, 30 fps, libx264 ``ultrafast``. The old graph (kept here only, as the baseline) fed each
still through ``-loop 1``, so every output frame decoded the JPEG again and scaled it to 1080p again;
the current graph decodes and scales each still once and repeats the fitted frame (``loop``).

Each round renders with both graphs in turn (ffmpeg is its own process; this one only waits), in
alternating order; the table gives the median and spread of ``--rounds`` rounds, and checks that
both outputs have the same duration, frame count and size (``mp4probe``) and near-identical pixels
(ffmpeg's ``psnr`` filter, first output against the second). The CPU row (user + system time of
the ffmpeg process) is the steadier figure on a shared machine.

Usage::

    python benchmarks/bench_render.py [--rounds 5] [--seconds 15]
"""

from __future__ import annotations

import re
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from _bench_util import run_main

from nemovideo.draft import Segment
from nemovideo.testing._render import ffmpeg as _ffmpeg
from nemovideo.testing._upload.samples import sample_images
from nemovideo.testing.drafts import make_draft, video_track
from nemovideo.testing.mp4probe import Mp4Info, probe_mp4


class OldGraph(_ffmpeg._Graph):  # noqa: SLF001 (the benchmark swaps the internal builder)
    """The graph as it was before issue 16: a still looped at the input, scaled per frame."""

    def clip(self, seg: Segment, path: Path | None, seconds: float, index: int) -> str:
        if path is None:
            return super().clip(seg, path, seconds, index)
        if (seg.kind or "image") == "video":
            idx = self._input("-stream_loop", "-1", "-t", f"{seconds:.3f}", "-i", str(path))
        else:
            idx = self._input("-loop", "1", "-framerate", str(self.fps), "-t", f"{seconds:.3f}",
                              "-i", str(path))  # fmt: skip
        label = self._label("v")
        self.chains.append(
            f"[{idx}:v]scale={self.w}:{self.h}:force_original_aspect_ratio=decrease,"
            f"pad={self.w}:{self.h}:(ow-iw)/2:(oh-ih)/2,setsar=1,fps={self.fps},format=yuv420p,"
            f"trim=duration={seconds:.3f},setpts=PTS-STARTPTS[{label}]"
        )
        return self._faded(label, seg, seconds)


NEW_GRAPH = _ffmpeg._Graph  # noqa: SLF001


def demo_draft(files_dir: Path, seconds: float) -> dict[str, Any]:
    media = []
    for path in sample_images():
        shutil.copy(path, files_dir / path.name)
        media.append({"filename": path.name, "file_type": "image",
                      "cdn_url": f"http://127.0.0.1:1/files/{path.name}"})  # fmt: skip
    return make_draft([video_track(media, round(seconds * 1000), "fade")], title="demo")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def render(
    graph: type[_ffmpeg._Graph], draft: dict[str, Any], files: Path, out: Path
) -> tuple[float, float]:
    """Wall seconds and ffmpeg CPU seconds of one render with ``graph``."""
    _ffmpeg._Graph = graph  # type: ignore[misc]  # noqa: SLF001
    try:
        cpu, start = _children_cpu(), time.perf_counter()
        await _ffmpeg.render_draft(draft, files, out, width=1920, height=1080, fps=30)
        return time.perf_counter() - start, _children_cpu() - cpu
    finally:
        _ffmpeg._Graph = NEW_GRAPH  # type: ignore[misc]  # noqa: SLF001


def psnr(a: Path, b: Path) -> str:
    proc = subprocess.run(
        [_ffmpeg.ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(a), "-i", str(b),
         "-lavfi", "psnr", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    found = re.search(r"average:(\S+)", proc.stderr)
    return found.group(1) if found else "?"


def frames(info: Mp4Info) -> int:
    return next(t.samples for t in info.tracks if t.handler == "vide")


async def bench(rounds: int, seconds: float) -> list[tuple[str, ...]]:
    times: dict[str, list[float]] = {"old": [], "new": []}
    cpu: dict[str, list[float]] = {"old": [], "new": []}
    with tempfile.TemporaryDirectory(prefix="nemo-bench-render-") as tmp:
        files = Path(tmp)
        draft = demo_draft(files, seconds)
        outs = {"old": files / "old.mp4", "new": files / "new.mp4"}
        graphs = {"old": OldGraph, "new": NEW_GRAPH}
        for n in range(rounds):
            order = ("old", "new") if n % 2 == 0 else ("new", "old")
            for name in order:
                wall, used = await render(graphs[name], draft, files, outs[name])
                times[name].append(wall)
                cpu[name].append(used)
        old, new = probe_mp4(outs["old"]), probe_mp4(outs["new"])
        same = (old.duration_s, frames(old), old.width, old.height) == (
            new.duration_s, frames(new), new.width, new.height
        )  # fmt: skip
        quality = psnr(outs["old"], outs["new"])
    label = f"render {seconds:g} s demo draft, 1080p30"
    return [
        (f"{label}, wall", *_row(times)),
        (f"{label}, ffmpeg CPU", *_row(cpu)),
        ("  same duration, frames, size", f"{new.duration_s:.3f} s, {frames(new)} frames",
         f"{old.duration_s:.3f} s, {frames(old)} frames", "yes" if same else "NO"),
        ("  PSNR new vs old (dB, inf = identical)", quality, "", "target > 40"),
    ]  # fmt: skip


def _row(samples: dict[str, list[float]]) -> tuple[str, str, str]:
    ratios = [o / n for o, n in zip(samples["old"], samples["new"], strict=True)]
    return (
        f"{statistics.median(samples['new']):.2f} s",
        f"{statistics.median(samples['old']):.2f} s",
        f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})",
    )


def main() -> None:
    header = ("benchmark", "new graph", "old graph", "speed-up (median, spread)")
    target = "target (issue 16): >= 1.25x faster, identical duration and frames"
    run_main(__doc__, bench, {"rounds": 5, "seconds": 15.0}, header, target)


if __name__ == "__main__":
    main()
