"""What the batch journal costs: ``client.batch`` against the same calls without a journal.

Both sides run the same jobs (create a session, upload one image, send one instruction, export
the draft the reply read, wait, download: the same requests, as the batch submits the reply's
draft too) at the same concurrency against one emulator in its own process, whose renders
are copies of one small MP4 (``emu.render.template``: no ffmpeg, so the client side is what is
timed). ``client.batch`` also reads and checks the manifest, writes every step to its SQLite
journal (WAL; one statement a record, on the journal's own thread, at most one fdatasync a job
for the record that guards the charge) and hashes each output. Rounds alternate the order; the
ratio is the plain loop's wall time over the batch's (above 1.0: the batch is faster; target
>= 0.9x); the same ratio of this process's CPU time is the steadier figure on a shared machine,
and of the event loop's thread alone (``time.thread_time``: the journal writes on its own
thread) the one that bounds the wall time when a core is free. A row shows how much of the
batch's wall time no job overlaps: before its first job starts (the manifest check, the
journal's opening) and after its last job ends (the journal's close).

One more run (not timed against the plain loop) measures where the journal's cost goes: how long
a job waits for the two records it must see committed before their side effects (``session``
before the upload, ``sending`` before the chat POST, fsynced), against the job's whole time. On
a busy event loop each wait is mostly the journal's thread waiting for the GIL, not SQLite.

A last run takes ``--big`` jobs (1,000) through ``client.batch`` alone and reports this process's
RSS before and after: the journal keeps the state, so memory stays bounded by the concurrency.

Usage::

    python benchmarks/bench_batch.py [--jobs 100] [--rounds 25] [--concurrency 8] [--big 1000]
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _bench_util import run_main
from _common import ROOT, peak_rss_mb

import nemovideo
from nemovideo.batch.journal import Journal
from nemovideo.testing import FAST_SETTINGS, sample_images

SERVER = """
import asyncio, sys
from pathlib import Path
from nemovideo.testing import Emulator

async def main():
    async with Emulator(initial_credits=10**9) as emu:
        emu.chat.delay = 0
        emu.render.template = Path(sys.argv[1])
        print(emu.url, flush=True)
        await asyncio.Event().wait()

asyncio.run(main())
"""

INSTRUCTION = "turn these images into a 5-second video with smooth transitions"


async def _template(work: Path) -> Path:
    """One small MP4, rendered once with the emulator's own renderer."""
    from nemovideo.testing import Emulator, fast_client

    async with Emulator() as emu:
        emu.render.width, emu.render.height, emu.render.fps = 96, 64, 5
        async with fast_client(emu, work / "template-cfg") as client:
            session = await client.create_session()
            await session.upload(sample_images()[:1])
            await session.send(INSTRUCTION)
            job = await session.export()
            return await job.download(work / "template.mp4")


def _manifest(work: Path, count: int, name: str) -> Path:
    image = work / "a.jpg"
    if not image.exists():
        shutil.copyfile(sample_images()[0], image)
    lines = [json.dumps({"id": f"{name}-{n}", "files": ["a.jpg"], "instruction": INSTRUCTION})
             for n in range(count)]  # fmt: skip
    path = work / f"{name}.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


EDGES: list[tuple[float, float]] = []
"""Per batch run: the time before its first job started (the manifest check and the journal's
opening) and after its last job finished (the journal's close), which no job overlaps."""

LOOP_CPU: dict[str, list[float]] = {"batch": [], "plain": []}
"""Per run: the CPU time of the thread that runs the event loop (this one)."""


async def _with_batch(
    client: nemovideo.NemoClient, manifest: Path, out: Path, n: int
) -> tuple[float, float]:
    marks: dict[str, float] = {}

    def on_event(kind: str, _data: Any) -> None:
        if kind == "start":
            marks.setdefault("first", time.perf_counter())
        elif kind == "finish":
            marks["last"] = time.perf_counter()

    started, cpu, loop = time.perf_counter(), time.process_time(), time.thread_time()
    batch = client.batch(manifest, concurrency=n, out_dir=out, on_event=on_event)
    statuses = [r.status async for r in batch]
    took, spent = time.perf_counter() - started, time.process_time() - cpu
    LOOP_CPU["batch"].append(time.thread_time() - loop)
    assert statuses.count("done") == len(statuses), statuses
    EDGES.append((marks["first"] - started, started + took - marks["last"]))
    return took, spent


@contextlib.contextmanager
def _timed_records() -> Iterator[dict[str, list[float]]]:
    """How long each awaited ``Journal.record`` took, by step, while the block runs."""
    waits: dict[str, list[float]] = {}
    record = Journal.record

    async def timed(self: Journal, job_id: str, step: str, *args: Any, **kwargs: Any) -> None:
        started = time.perf_counter()
        await record(self, job_id, step, *args, **kwargs)
        waits.setdefault(step, []).append(time.perf_counter() - started)

    Journal.record = timed  # type: ignore[method-assign]
    try:
        yield waits
    finally:
        Journal.record = record  # type: ignore[method-assign]


def _jobs(manifest: Path, out: Path) -> list[dict[str, Any]]:
    out.mkdir(parents=True, exist_ok=True)
    return [json.loads(line) for line in manifest.read_text().splitlines()]


async def _plain(
    client: nemovideo.NemoClient, manifest: Path, out: Path, n: int
) -> tuple[float, float]:
    jobs = _jobs(manifest, out)
    gate = asyncio.Semaphore(n)

    async def one(job: dict[str, Any]) -> None:
        async with gate:
            session = await client.create_session(task_name=job["id"])
            await session.upload([manifest.parent / f for f in job["files"]])
            reply = await session.send(job["instruction"])
            render = await session.export(draft=None if reply.pending else reply.draft)
            await render.wait()
            await render.download(out / f"{job['id']}.mp4")

    started, cpu, loop = time.perf_counter(), time.process_time(), time.thread_time()
    await asyncio.gather(*(one(j) for j in jobs))
    LOOP_CPU["plain"].append(time.thread_time() - loop)
    return time.perf_counter() - started, time.process_time() - cpu


async def bench(jobs: int, rounds: int, concurrency: int, big: int) -> list[tuple[str, ...]]:
    work = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    template = await _template(work)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SERVER, str(template), cwd=ROOT, stdout=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None
    try:
        url = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode().strip()
        options = {**FAST_SETTINGS, "base_url": url, "config_dir": work / "cfg"}
        wall: dict[str, list[float]] = {"batch": [], "plain": []}
        cpu: dict[str, list[float]] = {"batch": [], "plain": []}
        ratios, cpu_ratios, loop_ratios = [], [], []
        async with nemovideo.NemoClient(**options) as client:
            for r in range(rounds):
                manifest = _manifest(work, jobs, f"r{r}")
                sides = [("batch", _with_batch), ("plain", _plain)]
                for name, side in sides if r % 2 == 0 else reversed(sides):
                    took, spent = await side(client, manifest, work / f"out-{name}-{r}",
                                             concurrency)  # fmt: skip
                    wall[name].append(took)
                    cpu[name].append(spent)
                ratios.append(wall["plain"][-1] / wall["batch"][-1])
                cpu_ratios.append(cpu["plain"][-1] / cpu["batch"][-1])
                loop_ratios.append(LOOP_CPU["plain"][-1] / LOOP_CPU["batch"][-1])
            edges = list(EDGES)
            with _timed_records() as waits:
                batch = client.batch(_manifest(work, jobs, "timed"), concurrency=concurrency,
                                     out_dir=work / "out-timed")  # fmt: skip
                seconds = [r.seconds or 0.0 async for r in batch]
            rss_before = peak_rss_mb()
            big_manifest = _manifest(work, big, "big")
            big_time, _ = await _with_batch(client, big_manifest, work / "out-big", concurrency)
            rss_after = peak_rss_mb()
        med = statistics.median
        return [
            (f"{jobs} jobs, plain calls (no journal)", f"{med(wall['plain']):.2f} s",
             f"{med(cpu['plain']):.2f} s", "", ""),
            (f"{jobs} jobs, client.batch (journal)", f"{med(wall['batch']):.2f} s",
             f"{med(cpu['batch']):.2f} s",
             f"{med(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})",
             f"{med(cpu_ratios):.2f}x ({min(cpu_ratios):.2f}-{max(cpu_ratios):.2f})"),
            (f"{jobs} jobs, the event loop's thread alone",
             f"{med(LOOP_CPU['plain'][:rounds]):.2f} s / {med(LOOP_CPU['batch'][:rounds]):.2f} s",
             "", "", f"{med(loop_ratios):.2f}x ({min(loop_ratios):.2f}-{max(loop_ratios):.2f})"),
            (f"{jobs} jobs, client.batch: before the first job / after the last",
             f"{med([e[0] for e in edges]) * 1e3:.0f} / {med([e[1] for e in edges]) * 1e3:.0f} ms",
             "", "", ""),
            (f"{jobs} jobs, a job's wait for its journal: session + sending / the whole job",
             f"{med(waits['session']) * 1e3:.1f} + {med(waits['sending']) * 1e3:.1f} ms / "
             f"{med(seconds) * 1e3:.0f} ms", "", "", ""),
            (f"{big} jobs, client.batch", f"{big_time:.1f} s", "", "",
             f"peak RSS {rss_before:.0f} MB -> {rss_after:.0f} MB"),
        ]  # fmt: skip
    finally:
        proc.terminate()
        await proc.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    run_main(
        __doc__,
        bench,
        {"jobs": 100, "rounds": 25, "concurrency": 8, "big": 1000},
        ("run", "wall time", "client CPU", "plain / batch (wall)", "plain / batch (CPU)"),
        "Target: the batch at least 0.9x the plain calls' speed; RSS bounded for 1,000 jobs.",
    )
