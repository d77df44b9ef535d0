"""Scale: 1,000 concurrent chat streams on one ``NemoClient``, next to 1,000 raw aiohttp streams.

The emulator (its own process, generous credits, ``--chat-delay`` between frames so the streams
overlap) serves ``/run_sse``; 1,000 sessions are created first, then every session gets one
message at the same moment. Each side runs in a fresh process with its own emulator, the sides
interleaved over ``--rounds`` rounds; reported: wall time (median and range), errors, CPU time
per stream and peak RSS growth. The SDK side iterates ``session.chat()``, which reads the state
before each message (the baseline it recovers against if a stream drops); so the fair baseline
is raw aiohttp doing the same state read first ("raw + state"), and plain raw is shown beside.
Each side's modules are imported before its clock starts (the SDK's chat modules load on first
use, ~40 ms once per process: a start-up cost, not a per-stream one).

Usage::

    python benchmarks/bench_scale.py [--streams 1000] [--delay 0.05] [--rounds 9]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Iterable

import aiohttp
from _common import emulator_process, peak_rss_mb, table

MESSAGE = "add lo-fi BGM at 35%"


async def sdk_side(url: str, streams: int) -> dict[str, float]:
    import nemovideo
    import nemovideo.chat  # imported on first chat: once per process, not per stream

    with tempfile.TemporaryDirectory() as cfg:
        async with nemovideo.NemoClient(base_url=url, config_dir=cfg) as client:
            sessions = [await client.create_session() for _ in range(streams)]

            async def one(session: nemovideo.Session) -> int:
                count = 0
                async with session.chat(MESSAGE) as stream:
                    async for _ in stream:
                        count += 1
                return count

            return await all_at_once(one(s) for s in sessions)


async def all_at_once(streams: Iterable[Awaitable[int]]) -> dict[str, float]:
    """Run every stream at the same moment: wall time, errors (a stream that failed or read
    nothing), peak RSS growth, CPU time of the run, and the garbage collector's part in it
    (collections of each generation, and the time spent in them)."""
    gc_clock = GcClock()
    base, cpu = peak_rss_mb(), cpu_seconds()
    start = time.perf_counter()
    with gc_clock:
        results = await asyncio.gather(*streams, return_exceptions=True)
    wall = time.perf_counter() - start
    cpu = cpu_seconds() - cpu
    errors = [r for r in results if isinstance(r, BaseException) or r == 0]
    return {"wall": wall, "errors": len(errors), "rss": peak_rss_mb() - base, "cpu": cpu,
            **gc_clock.result()}  # fmt: skip


class GcClock:
    """Counts the collections of each generation while entered, and the CPU time they take
    (``gc.callbacks``; the same on both sides, so it measures without favouring either)."""

    def __init__(self) -> None:
        self.runs = [0, 0, 0]
        self.seconds = 0.0
        self._began = 0.0

    def __enter__(self) -> None:
        gc.callbacks.append(self._on_gc)

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.thread_time()
        else:
            self.runs[info["generation"]] += 1
            self.seconds += time.thread_time() - self._began

    def result(self) -> dict[str, float]:
        return {"gc_s": self.seconds, **{f"gc{g}": n for g, n in enumerate(self.runs)}}


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def raw_side(url: str, streams: int, state_first: bool = False) -> dict[str, float]:
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
            if state_first:
                async with http.get(f"{url}/api/state/nemo_agent/me/{sid}/latest",
                                    headers=headers) as resp:  # fmt: skip
                    json.loads(await resp.read())["data"]["state"].get("draft")
            async with http.post(url + "/run_sse", json=body, headers=headers) as resp:
                async for line in resp.content:
                    if line.startswith(b"data:") and line[5:].strip():
                        json.loads(line[5:])
                        events += 1
            return events

        return await all_at_once(one(s) for s in sids)


async def run_side(side: str, streams: int, delay: float) -> dict[str, float]:
    extra = ("--credits", str(100 * streams), "--chat-delay", str(delay))
    async with emulator_process(*extra) as (url, _cdn):
        if side == "sdk":
            return await sdk_side(url, streams)
        return await raw_side(url, streams, state_first=side == "raw+state")


SIDES = ("raw", "raw+state", "sdk")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--delay", type=float, default=0.05)
    parser.add_argument("--rounds", type=int, default=9)  # 5 left the median to one noisy round
    parser.add_argument("--side", choices=SIDES)
    args = parser.parse_args()
    if args.side:
        print(json.dumps(asyncio.run(run_side(args.side, args.streams, args.delay))))
        return
    res: dict[str, list[dict[str, float]]] = {side: [] for side in SIDES}
    for r in range(args.rounds):
        for side in SIDES[r % 3 :] + SIDES[: r % 3]:
            out = subprocess.run(
                [sys.executable, __file__, "--side", side, "--streams", str(args.streams),
                 "--delay", str(args.delay)], capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            res[side].append(json.loads(out.strip().splitlines()[-1]))

    def med(side: str, key: str) -> float:
        return statistics.median(run[key] for run in res[side])

    def ratio(base: str) -> str:
        ratios = [b["wall"] / s["wall"] for b, s in zip(res[base], res["sdk"], strict=True)]
        return f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})"

    def walls(side: str) -> str:
        w = [run["wall"] for run in res[side]]
        return f"{statistics.median(w):.2f} s ({min(w):.2f}-{max(w):.2f})"

    def gc_runs(side: str) -> str:
        return "/".join(f"{med(side, f'gc{g}'):.0f}" for g in range(3))

    n = args.streams
    rows = [
        (f"{n} concurrent chat streams, wall, vs raw + state read", walls("sdk"),
         walls("raw+state"), ratio("raw+state")),
        (f"{n} concurrent chat streams, wall, vs raw (no state read)", walls("sdk"),
         walls("raw"), ratio("raw")),
        ("  errors (all rounds)", f"{sum(r['errors'] for r in res['sdk']):.0f}",
         f"{sum(r['errors'] for r in res['raw+state']):.0f}", "target 0"),
        ("  CPU per stream", f"{med('sdk', 'cpu') / n * 1e3:.2f} ms",
         f"{med('raw+state', 'cpu') / n * 1e3:.2f} ms",
         f"raw alone {med('raw', 'cpu') / n * 1e3:.2f} ms"),
        ("  peak RSS growth", f"{med('sdk', 'rss'):.1f} MB", f"{med('raw+state', 'rss'):.1f} MB",
         ""),
        ("  GC time (CPU)", f"{med('sdk', 'gc_s'):.2f} s", f"{med('raw+state', 'gc_s'):.2f} s",
         f"raw alone {med('raw', 'gc_s'):.2f} s"),
        ("  GC collections, gen 0/1/2", gc_runs("sdk"), gc_runs("raw+state"),
         f"raw alone {gc_runs('raw')}"),
    ]  # fmt: skip
    print(f"{args.rounds} rounds, sides interleaved, each in a fresh process; median (range)")
    print(table(rows, ("benchmark", "nemovideo", "raw aiohttp", "ratio (raw wall / ours)")))


if __name__ == "__main__":
    main()
