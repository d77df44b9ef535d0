"""Sync client overhead: ``SyncNemoClient.credits()`` next to ``NemoClient.credits()``, one at a time.

A script's thread (no event loop of its own) runs the client's loop itself for each call, so it
should cost what the async call costs; a call from inside a running loop (a notebook) is handed
to the client's helper thread and pays two thread wake-ups on top (reported, no target). All
clients talk to the same emulator process in the same run; rounds rotate the order of the three
so a noisy neighbour on a 2-core machine hits all alike. Many short rounds (15 of 300 calls) rather
than a few long ones: a call's time on loopback drifts by 2x over seconds here, and each ratio is
taken within one round. Reported: the median calls/s of each over
the rounds with the spread (min-max), and the median of the per-round ratios sync/async (target:
>= 0.80, i.e. the sync client keeps 80% of the async client's call rate at concurrency 1).

Usage::

    python benchmarks/bench_sync.py [--calls 300] [--rounds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import emulator_process, ratio_spread, spread, table

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


async def _sync_in_a_loop(client: SyncNemoClient, calls: int) -> float:
    """The sync client called from ``async def`` (a notebook cell): each call is handed over."""
    return _sync_round(client, calls)


async def _open(options: dict[str, Any]) -> nemovideo.NemoClient:
    client = nemovideo.NemoClient(**options)
    await client.credits()
    return client


def bench(calls: int, rounds: int) -> tuple[list[tuple[str, ...]], float]:
    """Rounds rotate the order of the three candidates; the main thread has no running loop
    while the plain sync round runs (as in a script), and one while the in-loop round runs."""
    loop = asyncio.new_event_loop()
    server = emulator_process()
    api, _cdn = loop.run_until_complete(server.__aenter__())
    rates: dict[str, list[float]] = {"async": [], "sync": [], "in_loop": []}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            options: dict[str, Any] = {"base_url": api, "config_dir": Path(tmp)}
            aclient = loop.run_until_complete(_open(options))
            try:
                with SyncNemoClient(**options) as sclient:
                    sclient.credits()
                    candidates: dict[str, Callable[[], float]] = {
                        "async": lambda: loop.run_until_complete(_async_round(aclient, calls)),
                        "sync": lambda: _sync_round(sclient, calls),
                        "in_loop": lambda: loop.run_until_complete(_sync_in_a_loop(sclient, calls)),
                    }
                    order = list(candidates)
                    for n in range(rounds):
                        for name in order[n % 3 :] + order[: n % 3]:
                            rates[name].append(candidates[name]())
            finally:
                loop.run_until_complete(aclient.aclose())
    finally:
        loop.run_until_complete(server.__aexit__(None, None, None))
        loop.close()
    ratio = statistics.median(s / a for s, a in zip(rates["sync"], rates["async"], strict=True))
    what = f"credits() x{calls}, concurrency 1, {rounds} rounds"
    rows = [
        (f"{what}, from a plain thread", spread(rates["sync"], " calls/s"), spread(rates["async"], " calls/s"),
         ratio_spread(rates["sync"], rates["async"])),
        (f"{what}, from inside a running loop", spread(rates["in_loop"], " calls/s"),
         spread(rates["async"], " calls/s"), ratio_spread(rates["in_loop"], rates["async"])),
    ]  # fmt: skip
    return rows, ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    rows, ratio = bench(args.calls, args.rounds)
    print(table(rows, ("what", "SyncNemoClient", "NemoClient", "sync / async")))
    verdict = "meets" if ratio >= TARGET else "MISSES"
    print(
        f"\nMedian ratio {ratio:.2f}x {verdict} the {TARGET:.2f}x target (median, min-max of rounds)."
    )


if __name__ == "__main__":
    main()
