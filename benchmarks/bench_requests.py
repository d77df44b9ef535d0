"""Request overhead: ``client.credits()`` next to raw aiohttp doing the same GET, interleaved.

Both sides send the same headers (Authorization, the three attribution headers and an
``X-Request-Id``) over one shared connection pool each to the same emulator process, decode the
``{"code", "data"}`` envelope and check the code; the SDK adds its retry wrapper, typed decoding
and the ``Credits`` value. The clients run in a worker process of their own (the emulator in
another), pinned to one CPU (``--cpu``), driven round by round: every round runs each side once,
in an order that rotates, so a noisy neighbour on a shared machine hits both alike, and each
ratio is taken within one round. Measured at concurrency 1 (latency-bound) and 100
(throughput-bound; ``concurrency`` tasks each calling in turn). Reported: calls/s (wall) and the
client process's CPU time per call, each as the median over the rounds with the spread
(min-max); ratio = raw time / SDK time (1.0 = no overhead, above 1.0 = the SDK is faster). CPU
per call is the steadier figure on a busy machine: wall time also counts the emulator and
whoever else holds the cores.

``--against TREE`` adds a second SDK, imported from another checkout (``/work/main``), in a
worker of its own on the same CPU and in the same rounds: an A/B of a change, printed as a
second table. (Unpinned, two identical workers differed by up to 11% in CPU per call on a shared
2-core machine, whichever core each landed on; pinned, by 1%.) Where even that is too coarse
(a change worth 1-5%), ``--instructions N`` counts the instructions the client process runs per
call under valgrind, exact from run to run, for the SDK of each tree and for raw aiohttp (some
minutes). ``--profile N`` runs N sequential calls of each side under cProfile and prints the
function calls per call and where the SDK's time goes.

Usage::

    python benchmarks/bench_requests.py [--calls 400] [--calls-100 2000] [--rounds 15]
        [--cpu N] [--against /work/main] [--instructions 1000] [--profile 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from _common import ROOT, emulator_process, ratio_spread, spread, table

CREDITS = "/api/credits/balance/simple"
Side = Callable[[], Awaitable[None]]


# -- the worker (its own process: one tree's SDK, and the raw baseline) ---------------------


async def drive(call: Side, calls: int, concurrency: int) -> None:
    """``calls`` calls from ``concurrency`` tasks, each calling in turn (always that many in
    flight, unlike batches that wait for their slowest)."""

    async def lane(count: int) -> None:
        for _ in range(count):
            await call()

    each, extra = divmod(calls, concurrency)
    await asyncio.gather(*(lane(each + (i < extra)) for i in range(concurrency)))


async def open_sides(url: str, config_dir: str, stack: Any) -> dict[str, Side]:
    """The SDK's ``credits()`` (its client holding a token) and the raw aiohttp GET sending it."""
    import aiohttp

    import nemovideo

    client = await stack.enter_async_context(
        nemovideo.NemoClient(base_url=url, config_dir=Path(config_dir))
    )
    await client.credits()
    token = await client._transport.token()  # noqa: SLF001 (the raw side sends the same token)
    cfg = client.config
    headers = {
        "Authorization": f"Bearer {token}",
        "X-Skill-Source": cfg.skill_name,
        "X-Skill-Version": cfg.skill_version,
        "X-Skill-Platform": cfg.skill_platform,
    }
    raw = await stack.enter_async_context(
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    )
    target = url + CREDITS
    ids = itertools.count(1)

    async def raw_call() -> None:
        async with raw.get(target, headers={**headers, "X-Request-Id": f"raw_{next(ids):x}"}) as r:
            body = await r.json()
            if body["code"] != 0:
                raise RuntimeError(body)

    async def sdk_call() -> None:
        await client.credits()

    return {"sdk": sdk_call, "raw": raw_call}


def worker(tree: str, url: str, cpu: int) -> None:
    """Answer ``<side> <calls> <concurrency>`` lines on stdin with ``{"wall", "cpu"}`` seconds."""
    import contextlib

    if cpu >= 0 and hasattr(os, "sched_setaffinity"):  # Linux
        os.sched_setaffinity(0, {cpu})
    sys.path.insert(0, tree)
    import nemovideo

    if not Path(nemovideo.__file__).resolve().is_relative_to(Path(tree).resolve()):
        raise SystemExit(f"nemovideo came from {nemovideo.__file__}, not {tree}")
    loop = asyncio.new_event_loop()
    stack = contextlib.AsyncExitStack()
    with tempfile.TemporaryDirectory() as cfg:
        sides = loop.run_until_complete(open_sides(url, cfg, stack))
        print("ready", flush=True)
        for line in sys.stdin:
            side, calls, concurrency = line.split()
            wall, cpu = time.perf_counter(), time.process_time()
            loop.run_until_complete(drive(sides[side], int(calls), int(concurrency)))
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            print(json.dumps({"wall": wall, "cpu": cpu}), flush=True)
        loop.run_until_complete(stack.aclose())
    loop.close()


def profile(tree: str, url: str, calls: int) -> None:
    """cProfile of ``calls`` sequential calls of each side: function calls per call, and where
    the SDK's time goes (its own functions, then the top of everything)."""
    import contextlib
    import cProfile
    import pstats

    sys.path.insert(0, tree)

    async def run() -> dict[str, pstats.Stats]:
        stats: dict[str, pstats.Stats] = {}
        async with contextlib.AsyncExitStack() as stack:
            with tempfile.TemporaryDirectory() as cfg:
                for side, call in (await open_sides(url, cfg, stack)).items():
                    await drive(call, 200, 1)
                    prof = cProfile.Profile()
                    prof.enable()
                    await drive(call, calls, 1)
                    prof.disable()
                    stats[side] = pstats.Stats(prof)
        return stats

    stats = asyncio.run(run())
    per = {side: s.total_calls / calls for side, s in stats.items()}  # type: ignore[attr-defined]
    print(f"{tree}: function calls per call: credits() {per['sdk']:.0f}, raw {per['raw']:.0f}")
    stats["sdk"].sort_stats("cumulative").print_stats("nemovideo", 20)
    stats["sdk"].sort_stats("tottime").print_stats(15)


# -- the driver -------------------------------------------------------------------------------


class Worker:
    """One worker process, run a round at a time."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls, tree: str, url: str, cpu: int, wrap: tuple[str, ...] = ()) -> Worker:
        """Start a worker importing ``tree``'s SDK, under ``wrap`` (valgrind) if given."""
        proc = await asyncio.create_subprocess_exec(
            *wrap,
            sys.executable,
            __file__,
            "--worker",
            "--tree",
            tree,
            "--url",
            url,
            "--cpu",
            str(cpu),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE if wrap else None,
            cwd=ROOT / "benchmarks",
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
        assert proc.stdout is not None
        if (await proc.stdout.readline()).strip() != b"ready":
            raise RuntimeError(f"the worker for {tree} did not start")
        return cls(proc)

    async def round(self, side: str, calls: int, concurrency: int) -> dict[str, float]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"{side} {calls} {concurrency}\n".encode())
        await self.proc.stdin.drain()
        line = await self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the worker stopped (exit {await self.proc.wait()})")
        result: dict[str, float] = json.loads(line)
        return result

    async def stop(self) -> str:
        """End the worker; what it wrote to stderr if that was captured."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        err = await self.proc.stderr.read() if self.proc.stderr is not None else b""
        await self.proc.wait()
        return err.decode(errors="replace")


VALGRIND = ("valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null")


async def instructions(tree: str, url: str, side: str, calls: int) -> float:
    """Instructions the client process executes per call of ``side`` (valgrind's count, exact
    where times swing): two runs, warm-up alone and warm-up plus ``calls`` calls, so start-up
    cancels out."""

    async def run(timed: int) -> int:
        worker = await Worker.start(tree, url, -1, VALGRIND)
        await worker.round(side, 300, 1)
        if timed:
            await worker.round(side, timed, 1)
        found = re.search(r"Collected : (\d+)", await worker.stop())
        if found is None:
            raise RuntimeError("valgrind reported no instruction count")
        return int(found[1])

    base, total = await asyncio.gather(run(0), run(calls))
    return (total - base) / calls


async def count_all(trees: list[str], calls: int) -> None:
    """The ``--instructions`` table: per call of each side, each tree, ratios to raw and A/B."""
    async with emulator_process() as (url, _cdn):
        raw = await instructions(trees[0], url, "raw", calls)
        sdk = [await instructions(tree, url, "sdk", calls) for tree in trees]
    rows = [
        (
            f"credits() x{calls}, concurrency 1, instructions per call ({tree})",
            f"{n / 1e3:,.1f} k",
            f"{raw / 1e3:,.1f} k",
            f"{raw / n:.3f}x",
        )
        for tree, n in zip(trees, sdk, strict=True)
    ]
    print(table(rows, ("benchmark", "nemovideo", "raw aiohttp", "ratio (raw / ours)")))
    if len(trees) == 2:
        print(f"\nA/B: {trees[1]} / {trees[0]} = {sdk[1] / sdk[0]:.3f}x the instructions")


Runs = dict[str, list[dict[str, float]]]


async def measure(
    url: str, sizes: dict[int, int], rounds: int, against: str, cpu: int
) -> dict[int, Runs]:
    """For each concurrency, ``rounds`` rounds of every candidate (``sdk``, ``raw`` and, with
    ``against``, ``other``) in a rotating order, after one untimed round each."""
    workers = {"this": await Worker.start(str(ROOT), url, cpu)}
    if against:
        workers["other"] = await Worker.start(against, url, cpu)
    plan = {"sdk": ("this", "sdk"), "raw": ("this", "raw")}
    if against:
        plan["other"] = ("other", "sdk")
    names = list(plan)
    results: dict[int, Runs] = {}
    try:
        for concurrency, calls in sizes.items():
            runs: Runs = {name: [] for name in names}
            results[concurrency] = runs
            for name in names:
                await workers[plan[name][0]].round(plan[name][1], calls, concurrency)
            for r in range(rounds):
                for name in names[r % len(names) :] + names[: r % len(names)]:
                    where, side = plan[name]
                    runs[name].append(await workers[where].round(side, calls, concurrency))
    finally:
        for w in workers.values():
            await w.stop()
    return results


def rows_for(
    results: dict[int, Runs], sizes: dict[int, int], ours: str, base: str
) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for concurrency, runs in results.items():
        calls = sizes[concurrency]
        wall = {name: [calls / run["wall"] for run in runs[name]] for name in (ours, base)}
        cpu = {name: [run["cpu"] / calls * 1e6 for run in runs[name]] for name in (ours, base)}
        rounds = len(runs[ours])
        rows += [
            (
                f"credits() x{calls}, concurrency {concurrency}, {rounds} rounds, wall",
                spread(wall[ours], " calls/s"),
                spread(wall[base], " calls/s"),
                ratio_spread(wall[ours], wall[base]),
            ),
            (
                f"  CPU per call, concurrency {concurrency}",
                spread(cpu[ours], " us"),
                spread(cpu[base], " us"),
                ratio_spread(cpu[base], cpu[ours]),
            ),
        ]
    return rows


async def bench(sizes: dict[int, int], rounds: int, against: str, cpu: int) -> None:
    async with emulator_process() as (url, _cdn):
        results = await measure(url, sizes, rounds, against, cpu)
    print(f"{rounds} rounds per concurrency, sides interleaved (order rotating); median (min-max)")
    header = ("benchmark", "nemovideo", "raw aiohttp", "ratio (raw time / ours)")
    print(table(rows_for(results, sizes, "sdk", "raw"), header))
    if against:
        print()
        print(f"A/B in the same rounds: this tree ({ROOT}) against {against}")
        header = ("benchmark", "this tree", "other tree", "ratio (other's time / this one's)")
        print(table(rows_for(results, sizes, "sdk", "other"), header))
        print()
        print(
            table(
                rows_for(results, sizes, "other", "raw"),
                ("other tree", "nemovideo", "raw aiohttp", "ratio"),
            )
        )


def first_cpu() -> int:
    """The first CPU this process may run on (-1 where affinity cannot be set)."""
    return min(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else -1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=400, help="calls per round at concurrency 1")
    parser.add_argument("--calls-100", type=int, default=2000, help="... at concurrency 100")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--against", default="", help="another checkout's SDK, for an A/B")
    parser.add_argument("--profile", type=int, default=0, help="cProfile N calls instead")
    parser.add_argument(
        "--instructions",
        type=int,
        default=0,
        help="count instructions per call of N calls instead (valgrind)",
    )
    parser.add_argument(
        "--cpu", type=int, default=first_cpu(), help="the CPU the client workers share (-1: any)"
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tree", default=str(ROOT), help=argparse.SUPPRESS)
    parser.add_argument("--url", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.tree, args.url, args.cpu)
    elif args.profile:

        async def profiled() -> None:
            async with emulator_process() as (url, _cdn):
                for tree in filter(None, (str(ROOT), args.against)):
                    proc = await asyncio.create_subprocess_exec(
                        sys.executable,
                        __file__,
                        "--tree",
                        tree,
                        "--url",
                        url,
                        "--profile",
                        str(args.profile),
                        cwd=ROOT / "benchmarks",
                    )
                    await proc.wait()

        if args.url:
            profile(args.tree, args.url, args.profile)
        else:
            asyncio.run(profiled())
    elif args.instructions:
        trees = [str(ROOT), *filter(None, [args.against.rstrip("/")])]
        asyncio.run(count_all(trees, args.instructions))
    else:
        sizes = {1: args.calls, 100: args.calls_100}
        asyncio.run(bench(sizes, args.rounds, args.against.rstrip("/"), args.cpu))


if __name__ == "__main__":
    main()
