"""The emulator's renderer on the ``make demo`` draft next to a hand-written ffmpeg command.

The demo draft is what the emulator agent makes of "turn these images into a 15-second video with
smooth transitions": the three bundled 640x360 sample images, 5 s each with 0.5 s fades through
black at both ends, rendered at 1920x1080, 30 fps, libx264 ``ultrafast``, CRF 20.

The baseline (issue 27's "scale each still once" graph) is the command a careful person would
write for the same video: each still decoded once, scaled and padded to 1080p once, converted to
yuv420p once, repeated with ``loop``, faded in and out, the three clips joined with ``concat``,
and encoded with the same codec, preset, CRF, frame rate and frame count (``hand_command``). It
runs as its own ffmpeg process; the emulator renders the same draft through ``render_draft``
(whatever processes that starts). This process only waits.

Each round runs both, in alternating order; the table gives the median and spread of
``--rounds`` rounds of wall time and of CPU time (user + system of every ffmpeg process, the
steadier figure on a shared machine), the ratio being the emulator's time over the baseline's
(below 1.0 = the emulator is faster). So that nobody wins by rendering something else, both
outputs are probed (``mp4probe``: duration, frame count, frame size) and compared frame by frame
(ffmpeg's ``psnr`` filter, emulator against baseline).

Usage::

    python benchmarks/bench_render.py [--rounds 5] [--seconds 15]
"""

from __future__ import annotations

import asyncio
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

from nemovideo.testing._render import ffmpeg as _ffmpeg
from nemovideo.testing._upload.samples import sample_images
from nemovideo.testing.drafts import TRANSITION_MS, make_draft, video_track
from nemovideo.testing.mp4probe import Mp4Info, probe_mp4

WIDTH, HEIGHT, FPS = 1920, 1080, 30


def demo_draft(files_dir: Path, seconds: float) -> dict[str, Any]:
    media = []
    for path in sample_images():
        shutil.copy(path, files_dir / path.name)
        media.append({"filename": path.name, "file_type": "image",
                      "cdn_url": f"http://127.0.0.1:1/files/{path.name}"})  # fmt: skip
    return make_draft([video_track(media, round(seconds * 1000), "fade")], title="demo")


def hand_command(draft: dict[str, Any], files: Path, out: Path) -> list[str]:
    """The "scale each still once" ffmpeg command for the demo draft, written out by hand."""
    fade = TRANSITION_MS / 1000
    fit = (
        f"scale={WIDTH}:{HEIGHT}:force_original_aspect_ratio=decrease,"
        f"pad={WIDTH}:{HEIGHT}:(ow-iw)/2:(oh-ih)/2,setsar=1,format=yuv420p"
    )
    inputs: list[str] = []
    chains: list[str] = []
    for i, seg in enumerate(draft["t"][0]["sg"]):
        name = seg["m"]["src"].rsplit("/", 1)[-1]
        inputs += ["-framerate", str(FPS), "-i", str(files / name)]
        frames = round(seg["d"] * FPS / 1000)
        seconds = frames / FPS
        chains.append(
            f"[{i}:v]{fit},loop=loop={frames - 1}:size=1,setpts=N/{FPS}/TB,"
            f"fade=t=in:d={fade},fade=t=out:st={seconds - fade}:d={fade}[v{i}]"
        )
    joined = "".join(f"[v{i}]" for i in range(len(chains)))
    chains.append(f"{joined}concat=n={len(chains)}:v=1:a=0[v]")
    return [
        _ffmpeg.ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        *inputs, "-filter_complex", ";".join(chains), "-map", "[v]",
        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "20", "-pix_fmt", "yuv420p",
        "-r", str(FPS), "-movflags", "+faststart", str(out),
    ]  # fmt: skip


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def _timed(work: Any) -> tuple[float, float]:
    cpu, start = _children_cpu(), time.perf_counter()
    await work
    return time.perf_counter() - start, _children_cpu() - cpu


async def run_hand(command: list[str]) -> None:
    proc = await asyncio.create_subprocess_exec(*command, stderr=asyncio.subprocess.PIPE)
    _, err = await proc.communicate()
    if proc.returncode:
        raise RuntimeError(f"ffmpeg exited with {proc.returncode}: {err.decode()[-500:]}")


def psnr(a: Path, b: Path) -> str:
    proc = subprocess.run(
        [_ffmpeg.ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(a), "-i", str(b),
         "-lavfi", "psnr", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    found = re.search(r"average:(\S+) min:(\S+)", proc.stderr)
    return f"{found.group(1)} (min {found.group(2)})" if found else "?"


def frames(info: Mp4Info) -> int:
    return next(t.samples for t in info.tracks if t.handler == "vide")


async def bench(rounds: int, seconds: float) -> list[tuple[str, ...]]:
    times: dict[str, list[float]] = {"emu": [], "hand": []}
    cpu: dict[str, list[float]] = {"emu": [], "hand": []}
    with tempfile.TemporaryDirectory(prefix="nemo-bench-render-") as tmp:
        files = Path(tmp)
        draft = demo_draft(files, seconds)
        outs = {"emu": files / "emulator.mp4", "hand": files / "hand.mp4"}
        hand = hand_command(draft, files, outs["hand"])
        for n in range(rounds):
            for name in ("hand", "emu") if n % 2 == 0 else ("emu", "hand"):
                work = (
                    run_hand(hand)
                    if name == "hand"
                    else _ffmpeg.render_draft(
                        draft, files, outs["emu"], width=WIDTH, height=HEIGHT, fps=FPS
                    )
                )
                wall, used = await _timed(work)
                times[name].append(wall)
                cpu[name].append(used)
        emu, base = probe_mp4(outs["emu"]), probe_mp4(outs["hand"])
        facts = [(i.duration_s, frames(i), i.width, i.height) for i in (emu, base)]
        quality = psnr(outs["emu"], outs["hand"])
    label = f"render {seconds:g} s demo draft, 1080p30"
    return [
        (f"{label}, wall", *_row(times)),
        (f"{label}, ffmpeg CPU", *_row(cpu)),
        ("  duration, frames, size", *(f"{d:.3f} s, {f} frames, {w}x{h}" for d, f, w, h in facts),
         "same" if facts[0] == facts[1] else "DIFFERENT"),
        ("  PSNR emulator vs hand ffmpeg (dB)", quality, "", "target > 40"),
    ]  # fmt: skip


def _row(samples: dict[str, list[float]]) -> tuple[str, str, str]:
    ratios = [e / h for e, h in zip(samples["emu"], samples["hand"], strict=True)]
    return (
        f"{statistics.median(samples['emu']):.2f} s",
        f"{statistics.median(samples['hand']):.2f} s",
        f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})",
    )


def main() -> None:
    header = ("benchmark", "emulator", "hand ffmpeg", "emulator / hand time (median, spread)")
    target = "target (issue 27): <= 0.9x the hand command's time, the same video (PSNR > 40 dB)"
    run_main(__doc__, bench, {"rounds": 5, "seconds": 15.0}, header, target)


if __name__ == "__main__":
    main()
