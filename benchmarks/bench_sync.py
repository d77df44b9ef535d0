"""Sync client overhead: ``SyncNemoClient.credits()`` next to ``NemoClient.credits()``, one at a time.

Each blocking call hands its coroutine to the client's loop thread and waits for the answer, so
it pays two thread wake-ups per call on top of the async client's work. Both clients talk to the
same emulator process in the same run; rounds interleave the two (alternating which goes first)
so a noisy neighbour on a 2-core machine hits both alike. Reported: the median calls/s of each over
the rounds with the spread (min-max), and the median of the per-round ratios sync/async (target:
>= 0.80, i.e. the sync client keeps 80% of the async client's call rate at concurrency 1).

Usage::

    python benchmarks/bench_sync.py [--calls 1000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from _common import emulator_process, table

import nemovideo
from nemovideo.sync import SyncNemoClient

TARGET = 0.80


async def _async_round(client: nemovideo.NemoClient, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        await client.credits()
    return calls / (time.perf_counter() - start)


def _sync_round(client: SyncNemoClient, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        client.credits()
    return calls / (time.perf_counter() - start)


def _spread(rates: list[float]) -> str:
    return f"{statistics.median(rates):,.0f} calls/s ({min(rates):,.0f}-{max(rates):,.0f})"


async def bench(calls: int, rounds: int) -> tuple[list[tuple[str, ...]], float]:
    async_rates: list[float] = []
    sync_rates: list[float] = []
    async with emulator_process() as (api, _cdn):
        with tempfile.TemporaryDirectory() as tmp:
            options = {"base_url": api, "config_dir": Path(tmp)}
            async with nemovideo.NemoClient(**options) as aclient:
                with SyncNemoClient(**options) as sclient:
                    await aclient.credits()
                    sclient.credits()
                    for n in range(rounds):
                        if n % 2:
                            sync_rates.append(_sync_round(sclient, calls))
                            async_rates.append(await _async_round(aclient, calls))
                        else:
                            async_rates.append(await _async_round(aclient, calls))
                            sync_rates.append(_sync_round(sclient, calls))
    ratio = statistics.median(s / a for s, a in zip(sync_rates, async_rates, strict=True))
    rows = [
        (f"credits() x{calls}, concurrency 1, {rounds} rounds",
         _spread(sync_rates), _spread(async_rates), f"{ratio:.2f}x"),
    ]  # fmt: skip
    return rows, ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rows, ratio = asyncio.run(bench(args.calls, args.rounds))
    print(table(rows, ("what", "SyncNemoClient", "NemoClient", "sync / async")))
    verdict = "meets" if ratio >= TARGET else "MISSES"
    print(
        f"\nMedian ratio {ratio:.2f}x {verdict} the {TARGET:.2f}x target (median, min-max of rounds)."
    )


if __name__ == "__main__":
    main()
