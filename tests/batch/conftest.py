"""Helpers for the batch tests: manifests of the bundled sample images, a small-render emulator."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from nemovideo.batch.runner import KILL_HOOK_ENV
from nemovideo.testing import FAST_SETTINGS, Emulator, sample_images

INSTRUCTION = "turn these images into a 5-second video with smooth transitions"


def write_manifest(root: Path, ids: Sequence[str], *, files_per_job: int = 1,
                   name: str = "jobs.jsonl", vary: bool = False, **extra: Any) -> Path:  # fmt: skip
    """A JSONL manifest under ``root``: each job gets its own copies of the sample images.

    ``vary``: each job asks for another length (5, 6, 7... seconds), so in one session every
    instruction visibly changes the draft."""
    samples = sample_images()
    lines = []
    for number, job_id in enumerate(ids):
        folder = root / "photos" / job_id
        folder.mkdir(parents=True, exist_ok=True)
        files = []
        for k in range(files_per_job):
            source = Path(samples[(number + k) % len(samples)])
            target = folder / f"{k}{source.suffix}"
            shutil.copyfile(source, target)
            files.append(f"photos/{job_id}/{target.name}")
        instruction = (
            INSTRUCTION.replace("5-second", f"{5 + number}-second") if vary else INSTRUCTION
        )
        lines.append(json.dumps({"id": job_id, "files": files, "instruction": instruction,
                                 **extra}))  # fmt: skip
    manifest = root / name
    manifest.write_text("\n".join(lines) + "\n")
    return manifest


def small_renders(emu: Emulator) -> None:
    """Renders of a few kilobytes, fast; chats with millisecond pauses."""
    emu.render.width, emu.render.height, emu.render.fps = 96, 64, 5
    emu.chat.delay = 0.001


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    """An emulator whose users have credits for many jobs, rendering small."""
    async with Emulator(initial_credits=100_000) as emulator:
        small_renders(emulator)
        yield emulator


async def run_cli(emu: Emulator, cwd: Path, *words: str, kill_at: str | None = None,
                  timeout: float = 120) -> tuple[int, str, str]:  # fmt: skip
    """Run a real ``nemovideo`` process against ``emu`` (serving in this test's loop); return
    ``(returncode, stdout, stderr)``. ``kill_at``: the runner's documented test hook makes the
    process SIGKILL itself right after that step. The process is killed by its pid if it
    outlives ``timeout``."""
    config = cwd / "cfg"
    config.mkdir(exist_ok=True)
    (config / "config.json").write_text(json.dumps(dict(FAST_SETTINGS)))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEMO_", "NEMOVIDEO_"))}
    env.update(NEMO_API_URL=emu.url, NEMO_CONFIG_DIR=str(config))
    if kill_at:
        env[KILL_HOOK_ENV] = kill_at
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "nemovideo", *words, cwd=cwd, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except asyncio.TimeoutError:
        os.kill(proc.pid, signal.SIGKILL)
        await proc.wait()
        raise AssertionError(f"nemovideo {' '.join(words)} ran over {timeout}s") from None
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def sha256_of(path: Path | str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def assert_exactly_once(
    emu: Emulator, out_dir: Path, ids: Sequence[str], *, refused_chats: bool = False
) -> None:
    """The emulator's own log: one session, one /run_sse POST and one render per job, and each
    output whole (the render's bytes) with nothing else left in ``out_dir``.

    ``refused_chats``: the test refused some POSTs before they ran (429); count the messages the
    service accepted (each session's ``chat_log``) instead of every POST."""
    sessions = {s.task_name: s.session_id for s in emu.store.sessions.values()}
    assert sorted(sessions) == sorted(ids), "one session per job"
    if refused_chats:
        logs = {s.task_name: len(s.chat_log) for s in emu.store.sessions.values()}
        assert logs == dict.fromkeys(ids, 1), f"one accepted message per job, got {logs}"
    else:
        chats = Counter(r.json["session_id"] for r in emu.requests_to("/run_sse", "POST"))
        assert chats == Counter(sessions.values()), f"one /run_sse POST per job, got {chats}"
    submits = Counter(
        r.json["sessionId"] for r in emu.requests_to("/api/render/proxy/lambda", "POST")
    )
    assert submits == Counter(sessions.values()), f"one render submit per job, got {submits}"
    renders = {job.session_id: job for job in emu.store.render_jobs.values()}
    assert len(emu.store.render_jobs) == len(ids) and set(renders) == set(sessions.values())
    for job_id in ids:
        render = renders[sessions[job_id]]
        assert render.status == "completed" and render.path
        assert sha256_of(out_dir / f"{job_id}.mp4") == sha256_of(render.path), job_id
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(f"{i}.mp4" for i in ids)


def parts_in(folder: Path) -> list[str]:
    """The names of the partial downloads (``*.part``) left in ``folder``."""
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))
