"""Signals and exit (issue 21): an exception a signal handler raises during a blocking call
cancels the call (nothing keeps running), and a ``SyncNemoClient`` never closed ends quietly."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from nemovideo.testing import Emulator

from ..conftest import FAST, communicate

ALARM = """
import json, signal, sys
from nemovideo.sync import SyncNemoClient
from nemovideo.testing.drafts import make_draft, video_track

class Alarm(Exception):
    pass

def on_alarm(signum, frame):
    raise Alarm()

signal.signal(signal.SIGALRM, on_alarm)
client = SyncNemoClient(base_url=sys.argv[1], config_dir=sys.argv[2], **json.loads(sys.argv[3]))
job = client.renderer.resume(sys.argv[4])         # a job held "processing" by the emulator
seen = []
signal.setitimer(signal.ITIMER_REAL, 0.3)
try:
    job.wait(progress=lambda done, total: seen.append(done), timeout=60)
    outcome = "finished"
except Alarm:
    outcome = "alarm"
calls_after = len(seen)
for _ in range(20):                                # more calls drive the loop again
    client.credits()
print(json.dumps({"outcome": outcome, "progress_after": len(seen) - calls_after}))
client.close()
"""

UNCLOSED = """
import json, sys
from nemovideo.sync import SyncNemoClient

client = SyncNemoClient(base_url=sys.argv[1], config_dir=sys.argv[2], **json.loads(sys.argv[3]))
session = client.create_session()
print(client.credits().available)
"""


async def run(
    tmp_path: Path, emu: Emulator, script: str, *extra: str, config_dir: Path | None = None
) -> tuple[str, str]:
    """Run ``script`` against ``emu`` with the config dir (so the token, so the user) given."""
    path = tmp_path / "script.py"
    path.write_text(script)
    config_dir = config_dir or tmp_path / "config"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-W", "default", str(path), emu.url, str(config_dir),
        json.dumps(FAST), *extra, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await communicate(proc, 60)
    assert proc.returncode == 0, stderr.decode()
    return stdout.decode(), stderr.decode()


async def held_job(emu: Emulator, client: Any) -> str:
    from nemovideo.testing import sample_images
    from nemovideo.testing.drafts import make_draft, video_track

    emu.render.hold()
    emu.render.width, emu.render.height, emu.render.fps = 64, 36, 5
    session = await client.create_session()
    await session.upload(sample_images()[:1])
    infos = emu.session(session.id).state["video_infos"]
    emu.session(session.id).state["draft"] = make_draft([video_track(infos, 1000)])
    job = await session.export()
    return str(job.id)


async def test_an_exception_from_a_signal_handler_cancels_the_call(
    emulator: Emulator, nemo_client: Any, tmp_path: Path
) -> None:
    job_id = await held_job(emulator, nemo_client)
    try:
        stdout, stderr = await run(
            tmp_path, emulator, ALARM, job_id, config_dir=nemo_client.config.config_dir
        )
    finally:
        emulator.render.release()
    got = json.loads(stdout)
    assert got == {"outcome": "alarm", "progress_after": 0}, stderr
    polls = [r.time for r in emulator.requests_to(f"/api/render/proxy/lambda/{job_id}", "GET")]
    credits = [r.time for r in emulator.requests_to("/api/credits", "GET")]
    assert len(credits) == 20 and polls
    assert max(polls) < min(credits), "the wait polled on after the alarm"


async def test_an_unclosed_sync_client_ends_quietly(emulator: Emulator, tmp_path: Path) -> None:
    stdout, stderr = await run(tmp_path, emulator, UNCLOSED)
    assert stdout.strip() == "100"
    assert stderr == "", stderr
