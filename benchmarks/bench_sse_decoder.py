"""How fast is ``nemovideo.chat._sse.SSEDecoder`` next to a bare line loop? (in-process, no sockets)

Builds ~50 MB of what a real ADK ``/run_sse`` stream carries (one-line camelCase JSON per
``data:`` frame: partial text deltas, final texts, function calls, function responses holding a
draft, with CJK and emoji), then times, over the same bytes cut into 64 KiB chunks:

(a) ``SSEDecoder.feed`` + ``json.loads`` of each event's data;
(b) the raw baseline: split lines on ``b"\\n"``, strip ``b"data: "``, ``json.loads`` - what a
    hand-rolled aiohttp loop does, with none of the SSE rules or caps;
(c) aiohttp's own ``StreamReader`` line iteration (``async for line in resp.content``) + the same;

and, when they are importable, the PyPI decoders considered instead of a hand-written one
(httpx-sse over httpx's text decoding; sseclient-py). Prints events/s, MB/s and ratios to (b);
``--no-json`` leaves out ``json.loads`` to show the framing cost alone.

Usage::

    python benchmarks/bench_sse_decoder.py [--mb 50] [--repeat 5] [--chunk 65536] [--no-json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nemovideo.chat._sse import ServerSentEvent, SSEDecoder

LOADS: Callable[[str | bytes], Any] = json.loads

_WORDS = [
    *[
        "I'll",
        "create",
        "a",
        "city",
        "timelapse",
        "video",
        "from",
        "your",
        "6",
        "images",
        "with",
        "fade",
        "transitions,",
        "add",
    ],
    *[
        "lo-fi",
        "background",
        "music",
        "at",
        "35%",
        "volume",
        "and",
        "the",
        "title",
        "导出",
        "Urban",
        "Dreams",
        "🎬✨",
        "for",
        "you.",
    ],
    *["视频已经生成完毕，", "可以导出了", "🚀"],
]


def _actions() -> dict[str, Any]:
    return {
        "stateDelta": {},
        "artifactDelta": {},
        "requestedAuthConfigs": {},
        "requestedToolConfirmations": {},
    }


def _base(rng: random.Random, inv: str, eid: str) -> dict[str, Any]:
    return {
        "invocationId": inv,
        "author": "nemo_video_agent",
        "actions": _actions(),
        "id": eid,
        "timestamp": 1732000000 + rng.random() * 1000,
    }


def _draft(rng: random.Random) -> dict[str, Any]:
    segments = [
        {
            "id": f"sg_{i}",
            "st": i * 2000,
            "d": 2000,
            "m": {
                "name": f"img_{i}.jpg",
                "src": f"/mnt/userdata/u_{rng.randrange(10**9)}/img_{i}.jpg",
                "media_id": f"m_{uuid.UUID(int=rng.getrandbits(128)).hex}",
                "kind": "image",
                "transition": "fade",
                "transition_ms": 500,
            },
        }
        for i in range(rng.randrange(3, 9))
    ]
    return {
        "t": [
            {"tt": 0, "sg": segments, "m": {"name": "city timelapse"}},
            {
                "tt": 1,
                "sg": [{"id": "sg_a", "st": 0, "d": 10000, "m": {"name": "Lo-fi", "volume": 0.35}}],
            },
            {
                "tt": 7,
                "sg": [{"id": "sg_t", "st": 0, "d": 3000, "m": {"text": "Urban Dreams 导出"}}],
            },
        ],
        "d": 10000,
        "m": {"title": "Urban Dreams", "width": 1920, "height": 1080, "fps": 30},
    }


def _event(rng: random.Random, inv: str, role: str, part: dict[str, Any],
           eid: str | None = None) -> dict[str, Any]:  # fmt: skip
    """An ADK event holding one part; a fresh event id unless ``eid`` (the rng order is kept)."""
    ev = _base(rng, inv, eid if eid is not None else str(uuid.UUID(int=rng.getrandbits(128))))
    ev["content"] = {"role": role, "parts": [part]}
    return ev


def adk_events(rng: random.Random) -> Iterator[dict[str, Any]]:
    """One invocation: partial deltas, the full text, a call, its response, a closing text."""
    inv = f"e-{uuid.UUID(int=rng.getrandbits(128))}"
    eid = str(uuid.UUID(int=rng.getrandbits(128)))
    words = [rng.choice(_WORDS) for _ in range(rng.randrange(8, 40))]
    for i in range(0, len(words), 3):
        ev = _event(rng, inv, "model", {"text": " ".join(words[i : i + 3]) + " "}, eid)
        ev["partial"] = True
        yield ev
    yield _event(rng, inv, "model", {"text": " ".join(words)}, eid)
    call_id = f"adk-{uuid.UUID(int=rng.getrandbits(128))}"
    args = {"instruction": " ".join(words[:10]), "duration_ms": 10000}
    call = {"id": call_id, "name": "edit_multitrack", "args": args}
    ev = _event(rng, inv, "model", {"functionCall": call})
    ev["longRunningToolIds"] = []
    yield ev
    answer: dict[str, Any] = {"id": call_id, "name": "edit_multitrack", "response": None}
    ev = _event(rng, inv, "user", {"functionResponse": answer})
    answer["response"] = {"result": {"ok": True, "draft": _draft(rng)}}
    yield ev
    ev = _event(rng, inv, "model", {"text": "Done ✅ 导出 when you're ready."})
    ev["turnComplete"] = True
    ev["usageMetadata"] = {"promptTokenCount": 1234, "candidatesTokenCount": 56}
    yield ev


def build_stream(mb: float, seed: int = 7) -> tuple[bytes, int]:
    """~``mb`` MB of ADK SSE frames as a real server sends them; returns (bytes, event count)."""
    rng = random.Random(seed)
    frames: list[bytes] = []
    size = 0
    target = int(mb * 1_000_000)
    while size < target:
        for ev in adk_events(rng):
            frame = b"data: " + json.dumps(ev, ensure_ascii=False, separators=(",", ":")).encode()
            frame += b"\n\n"
            frames.append(frame)
            size += len(frame)
    return b"".join(frames), len(frames)


def chunks_of(stream: bytes, size: int) -> list[bytes]:
    return [stream[i : i + size] for i in range(0, len(stream), size)]


def run_ours(chunks: list[bytes]) -> int:
    decoder = SSEDecoder()
    loads = LOADS
    n = 0
    for chunk in chunks:
        for ev in decoder.feed(chunk):
            assert isinstance(ev, ServerSentEvent)
            loads(ev.data)
            n += 1
    decoder.close()
    return n


def data_lines(tail: bytes, chunk: bytes, loads: Callable[[bytes], Any]) -> tuple[bytes, int]:
    """The hand-rolled floor's step: split ``tail + chunk`` into lines, ``loads`` each ``data:``
    line's value; returns the unterminated last line and how many were parsed."""
    lines = (tail + chunk).split(b"\n")
    tail = lines.pop()
    n = 0
    for line in lines:
        if line.startswith(b"data: "):
            loads(line[6:])
            n += 1
    return tail, n


def run_raw(chunks: list[bytes]) -> int:
    n = 0
    tail = b""
    for chunk in chunks:
        tail, got = data_lines(tail, chunk, LOADS)
        n += got
    return n


def run_aiohttp_reader(chunks: list[bytes]) -> int:
    from aiohttp import StreamReader
    from aiohttp.base_protocol import BaseProtocol

    class Unpaused(BaseProtocol):
        def pause_reading(self) -> None:  # no socket behind it: everything is fed up front
            pass

    async def go() -> int:
        loop = asyncio.get_running_loop()
        reader = StreamReader(Unpaused(loop), 2**16, loop=loop)
        for chunk in chunks:
            reader.feed_data(chunk)
        reader.feed_eof()
        loads = LOADS
        n = 0
        async for line in reader:
            if line.startswith(b"data: "):
                loads(line[6:])
                n += 1
        return n

    return asyncio.run(go())


def run_httpx_sse(chunks: list[bytes]) -> int:
    from httpx._decoders import TextDecoder  # type: ignore[import-not-found]
    from httpx_sse import _decoders as hsse  # type: ignore[import-not-found]

    text, lines_dec, sse = TextDecoder("utf-8"), hsse.SSELineDecoder(), hsse.SSEDecoder()
    loads = LOADS
    n = 0
    for chunk in chunks:
        for line in lines_dec.decode(text.decode(chunk)):
            ev = sse.decode(line)
            if ev is not None:
                loads(ev.data)
                n += 1
    return n


def run_sseclient(chunks: list[bytes]) -> int:
    from sseclient import SSEClient  # type: ignore[import-not-found]

    loads = LOADS
    n = 0
    for ev in SSEClient(iter(chunks)).events():
        loads(ev.data)
        n += 1
    return n


def time_once(fn: Callable[[list[bytes]], int], chunks: list[bytes]) -> tuple[float, int]:
    t0 = time.perf_counter()
    count = fn(chunks)
    return time.perf_counter() - t0, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--mb", type=float, default=50.0, help="stream size in MB (default 50)")
    parser.add_argument("--chunk", type=int, default=64 * 1024, help="chunk size (default 64 KiB)")
    parser.add_argument("--repeat", type=int, default=5, help="best of N runs (default 5)")
    parser.add_argument(
        "--no-json", action="store_true", help="skip json.loads: time the line/SSE handling alone"
    )
    args = parser.parse_args()
    if args.no_json:
        global LOADS
        LOADS = len

    stream, n_events = build_stream(args.mb)
    chunks = chunks_of(stream, args.chunk)
    mb = len(stream) / 1e6
    print(
        f"stream: {mb:.1f} MB, {n_events} events (avg {len(stream) / n_events:.0f} B), "
        f"{len(chunks)} chunks of {args.chunk} B, Python {sys.version.split()[0]}"
    )
    candidates: list[tuple[str, Callable[[list[bytes]], int]]] = [
        ("raw line loop (baseline)", run_raw),
        ("nemovideo SSEDecoder", run_ours),
        ("aiohttp StreamReader lines", run_aiohttp_reader),
        ("httpx-sse 0.4 (+httpx text)", run_httpx_sse),
        ("sseclient-py", run_sseclient),
    ]
    best: dict[str, float] = {}
    counts: dict[str, int] = {}
    for _ in range(args.repeat):  # interleaved, so a noisy neighbour hurts every candidate alike
        for name, fn in candidates:
            try:
                secs, counts[name] = time_once(fn, chunks)
            except ImportError as e:
                print(f"  {name:30s} skipped ({e.name} not installed)")
                candidates = [c for c in candidates if c[0] != name]
                continue
            best[name] = min(best.get(name, float("inf")), secs)
    raw = best["raw line loop (baseline)"]
    for name, secs in best.items():
        count = counts[name]
        wrong = "" if count == n_events else f"   WRONG: {count} events, expected {n_events}"
        print(
            f"  {name:30s} {count / secs:>10,.0f} events/s {mb / secs:>8.1f} MB/s"
            f"   ratio to raw {raw / secs:.2f}{wrong}"
        )
    ours = raw / best["nemovideo SSEDecoder"]
    note = " (framing alone, json.loads skipped)" if args.no_json else " (target >= 0.80)"
    print(f"ours / raw = {ours:.2f}{note}")


if __name__ == "__main__":
    main()
