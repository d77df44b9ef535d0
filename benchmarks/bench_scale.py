"""Scale: 1,000 concurrent chat streams on one ``NemoClient``, next to 1,000 raw aiohttp streams.

The emulator (its own process, generous credits, ``--chat-delay`` between frames so the streams
overlap) serves ``/run_sse``; 1,000 sessions are created first, then every session gets one
message at the same moment. Reports wall time, errors and this process's peak RSS growth for
each side. The SDK side iterates ``session.chat()`` and also reads the state before each message
(the baseline it recovers against if a stream drops).

Usage::

    python benchmarks/bench_scale.py [--streams 1000] [--delay 0.05]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time

import aiohttp
from _common import emulator_process, peak_rss_mb, table

MESSAGE = "add lo-fi BGM at 35%"


async def sdk_side(url: str, streams: int) -> dict[str, float]:
    import nemovideo

    with tempfile.TemporaryDirectory() as cfg:
        async with nemovideo.NemoClient(base_url=url, config_dir=cfg) as client:
            sessions = [await client.create_session() for _ in range(streams)]

            async def one(session: nemovideo.Session) -> int:
                count = 0
                async with session.chat(MESSAGE) as stream:
                    async for _ in stream:
                        count += 1
                return count

            base = peak_rss_mb()
            start = time.perf_counter()
            results = await asyncio.gather(*(one(s) for s in sessions), return_exceptions=True)
            wall = time.perf_counter() - start
    errors = [r for r in results if isinstance(r, BaseException) or r == 0]
    return {"wall": wall, "errors": len(errors), "rss": peak_rss_mb() - base}


async def raw_side(url: str, streams: int) -> dict[str, float]:
    conn = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=conn) as http:
        async with http.post(
            url + "/api/auth/anonymous-token", headers={"X-Client-Id": "bench-scale-raw"}
        ) as resp:
            token = (await resp.json())["data"]["token"]
        headers = {"Authorization": f"Bearer {token}", "X-Skill-Source": "bench",
                   "X-Skill-Version": "1", "X-Skill-Platform": "bench"}  # fmt: skip
        sids = []
        for _ in range(streams):
            async with http.post(url + "/api/tasks/me/with-session/nemo_agent",
                                 json={"task_name": "b", "language": "en"},
                                 headers=headers) as resp:  # fmt: skip
                sids.append((await resp.json())["data"]["session_id"])

        async def one(sid: str) -> int:
            body = {"app_name": "nemo_agent", "user_id": "me", "session_id": sid,
                    "new_message": {"role": "user", "parts": [{"text": MESSAGE}]}}  # fmt: skip
            events = 0
            async with http.post(url + "/run_sse", json=body, headers=headers) as resp:
                async for line in resp.content:
                    if line.startswith(b"data:") and line[5:].strip():
                        json.loads(line[5:])
                        events += 1
            return events

        base = peak_rss_mb()
        start = time.perf_counter()
        results = await asyncio.gather(*(one(s) for s in sids), return_exceptions=True)
        wall = time.perf_counter() - start
    errors = [r for r in results if isinstance(r, BaseException) or r == 0]
    return {"wall": wall, "errors": len(errors), "rss": peak_rss_mb() - base}


async def run_side(side: str, streams: int, delay: float) -> dict[str, float]:
    extra = ("--credits", str(100 * streams), "--chat-delay", str(delay))
    async with emulator_process(*extra) as (url, _cdn):
        fn = sdk_side if side == "sdk" else raw_side
        return await fn(url, streams)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--delay", type=float, default=0.05)
    parser.add_argument("--side", choices=["sdk", "raw"])
    args = parser.parse_args()
    if args.side:
        print(json.dumps(asyncio.run(run_side(args.side, args.streams, args.delay))))
        return
    res = {}
    for side in ("raw", "sdk"):
        out = subprocess.run(
            [sys.executable, __file__, "--side", side, "--streams", str(args.streams),
             "--delay", str(args.delay)], capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        res[side] = json.loads(out.strip().splitlines()[-1])
    sdk, raw = res["sdk"], res["raw"]
    rows = [
        (f"{args.streams} concurrent chat streams, wall", f"{sdk['wall']:.2f} s",
         f"{raw['wall']:.2f} s", f"{raw['wall'] / sdk['wall']:.2f}x"),
        ("  errors", f"{sdk['errors']:.0f}", f"{raw['errors']:.0f}", "target 0"),
        ("  peak RSS growth", f"{sdk['rss']:.1f} MB", f"{raw['rss']:.1f} MB", ""),
    ]  # fmt: skip
    print(table(rows, ("benchmark", "nemovideo", "raw aiohttp", "ratio")))


if __name__ == "__main__":
    main()
