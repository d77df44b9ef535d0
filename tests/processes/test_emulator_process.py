"""``nemovideo emulator`` as a process (issue 21): SIGTERM and SIGINT remove its temp dir; it takes
``--render-size WxH`` and fault flags, and refuses malformed ones."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import nemovideo
from nemovideo.testing import sample_images
from nemovideo.testing.drafts import make_draft, video_track
from nemovideo.testing.mp4probe import probe_mp4

from ..conftest import FAST, communicate

CMD = [sys.executable, "-m", "nemovideo", "emulator", "--port", "0"]


async def start(*args: str) -> tuple[asyncio.subprocess.Process, dict[str, str]]:
    proc = await asyncio.create_subprocess_exec(
        *CMD, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None
    said: dict[str, str] = {}
    while len(said) < 3:
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        assert line, (await proc.stderr.read()).decode() if proc.stderr else ""
        key, _, value = line.removeprefix("NemoVideo emulator ").partition(": ")
        said[key] = value.strip()
    return proc, said


async def stop(proc: asyncio.subprocess.Process, signum: int) -> tuple[int, str]:
    proc.send_signal(signum)
    _, stderr = await communicate(proc, 30)
    assert proc.returncode is not None
    return proc.returncode, stderr.decode()


def uploaded_files(data: Path) -> list[Path]:
    return list(data.rglob("*.jpg"))


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_a_signal_stops_it_and_its_temp_dir_goes(tmp_path: Path, signum: int) -> None:
    proc, said = await start("--render-size", "64x36")
    data = Path(said["data"])
    config = nemovideo.ClientConfig(base_url=said["API"], config_dir=tmp_path)
    async with nemovideo.NemoClient(config=config) as client:
        session = await client.create_session()
        await session.upload(sample_images()[:1])
    assert uploaded_files(data), "the upload is in the data dir"
    code, stderr = await stop(proc, signum)
    assert code == 0 and "Traceback" not in stderr, stderr
    assert not uploaded_files(data), "the temp dir is gone"


async def test_render_size_and_fault_flags(tmp_path: Path) -> None:
    proc, said = await start(
        "--render-size", "64x36", "--fault", "server_error:2:/api/credits",
        "--fault", "delay=0.01:1", "--fail-renders", "1",
    )  # fmt: skip
    try:
        config = nemovideo.ClientConfig(base_url=said["API"], config_dir=tmp_path, **FAST)
        async with nemovideo.NemoClient(config=config) as client:
            assert (await client.credits()).available == 100  # two 503s, retried
            session = await client.create_session()
            await session.upload(sample_images()[:1])
            infos = [info.raw for info in (await session.state()).video_infos]
            draft = make_draft([video_track(infos, 1000)])
            failing = await client.renderer.export(session.id, draft=draft)
            with pytest.raises(nemovideo.RenderFailedError):
                await failing.wait()
            job = await client.renderer.export(session.id, draft=draft)
            path = await job.download(tmp_path / "out.mp4")
        info = probe_mp4(path)
        assert (info.width, info.height) == (64, 36)
    finally:
        code, stderr = await stop(proc, signal.SIGTERM)
    assert code == 0, stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--render-size", "64"],
        ["--render-size", "63x36"],
        ["--fault", "melt"],
        ["--fault", "server_error:0"],
        ["--fault", "delay=-1"],
    ],
)
def test_malformed_flags_are_refused(args: list[str]) -> None:
    done = subprocess.run([*CMD, *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "error" in done.stderr.lower()
