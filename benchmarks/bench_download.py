"""Download throughput: ``RenderJob.download()`` next to raw aiohttp streaming the same file to disk.

An emulator process serves one completed render job whose output is a ``--mb`` MB file on its CDN
origin. The SDK resumes the job by id and downloads it (temp file, fsync, rename, length check, token
kept off the CDN); the baseline is a plain ``aiohttp`` GET writing 256 KiB chunks to a file. Ratio =
SDK MB/s / raw MB/s (1.0 = no overhead). Both write to the same directory in the same run.

Usage::

    python benchmarks/bench_download.py [--mb 200] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path

import aiohttp
from _common import ROOT, peak_rss_mb, table, timed

import nemovideo

SERVER = r"""
import asyncio, json, os, sys, time
from nemovideo.testing import Emulator
from nemovideo.testing._store import iso_time

async def main(data_dir, mb):
    async with Emulator(data_dir=data_dir) as emu:
        user = emu.store.new_user()
        token = emu.store.issue_token(user.user_id, 3600).token
        session = emu.store.create_session(user.user_id, "bench", "en")
        path = emu.files_dir / "render_bench.mp4"
        with open(path, "wb") as fh:
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

                async def sdk() -> None:
                    await job.download(out_dir / "sdk.mp4")

                async def baseline() -> None:
                    with open(out_dir / "raw.mp4", "wb") as fh:  # noqa: ASYNC230 - as the SDK does
                        async with raw.get(info["url"]) as resp:
                            async for chunk in resp.content.iter_chunked(256 * 1024):
                                fh.write(chunk)

                base = peak_rss_mb()
                t_sdk = await timed(sdk, repeat)
                rss_sdk = peak_rss_mb() - base  # the SDK runs first: the peak so far is its own
                t_raw = await timed(baseline, repeat)
                assert (out_dir / "sdk.mp4").stat().st_size == mb << 20
        finally:
            proc.terminate()
            await proc.wait()
    return [
        (f"download {mb} MB, throughput", f"{mb / t_sdk:.0f} MB/s", f"{mb / t_raw:.0f} MB/s",
         f"{t_raw / t_sdk:.2f}x"),
        (f"download {mb} MB, peak RSS growth", f"{rss_sdk:.1f} MB", "", "target < 40 MB"),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = asyncio.run(bench(args.mb, args.repeat))
    print(table(rows, ("benchmark", "nemovideo", "raw aiohttp", "ratio")))


if __name__ == "__main__":
    main()
