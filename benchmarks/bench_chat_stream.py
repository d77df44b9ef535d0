"""How fast does ``ChatStream`` deliver events, next to a bare aiohttp loop on the same stream?

A tiny local server (aiohttp.web, loopback) answers ``/run_sse`` with ``--events`` ADK frames like
the real backend's (partial text deltas, final texts, function calls and responses) and the state
endpoint ChatStream reads first. Timed, over real sockets:

(a) ``ChatStream``: SSE decoding, typed events, transcript, deadlines, notices;
(b) raw aiohttp: ``async for line in resp.content``, strip ``data: ``, ``json.loads``.

Prints events/s for both and the ratio (a)/(b). Usage::

    python benchmarks/bench_chat_stream.py [--events 180000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import nemovideo

SID = "5529798706024415232"


def build_stream(count: int) -> bytes:
    inv = f"e-{uuid.uuid4()}"
    frames = []
    for i in range(count):
        base: dict[str, Any] = {"invocationId": inv, "author": "nemo_agent",
                                "id": str(uuid.uuid4()), "timestamp": time.time()}  # fmt: skip
        kind = i % 10
        if kind < 7:
            part: dict[str, Any] = {"text": f"chunk {i} of a city timelapse with fade "}
            base["partial"] = True
        elif kind == 7:
            part = {"text": f"Final text {i}: your video is ready, click the Export button."}
        elif kind == 8:
            args = {"action": "add_bgm", "style": "Lo-fi", "volume": 0.35}
            part = {"functionCall": {"id": f"adk-{i}", "name": "edit_multitrack", "args": args}}
        else:
            resp = {"status": "success", "draft_summary": "Timeline (2 tracks): ..."}
            part = {"functionResponse": {"id": f"adk-{i - 1}", "name": "edit_multitrack",
                                         "response": resp}}  # fmt: skip
        base["content"] = {"role": "model", "parts": [part]}
        frames.append(b"data: " + json.dumps(base, separators=(",", ":")).encode() + b"\n\n")
    return b"".join(frames)


async def serve(payload: bytes) -> tuple[web.AppRunner, str]:
    async def state(request: web.Request) -> web.Response:
        data = {"session_id": SID, "state": {"draft": {"t": [], "d": 0}, "video_infos": []}}
        return web.json_response({"code": 0, "message": "ok", "data": data})

    async def run_sse(request: web.Request) -> web.StreamResponse:
        await request.read()
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        view = memoryview(payload)
        for start in range(0, len(payload), 64 * 1024):
            await resp.write(bytes(view[start : start + 64 * 1024]))
        await resp.write_eof()
        return resp

    app = web.Application()
    app.router.add_get("/api/state/nemo_agent/me/{sid}/latest", state)
    app.router.add_post("/run_sse", run_sse)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"


async def time_chatstream(client: nemovideo.NemoClient) -> tuple[float, int]:
    session = client.session(SID)
    started = time.perf_counter()
    count = 0
    async with session.chat("go") as stream:
        async for _ in stream:
            count += 1
    return time.perf_counter() - started, count


async def time_raw(http: aiohttp.ClientSession, url: str) -> tuple[float, int]:
    started = time.perf_counter()
    count = 0
    body = {"app_name": "nemo_agent", "user_id": "me", "session_id": SID,
            "new_message": {"parts": [{"text": "go"}]}}  # fmt: skip
    async with http.post(url + "/run_sse", json=body) as resp:
        async for line in resp.content:
            if line.startswith(b"data: "):
                json.loads(line[6:])
                count += 1
    return time.perf_counter() - started, count


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=180_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    payload = build_stream(args.events)
    runner, url = await serve(payload)
    ours: list[float] = []
    raw: list[float] = []
    try:
        with tempfile.TemporaryDirectory() as config_dir:
            config = nemovideo.ClientConfig(base_url=url, token="nmv_usr_bench",
                                            config_dir=config_dir)  # fmt: skip
            async with (
                nemovideo.NemoClient(config=config) as client,
                aiohttp.ClientSession() as http,
            ):
                for _ in range(args.repeat):
                    seconds, n = await time_chatstream(client)
                    assert n == args.events, n
                    ours.append(seconds)
                    seconds, n = await time_raw(http, url)
                    assert n == args.events, n
                    raw.append(seconds)
    finally:
        await runner.cleanup()
    a, b = statistics.median(ours), statistics.median(raw)
    mb = len(payload) / 1e6
    print(f"stream: {args.events} events, {mb:.1f} MB, median of {args.repeat}")
    print(f"ChatStream : {args.events / a:12,.0f} events/s  {mb / a:7.1f} MB/s")
    print(f"raw aiohttp: {args.events / b:12,.0f} events/s  {mb / b:7.1f} MB/s")
    print(f"ratio ChatStream/raw events/s: {b / a:.2f}x")


if __name__ == "__main__":
    asyncio.run(main())
