"""Shared pieces of the benchmarks: an emulator in its own process, timing, peak RSS, tables,
figures measured over rounds (median and spread).

The emulator runs in a separate process so that its work does not share the event loop (and the
GIL) with the client being measured; both the SDK and the raw-aiohttp baseline talk to the same
server in the same run, so the ratio compares client-side cost only.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


@contextlib.asynccontextmanager
async def emulator_process(*extra: str) -> AsyncIterator[tuple[str, str]]:
    """Start ``python -m nemovideo.testing`` on a free loopback port; yield ``(api_url, cdn_url)``."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "nemovideo.testing",
        "--port",
        "0",
        *extra,
        stdout=asyncio.subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    try:
        api = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode().rsplit(" ", 1)[-1]
        cdn = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode().rsplit(" ", 1)[-1]
        yield api.strip(), cdn.strip()
    finally:
        proc.terminate()
        await proc.wait()


async def timed(fn: Callable[[], Awaitable[Any]], repeat: int = 3) -> float:
    """Best wall time of ``repeat`` runs of ``fn`` (best-of reduces scheduler noise on 2 cores)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        await fn()
        best = min(best, time.perf_counter() - start)
    return best


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    """A GitHub-flavoured markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def spread(values: Sequence[float], unit: str = "", fmt: str = "{:,.0f}") -> str:
    """A figure measured over rounds: ``median unit (min-max)``, e.g. ``1,650 calls/s (1,210-1,904)``."""
    low, mid, high = (fmt.format(v) for v in (min(values), statistics.median(values), max(values)))
    return f"{mid}{unit} ({low}-{high})"


def ratio_spread(num: Sequence[float], den: Sequence[float]) -> str:
    """``num[i] / den[i]`` taken within each round (a noisy neighbour hits both sides of a round
    alike): ``median x (min-max)``."""
    ratios = [n / d for n, d in zip(num, den, strict=True)]
    return f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})"
