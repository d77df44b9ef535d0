"""Request overhead: ``client.credits()`` calls/s next to raw aiohttp doing the same GET.

Both sides send the same headers (Authorization + the three attribution headers) to the same
emulator process, decode the ``{"code", "data"}`` envelope, and check the code; the SDK adds its
retry wrapper, typed decoding and the ``Credits`` value. Measured at concurrency 1 (latency-bound)
and 100 (throughput-bound). Ratio = SDK calls/s / raw calls/s (1.0 = no overhead).

Usage::

    python benchmarks/bench_requests.py [--calls 3000] [--repeat 3]
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import aiohttp
from _bench_util import run_main
from _common import emulator_process, timed

import nemovideo

CREDITS = "/api/credits/balance/simple"


async def _in_batches(n: int, concurrency: int, call: object) -> None:
    assert callable(call)
    done = 0
    while done < n:
        k = min(concurrency, n - done)
        await asyncio.gather(*(call() for _ in range(k)))
        done += k


async def bench(calls: int, repeat: int) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    async with emulator_process() as (api, _cdn):
        with tempfile.TemporaryDirectory() as tmp:
            async with nemovideo.NemoClient(base_url=api, config_dir=Path(tmp)) as client:
                await client.credits()
                token = await client._transport.token()  # noqa: SLF001
                cfg = client.config
                headers = {
                    "Authorization": f"Bearer {token}",
                    "X-Skill-Source": cfg.skill_name,
                    "X-Skill-Version": cfg.skill_version,
                    "X-Skill-Platform": cfg.skill_platform,
                }
                async with aiohttp.ClientSession() as raw:

                    async def raw_call() -> None:
                        async with raw.get(api + CREDITS, headers=headers) as resp:
                            body = await resp.json()
                            if body["code"] != 0:
                                raise RuntimeError(body)

                    async def sdk_call() -> None:
                        await client.credits()

                    for concurrency in (1, 100):
                        t_sdk = await timed(
                            lambda c=concurrency: _in_batches(calls, c, sdk_call), repeat
                        )
                        t_raw = await timed(
                            lambda c=concurrency: _in_batches(calls, c, raw_call), repeat
                        )
                        rows.append(
                            (
                                f"credits() x{calls}, concurrency {concurrency}",
                                f"{calls / t_sdk:,.0f} calls/s",
                                f"{calls / t_raw:,.0f} calls/s",
                                f"{t_raw / t_sdk:.2f}x",
                            )
                        )
    return rows


def main() -> None:
    header = ("benchmark", "nemovideo", "raw aiohttp", "ratio")
    run_main(__doc__, bench, {"calls": 3000, "repeat": 3}, header)


if __name__ == "__main__":
    main()
