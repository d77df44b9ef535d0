"""Helpers for the batch tests: manifests of the bundled sample images, a small-render emulator."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from nemovideo.testing import Emulator, sample_images

INSTRUCTION = "turn these images into a 5-second video with smooth transitions"


def write_manifest(root: Path, ids: Sequence[str], *, files_per_job: int = 1,
                   name: str = "jobs.jsonl", **extra: Any) -> Path:  # fmt: skip
    """A JSONL manifest under ``root``: each job gets its own copies of the sample images."""
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
        lines.append(json.dumps({"id": job_id, "files": files, "instruction": INSTRUCTION,
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
