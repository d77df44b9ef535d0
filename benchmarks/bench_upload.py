"""Upload: a 200 MB file through ``session.upload`` next to raw aiohttp multipart, same server.

The emulator runs in its own process; each side runs in a fresh child process so that its peak
RSS (``ru_maxrss``) is its own. Both stream the file from disk as one multipart part named
``files``. Prints MB/s, peak RSS growth over the child's baseline, and ratios (SDK / raw).

Usage::

    python benchmarks/bench_upload.py [--mb 200] [--repeat 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from _common import emulator_process, peak_rss_mb, table

HEAD = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"


async def child_sdk(url: str, path: Path) -> float:
    import nemovideo

    with tempfile.TemporaryDirectory() as cfg:
        async with nemovideo.NemoClient(base_url=url, config_dir=cfg) as client:
            session = await client.create_session()
            start = time.perf_counter()
            await session.upload([path])
            return time.perf_counter() - start


async def child_raw(url: str, path: Path) -> float:
    async with aiohttp.ClientSession() as http:
        async with http.post(
            url + "/api/auth/anonymous-token", headers={"X-Client-Id": os.urandom(8).hex()}
        ) as resp:
            token = (await resp.json())["data"]["token"]
        headers = {"Authorization": f"Bearer {token}", "X-Skill-Source": "bench",
                   "X-Skill-Version": "1", "X-Skill-Platform": "bench"}  # fmt: skip
        async with http.post(
            url + "/api/tasks/me/with-session/nemo_agent",
            json={"task_name": "bench", "language": "en"}, headers=headers,
        ) as resp:  # fmt: skip
            sid = (await resp.json())["data"]["session_id"]
        start = time.perf_counter()
        with path.open("rb") as fh:
            form = aiohttp.FormData()
            form.add_field("files", fh, filename=path.name, content_type="video/mp4")
            async with http.post(
                f"{url}/api/upload-video/nemo_agent/me/{sid}", data=form, headers=headers
            ) as resp:
                body = await resp.json()
                assert body["code"] == 0, body
        return time.perf_counter() - start


def run_child(kind: str, url: str, path: Path) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--url", url, "--file", str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


async def bench(mb: int, repeat: int) -> list[tuple[str, ...]]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.mp4"
        with path.open("wb") as fh:
            fh.write(HEAD)
            block = os.urandom(1_000_000)
            for _ in range(mb):
                fh.write(block)
        size_mb = path.stat().st_size / 1e6
        async with emulator_process() as (url, _cdn):
            results: dict[str, list[dict[str, float]]] = {"sdk": [], "raw": []}
            for _ in range(repeat):
                for kind in ("raw", "sdk"):
                    results[kind].append(await asyncio.to_thread(run_child, kind, url, path))
    best = {k: min(v, key=lambda r: r["seconds"]) for k, v in results.items()}
    rss = {k: max(r["rss_growth_mb"] for r in v) for k, v in results.items()}
    sdk_rate = size_mb / best["sdk"]["seconds"]
    raw_rate = size_mb / best["raw"]["seconds"]
    return [
        (f"upload {size_mb:.0f} MB, throughput", f"{sdk_rate:,.0f} MB/s", f"{raw_rate:,.0f} MB/s",
         f"{sdk_rate / raw_rate:.2f}x"),
        (f"upload {size_mb:.0f} MB, peak RSS growth", f"{rss['sdk']:.1f} MB",
         f"{rss['raw']:.1f} MB", "target < 40 MB"),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--child", choices=["sdk", "raw"])
    parser.add_argument("--url")
    parser.add_argument("--file", type=Path)
    args = parser.parse_args()
    if args.child:
        import nemovideo  # noqa: F401  (the import's memory is part of the baseline)

        base = peak_rss_mb()
        fn = child_sdk if args.child == "sdk" else child_raw
        seconds = asyncio.run(fn(args.url, args.file))
        print(json.dumps({"seconds": seconds, "rss_growth_mb": peak_rss_mb() - base}))
        return
    rows = asyncio.run(bench(args.mb, args.repeat))
    print(table(rows, ("benchmark", "nemovideo", "raw aiohttp", "ratio")))


if __name__ == "__main__":
    main()
