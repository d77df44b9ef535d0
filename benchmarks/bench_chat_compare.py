"""Chat end to end against what other stacks get, over loopback, server in its own process.

A dedicated aiohttp SSE server (this script with ``--serve``, a separate process) streams N
pre-built ADK frames (``bench_sse_decoder.adk_events``: partial deltas, final texts, function
calls and responses carrying a draft, ~500 B a frame) as fast as the socket takes them, and
answers the state read ``ChatStream`` makes first. One client process then times, interleaved
(every candidate once per round, rotating the order), over the same server:

- ``chat()``: ``async for event in session.chat(...)`` (typed events, transcript, deadlines),
  with orjson when installed (the ``speedups`` extra), and again with the stdlib parser;
- ``send()``: ``await session.send(...)`` (the whole reply, draft read after);
- iter_any floor: aiohttp ``resp.content.iter_any()`` + split lines + ``json.loads``;
- httpx + httpx-sse: ``aconnect_sse`` + ``aiter_sse`` + ``json.loads``;
- openai SSEDecoder: openai-python's ``_streaming.SSEDecoder.aiter_bytes`` over httpx bytes;
- aiohttp readline: ``async for line in resp.content`` + ``json.loads``.

Rows give events/s (median of ``--rounds`` rounds) and each ratio's median and spread (min-max
over rounds, each ratio taken within one round). Per-event cost flatness compares the median
per-event time at the largest size with the smallest (which also pays the fixed costs of a
message: the state read, the connection) and with 100,000 events (where those are noise). RSS growth runs one reply in a fresh
process per row (peak RSS after, minus RSS before, warm-up excluded).

Usage::

    python benchmarks/bench_chat_compare.py [--sizes 1000,100000,300000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from _common import ROOT, table
from bench_sse_decoder import _WORDS, _event, adk_events, data_lines

SID = "5529798706024415232"
Client = Callable[[str, int], Awaitable[int]]


def frames(count: int) -> bytes:
    import random

    rng = random.Random(count)
    out: list[bytes] = []
    while len(out) < count:
        turn = [json.dumps(ev, ensure_ascii=False, separators=(",", ":")).encode()
                for ev in adk_events(rng)]  # fmt: skip
        if len(out) + len(turn) > count:  # no call left unanswered: pad with the first delta
            turn = turn[:1] * (count - len(out))
        out += [b"data: " + body + b"\n\n" for body in turn]
    return b"".join(out)


#: The long-text reply's words: those of the ADK frames within the Basic Multilingual Plane, so
#: the joined text is a 2-byte-per-character ``str``, as a reply with Chinese in it is.
_BMP_WORDS = [w for w in _WORDS if max(map(ord, w)) < 0x10000]
LONG = "long:"


def long_text_frames(count: int) -> bytes:
    """A reply that is mostly streamed text: per model turn nine ``partial`` deltas of 50-200
    characters (three in four events), the final text repeating them (as ADK sends it), a tool
    call and its response; ``count`` events, about 9.4 M characters of reply at 100,000."""
    import random

    rng = random.Random(count)
    out: list[bytes] = []
    while len(out) < count:
        inv, eid = f"e-{rng.getrandbits(64):x}", f"{rng.getrandbits(128):032x}"
        deltas = []
        for _ in range(9):
            size, words = rng.randrange(50, 201), []
            while sum(map(len, words)) + len(words) < size:
                words.append(rng.choice(_BMP_WORDS))
            deltas.append(" ".join(words)[:size])
        turn = []
        for delta in deltas:
            ev = _event(rng, inv, "model", {"text": delta}, eid)
            ev["partial"] = True
            turn.append(ev)
        turn.append(_event(rng, inv, "model", {"text": "".join(deltas)}, eid))
        call = {"id": f"adk-{rng.getrandbits(64):x}", "name": "edit_multitrack", "args": {}}
        turn.append(_event(rng, inv, "model", {"functionCall": call}))
        answer = {**call, "response": {"result": {"ok": True}}}
        del answer["args"]
        turn.append(_event(rng, inv, "user", {"functionResponse": answer}))
        turn = turn[: count - len(out)]
        out += [b"data: " + json.dumps(ev, ensure_ascii=False, separators=(",", ":")).encode()
                + b"\n\n" for ev in turn]  # fmt: skip
    return b"".join(out)


# -- the server (its own process) -------------------------------------------------------------


def serve() -> None:
    from aiohttp import web

    payloads: dict[str, bytes] = {}

    async def state(request: web.Request) -> web.Response:
        data = {"session_id": SID, "task_id": "t1",
                "state": {"draft": {"t": [], "d": 0}, "video_infos": []}}  # fmt: skip
        return web.json_response({"code": 0, "message": "ok", "data": data})

    async def run_sse(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        text = body["new_message"]["parts"][0]["text"]
        payload = payloads.get(text)
        if payload is None:
            if text.startswith(LONG):
                payload = payloads[text] = long_text_frames(int(text.removeprefix(LONG)))
            else:
                payload = payloads[text] = frames(int(text))
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        view = memoryview(payload)
        for start in range(0, len(payload), 1 << 16):
            await resp.write(view[start : start + (1 << 16)])
        await resp.write_eof()
        return resp

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/api/state/nemo_agent/me/{sid}/latest", state)
        app.router.add_post("/run_sse", run_sse)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        print(f"port {runner.addresses[0][1]}", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


def start_server(sizes: list[int]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, __file__, "--serve"], stdout=subprocess.PIPE,
                            text=True, cwd=ROOT / "benchmarks")  # fmt: skip
    assert proc.stdout is not None
    url = f"http://127.0.0.1:{proc.stdout.readline().split()[1]}"

    async def warm() -> None:  # build every payload before timing anything
        async with aiohttp.ClientSession() as http:
            for n in sizes:
                await floor(http, url, n)

    asyncio.run(warm())
    return proc, url


# -- the candidates ---------------------------------------------------------------------------


def body_for(count: int) -> dict[str, Any]:
    return {"app_name": "nemo_agent", "user_id": "me", "session_id": SID,
            "new_message": {"role": "user", "parts": [{"text": str(count)}]}}  # fmt: skip


async def floor(http: aiohttp.ClientSession, url: str, count: int) -> int:
    n = 0
    async with http.post(url + "/run_sse", json=body_for(count)) as resp:
        tail = b""
        async for chunk in resp.content.iter_any():
            tail, got = data_lines(tail, chunk, json.loads)
            n += got
    return n


async def readline(http: aiohttp.ClientSession, url: str, count: int) -> int:
    loads = json.loads
    n = 0
    async with http.post(url + "/run_sse", json=body_for(count)) as resp:
        async for line in resp.content:
            if line.startswith(b"data: "):
                loads(line[6:])
                n += 1
    return n


async def httpx_sse(client: Any, url: str, count: int) -> int:
    from httpx_sse import aconnect_sse

    loads = json.loads
    n = 0
    async with aconnect_sse(client, "POST", url + "/run_sse", json=body_for(count)) as source:
        async for sse in source.aiter_sse():
            loads(sse.data)
            n += 1
    return n


async def openai_sse(client: Any, url: str, count: int) -> int:
    from openai._streaming import SSEDecoder  # type: ignore[import-not-found]

    loads = json.loads
    n = 0
    async with client.stream("POST", url + "/run_sse", json=body_for(count)) as resp:
        async for sse in SSEDecoder().aiter_bytes(resp.aiter_bytes()):
            loads(sse.data)
            n += 1
    return n


async def chat(client: Any, url: str, count: int) -> int:
    n = 0
    async with client.session(SID).chat(str(count)) as stream:
        async for _ in stream:
            n += 1
    return n


async def chat_stdlib(client: Any, url: str, count: int) -> int:
    """``chat()`` with the stdlib JSON parser, as without the ``speedups`` extra (orjson)."""
    from nemovideo._util import jsonparse as _json

    _json.use_orjson(False)
    try:
        return await chat(client, url, count)
    finally:
        _json.use_orjson(True)


async def send(client: Any, url: str, count: int) -> int:
    reply = await client.session(SID).send(str(count))
    assert reply.text
    return count


def openai_missing() -> str | None:
    try:
        import openai._streaming  # type: ignore[import-not-found]  # noqa: F401
    except ImportError as exc:
        return f"openai not importable ({exc.name}); add openai to the dev extra"
    return None


async def measure(url: str, sizes: list[int], rounds: int) -> dict[str, dict[int, list[float]]]:
    import httpx

    import nemovideo
    from nemovideo._util import jsonparse as _json

    names = ["chat()", "chat(), stdlib json", "send()", "iter_any floor", "httpx-sse",
             "openai SSEDecoder", "aiohttp readline"]  # fmt: skip
    if _json.BACKEND != "orjson":
        names.remove("chat(), stdlib json")  # chat() itself is the stdlib one
    if openai_missing():
        names.remove("openai SSEDecoder")
    times: dict[str, dict[int, list[float]]] = {n: {s: [] for s in sizes} for n in names}
    with tempfile.TemporaryDirectory() as cfg:
        config = nemovideo.ClientConfig(base_url=url, token="nmv_usr_bench", config_dir=cfg)
        async with (
            nemovideo.NemoClient(config=config) as ours,
            aiohttp.ClientSession() as http,
            httpx.AsyncClient(timeout=None) as hx,
        ):
            runs: dict[str, Callable[[int], Awaitable[int]]] = {
                "chat()": lambda n: chat(ours, url, n),
                "chat(), stdlib json": lambda n: chat_stdlib(ours, url, n),
                "send()": lambda n: send(ours, url, n),
                "iter_any floor": lambda n: floor(http, url, n),
                "httpx-sse": lambda n: httpx_sse(hx, url, n),
                "openai SSEDecoder": lambda n: openai_sse(hx, url, n),
                "aiohttp readline": lambda n: readline(http, url, n),
            }
            for name in names:  # warm-up: imports, connections, first-call caches
                await runs[name](sizes[0])
            for r in range(rounds):
                order = names[r % len(names) :] + names[: r % len(names)]
                for size in sizes:
                    for name in order:
                        started = time.perf_counter()
                        got = await runs[name](size)
                        times[name][size].append(time.perf_counter() - started)
                        assert got == size, (name, got, size)
    return times


def ratio_cell(num: list[float], den: list[float]) -> str:
    """``num``'s events/s over ``den``'s (``den`` time / ``num`` time), per round: median (range)."""
    ratios = [d / n for n, d in zip(num, den, strict=True)]
    return f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})"


# -- RSS in a fresh process -------------------------------------------------------------------


def rss_child(kind: str, url: str, count: int, trace: int = 0) -> None:
    """One reply in this (fresh) process; prints its RSS growth (MB) and, for ``send`` kinds, the
    reply text's length and ``sys.getsizeof``. ``trace``: also the top ``trace`` lines holding
    memory (tracemalloc) at the largest of the snapshots taken every 0.2 s while it runs."""
    import gc
    import tracemalloc

    import nemovideo

    info: dict[str, Any] = {}

    async def sample(best: list[Any]) -> None:
        while True:
            await asyncio.sleep(0.2)
            size = tracemalloc.get_traced_memory()[0]
            if size > best[0]:
                best[:] = [size, tracemalloc.take_snapshot()]

    async def main() -> float:
        with tempfile.TemporaryDirectory() as cfg:
            config = nemovideo.ClientConfig(base_url=url, token="nmv_usr_bench", config_dir=cfg)
            async with nemovideo.NemoClient(config=config) as client, aiohttp.ClientSession() as h:
                warm = {"send": send, "chat": chat}.get(kind)
                await (warm(client, url, 1000) if warm else floor(h, url, 1000))
                gc.collect()
                base = _current_rss_mb()
                peak = _PeakSampler()
                if kind in ("send", "send-long"):
                    if trace:
                        tracemalloc.start(1)
                        best: list[Any] = [0, None]
                        sampler = asyncio.create_task(sample(best))
                    message = f"{LONG}{count}" if kind == "send-long" else str(count)
                    reply = await client.session(SID).send(message)
                    keep = [reply]
                    info.update(chars=len(reply.text), text_mb=sys.getsizeof(reply.text) / 2**20)
                    if trace:
                        sampler.cancel()
                        info["traced_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
                        if best[0] < tracemalloc.get_traced_memory()[0]:
                            best[:] = [0, tracemalloc.take_snapshot()]
                        top = best[1].statistics("lineno")[:trace]
                        info["top"] = [f"{st.size / 2**20:8.2f} MB {st.count:>9,} blocks  "
                                       f"{st.traceback[0].filename.split('nemovideo/')[-1]}:"
                                       f"{st.traceback[0].lineno}" for st in top]  # fmt: skip
                        info["top_at_mb"] = sum(st.size for st in best[1].statistics("filename"))
                        info["top_at_mb"] /= 2**20
                        tracemalloc.stop()
                elif kind == "chat":
                    async with client.session(SID).chat(str(count)) as stream:
                        async for _ in stream:
                            pass
                    keep = [stream]
                else:
                    await floor(h, url, count)
                    keep = []
                grown = max(peak.stop(), _current_rss_mb()) - base
                del keep
                return grown

    info["grown"] = asyncio.run(main())
    print(json.dumps(info))


def _current_rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class _PeakSampler:
    """Peak RSS since creation, sampled every 2 ms by a thread (``ru_maxrss`` is inherited from
    the parent across fork and exec, so it cannot measure a child's growth)."""

    def __init__(self) -> None:
        self.peak = _current_rss_mb()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._done.wait(0.002):
            self.peak = max(self.peak, _current_rss_mb())

    def stop(self) -> float:
        self._done.set()
        self._thread.join()
        return max(self.peak, _current_rss_mb())


def rss(kind: str, url: str, count: int, trace: int = 0) -> dict[str, Any]:
    """``rss_child`` in a fresh process: ``{"grown": MB, ...}``."""
    extra = ["--trace", str(trace)] if trace else []
    out = subprocess.run([sys.executable, __file__, "--rss", kind, url, str(count), *extra],
                         capture_output=True, text=True, check=True, cwd=ROOT / "benchmarks")  # fmt: skip
    found: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return found


LONG_HEADER = ("figure", "measured (median, min-max)", "target")


def long_text_rows(events: int, runs: int, trace: int = 0, url: str = "") -> list[tuple[str, ...]]:
    """The long-text ``send()`` memory figure, each run in a fresh process: RSS growth beyond
    ``sys.getsizeof(reply.text)`` (the text is the result; what else is kept is the cost)."""
    proc = None
    if not url:
        proc, url = start_server([1000])
    try:
        got = [rss("send-long", url, events) for _ in range(runs)]
        traced = rss("send-long", url, events, trace) if trace else None
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait()
    beyond = [g["grown"] - g["text_mb"] for g in got]
    grown = [g["grown"] for g in got]
    rows = [
        (f"RSS growth beyond the reply's text, {events:,}-event long-text reply via send()",
         f"{statistics.median(beyond):.1f} MB ({min(beyond):.1f}-{max(beyond):.1f})", "< 20 MB"),
        ("  the reply's text (the result, not counted)",
         f"{got[0]['chars']:,} characters, {got[0]['text_mb']:.1f} MB as a str", ""),
        ("  RSS growth in all", f"{statistics.median(grown):.1f} MB "
         f"({min(grown):.1f}-{max(grown):.1f})", ""),
    ]  # fmt: skip
    if traced:
        rows.append((f"  tracemalloc peak (run {runs + 1}, traced)",
                     f"{traced['traced_peak_mb']:.1f} MB", ""))  # fmt: skip
        rows.append((f"  held at the largest 0.2 s sample: {traced['top_at_mb']:.1f} MB, top lines",
                     "", ""))  # fmt: skip
        rows += [(f"  `{line.strip()}`", "", "") for line in traced["top"]]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000,300000")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rss-events", type=int, default=100_000)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--rss", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--trace", type=int, default=0,
                        help="with --long-text-only: also print the top N lines holding memory")  # fmt: skip
    parser.add_argument("--long-text-only", action="store_true",
                        help="only the long-text send() memory figure (--rounds fresh processes)")  # fmt: skip
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    if args.rss:
        kind, url, count = args.rss
        rss_child(kind, url, int(count), args.trace)
        return
    if args.long_text_only:
        print(table(long_text_rows(args.rss_events, args.rounds, args.trace), LONG_HEADER))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    proc, url = start_server(sizes)
    try:
        times = asyncio.run(measure(url, sizes, args.rounds))
        growth = {kind: rss(kind, url, args.rss_events) for kind in ("send", "chat", "floor")}
        long_rows = long_text_rows(args.rss_events, 3, url=url)
    finally:
        proc.terminate()
        proc.wait()
    print(f"{args.rounds} rounds, interleaved; events/s is the median; ratio: median (min-max)")
    rows: list[tuple[str, ...]] = []
    for size in sizes:
        for name, per in times.items():
            med = statistics.median(per[size])
            rows.append((f"{size:,} events, {name}", f"{size / med:,.0f} events/s",
                         ratio_cell(per[size], times["iter_any floor"][size]),
                         ratio_cell(per[size], times["httpx-sse"][size])))  # fmt: skip
    print(table(rows, ("candidate", "events/s", "vs iter_any floor", "vs httpx-sse")))
    missing = openai_missing()
    if missing:
        print(f"\nopenai SSEDecoder: unavailable ({missing})")
    print()
    lo, hi = sizes[0], sizes[-1]
    target: list[tuple[str, ...]] = []
    big = 100_000 if 100_000 in sizes else hi
    target.append((f"chat() events/s vs httpx-sse, {big:,} events",
                   ratio_cell(times["chat()"][big], times["httpx-sse"][big]), ">= 1.2x"))  # fmt: skip
    target.append((f"chat() vs iter_any floor, {big:,} events",
                   ratio_cell(times["chat()"][big], times["iter_any floor"][big]), ">= 1.0x"))  # fmt: skip
    if "chat(), stdlib json" in times:
        target.append((f"chat() without orjson (stdlib json) vs httpx-sse, {big:,} events",
                       ratio_cell(times["chat(), stdlib json"][big], times["httpx-sse"][big]),
                       "(no target)"))  # fmt: skip
        target.append((f"chat() without orjson (stdlib json) vs iter_any floor, {big:,} events",
                       ratio_cell(times["chat(), stdlib json"][big],
                                  times["iter_any floor"][big]), "(no target)"))  # fmt: skip
    pairs = [(lo, hi)] + ([(big, hi)] if lo < big < hi else [])
    for small, large in pairs:
        note = " (the smaller run pays the fixed costs)" if small == lo else ""
        for name in ("chat()", "send()", "iter_any floor"):
            per_lo = [t / small for t in times[name][small]]
            per_hi = [t / large for t in times[name][large]]
            growth_pct = [h / low - 1 for low, h in zip(per_lo, per_hi, strict=True)]
            target.append((f"per-event cost, {large:,} vs {small:,} events, {name}{note}",
                           f"{statistics.median(growth_pct):+.0%} ({min(growth_pct):+.0%} to "
                           f"{max(growth_pct):+.0%})", "within 10%"))  # fmt: skip
    target.append((f"RSS growth, {args.rss_events:,}-event reply via send()",
                   f"{growth['send']['grown']:.1f} MB", "(no target)"))  # fmt: skip
    target.append((f"RSS growth, {args.rss_events:,}-event chat() (events read and dropped)",
                   f"{growth['chat']['grown']:.1f} MB",
                   f"(iter_any floor: {growth['floor']['grown']:.1f} MB)"))  # fmt: skip
    print(table(target, ("figure", "measured", "target")))
    print()
    print(table(long_rows, LONG_HEADER))


if __name__ == "__main__":
    main()
