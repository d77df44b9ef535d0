"""Two processes renewing tokens into one config dir never leave a corrupt cache behind."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from nemovideo.testing import Emulator, fast_client

CHILD = """
import asyncio, sys
import nemovideo

async def main():
    for _ in range(15):
        async with nemovideo.NemoClient(base_url=sys.argv[1], config_dir=sys.argv[2],
                                        rate_limit_wait=0.01, retry_backoff=0.001) as c:
            await c.credits()
        await asyncio.sleep(0.1)

asyncio.run(main())
"""


async def test_concurrent_renewals_keep_the_cache_valid(tmp_path: Path) -> None:
    async with Emulator(token_ttl=61.0) as emulator:
        await _race(emulator, tmp_path / "cfg")


async def _race(emulator: Emulator, cfg: Path) -> None:
    """Two processes with no token start at once (one may be issued it, the other must wait for
    that and read it), then every start finds the cached token near its expiry by the clock and
    uses it anyway: the server judges expiry, so nobody asks for a second token the API would
    refuse while the first is valid."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEMO_")}
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            CHILD,
            emulator.url,
            str(cfg),
            env=env,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(2)
    ]
    results = await asyncio.gather(*(asyncio.wait_for(p.communicate(), 60) for p in procs))
    for proc, (_, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err.decode()
    asked = len(emulator.requests_to("/api/auth/anonymous-token"))
    assert asked == 1, "a token is kept until the server answers 1001: no renewal by the clock"
    assert len(emulator.store.tokens) == 1, "only one token was ever issued"
    _assert_cache_intact(cfg)
    async with fast_client(emulator, cfg) as again:
        assert (await again.credits()).available >= 0


def _assert_cache_intact(cfg: Path) -> None:
    caches = sorted(cfg.glob("token-*.json"))
    assert caches
    for cache in caches:
        data = json.loads(cache.read_text())
        assert data["token"].startswith("nmv_usr_")
    assert not [p for p in cfg.iterdir() if ".tmp" in p.name]
