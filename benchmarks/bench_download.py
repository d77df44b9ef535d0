"""Download throughput: ``RenderJob.download()`` next to raw aiohttp streaming the same file to disk.

An emulator process serves one completed render job whose output is a ``--mb`` MB file on its CDN
origin. The SDK resumes the job by id and downloads it (temp file, fsync, rename, length check, token
kept off the CDN). The baseline is a plain ``aiohttp`` GET in 256 KiB chunks doing the same disk
work: a temp file beside the target, fsync, rename. A second baseline only writes the file and
leaves it dirty in the page cache (no fsync, no rename), so the disk write is not timed at all; it
shows what the durability costs. Ratio = SDK MB/s / baseline MB/s (1.0 = no overhead).

Runs alternate between the SDK and the baselines. Before each timed run the previous outputs are
deleted and ``os.sync()`` flushes what earlier runs left dirty, so no run pays for another's disk
work (or for unlinking another's 200 MB file). Each figure is the median of ``--repeat`` runs.

Usage::

    python benchmarks/bench_download.py [--mb 200] [--repeat 5]
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
from _bench_util import run_main
from _common import ROOT, peak_rss_mb

import nemovideo

MP4_HEAD = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
"""What the served file starts with: the client saves only a body that begins as a video."""

SERVER = r"""
import asyncio, json, os, sys, time
from nemovideo.testing import Emulator
from nemovideo.testing._server.store import iso_time

async def main(data_dir, mb):
    async with Emulator(data_dir=data_dir) as emu:
        user = emu.store.new_user()
        token = emu.store.issue_token(user.user_id, 3600).token
        session = emu.store.create_session(user.user_id, "bench", "en")
        path = emu.files_dir / "render_bench.mp4"
        with open(path, "wb") as fh:
            # an MP4 box header first: the client saves only what starts as a video container
            fh.write(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom")
            for _ in range(mb):
                fh.write(os.urandom(1 << 20))
        emu.store.render_jobs["render_bench"] = {
            "id": "render_bench", "user_id": user.user_id, "session_id": session.session_id,
            "draft": {}, "file": path.name, "status": "completed", "progress": 100,
            "outputUrl": emu.cdn_file_url(path.name), "createdAt": iso_time(time.time()),
            "completedAt": iso_time(time.time()), "path": str(path),
        }
        print(json.dumps({"api": emu.url, "token": token, "url": emu.cdn_file_url(path.name)}),
              flush=True)
        await asyncio.Event().wait()

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


async def bench(mb: int, repeat: int) -> list[tuple[str, ...]]:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir, out_dir = Path(tmp) / "emu", Path(tmp) / "out"
        out_dir.mkdir()
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", SERVER, str(data_dir), str(mb),
            stdout=asyncio.subprocess.PIPE, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
        assert proc.stdout is not None
        try:
            info = json.loads(await asyncio.wait_for(proc.stdout.readline(), 120))
            async with nemovideo.NemoClient(
                base_url=info["api"], token=info["token"], config_dir=Path(tmp) / "cfg"
            ) as client, aiohttp.ClientSession() as raw:  # fmt: skip
                job = await client.renderer.resume("render_bench")
                chunk = 256 * 1024

                async def sdk() -> None:
                    await job.download(out_dir / "sdk.mp4")

                async def durable() -> None:
                    fd, part = tempfile.mkstemp(suffix=".part", dir=out_dir)
                    with open(fd, "wb") as fh:  # noqa: ASYNC230 - as the SDK does
                        async with raw.get(info["url"]) as resp:
                            async for data in resp.content.iter_chunked(chunk):
                                fh.write(data)
                        fh.flush()
                        await asyncio.to_thread(os.fsync, fh.fileno())
                    os.replace(part, out_dir / "raw.mp4")

                async def write_only() -> None:
                    with open(out_dir / "plain.mp4", "wb") as fh:  # noqa: ASYNC230
                        async with raw.get(info["url"]) as resp:
                            async for data in resp.content.iter_chunked(chunk):
                                fh.write(data)

                async def run(fn: Callable[[], Awaitable[None]]) -> float:
                    for old in out_dir.iterdir():
                        old.unlink()
                    os.sync()
                    start = time.perf_counter()
                    await fn()
                    return time.perf_counter() - start

                base = peak_rss_mb()
                await run(sdk)  # also the warm-up
                rss_sdk = peak_rss_mb() - base  # the SDK runs first: the peak so far is its own
                assert (out_dir / "sdk.mp4").stat().st_size == (mb << 20) + len(MP4_HEAD)
                await run(durable)
                assert (out_dir / "raw.mp4").stat().st_size == (mb << 20) + len(MP4_HEAD)
                fns = {"sdk": sdk, "durable": durable, "write_only": write_only}
                times: dict[str, list[float]] = {name: [] for name in fns}
                for _ in range(repeat):
                    for name, fn in fns.items():
                        times[name].append(await run(fn))
                t_sdk, t_raw, t_plain = (statistics.median(times[name]) for name in fns)
        finally:
            proc.terminate()
            await proc.wait()
    return [
        (f"download {mb} MB, throughput (raw: temp file, fsync, rename)", f"{mb / t_sdk:.0f} MB/s",
         f"{mb / t_raw:.0f} MB/s", f"{t_raw / t_sdk:.2f}x"),
        (f"download {mb} MB, vs raw write only (no fsync, no rename)", f"{mb / t_sdk:.0f} MB/s",
         f"{mb / t_plain:.0f} MB/s", f"{t_plain / t_sdk:.2f}x"),
        (f"download {mb} MB, peak RSS growth", f"{rss_sdk:.1f} MB", "", "target < 40 MB"),
    ]  # fmt: skip


def main() -> None:
    header = ("benchmark", "nemovideo", "raw aiohttp", "ratio")
    run_main(__doc__, bench, {"mb": 200, "repeat": 5}, header)


if __name__ == "__main__":
    main()
