"""Batch: several versions of one video from one session, each rendered and saved under its own name.

Each step is one instruction; after each, the current draft is exported and downloaded, so you
end up with every stage side by side (``batch_1_video.mp4``, ``batch_2_music.mp4``,
``batch_3_title.mp4``)::

    python examples/batch.py [OUT_DIR]             # offline, against the bundled emulator
    NEMO_API_URL=https://mega-api-prod.nemovideo.ai python examples/batch.py

Renders run one at a time: each export renders the draft as it is when submitted, and a session's
edits build on one another, so the order of the steps is the order of the versions.
"""

from __future__ import annotations

from pathlib import Path

import _offline

import nemovideo
from nemovideo.testing import sample_images

STEPS: tuple[tuple[str, str], ...] = (
    ("video", "turn these images into a 10-second video with smooth transitions"),
    ("music", "add lo-fi BGM at 35%"),
    ("title", "add a title 'Urban Dreams'"),
)


async def run(client: nemovideo.NemoClient, out_dir: Path) -> list[Path]:
    """Render one file per step of :data:`STEPS`; return their paths in order."""
    session = await client.create_session(task_name="batch")
    await session.upload(sample_images())
    saved: list[Path] = []
    for number, (name, instruction) in enumerate(STEPS, 1):
        print(f"[{number}/{len(STEPS)}] {instruction}")
        reply = await session.send(instruction)
        print(f"  {reply.draft.summary()}")
        job = await session.export()
        await job.wait()
        path = await job.download(out_dir / f"batch_{number}_{name}.mp4")
        print(f"  saved {path} ({path.stat().st_size / 1e6:.1f} MB)")
        saved.append(path)
    return saved


if __name__ == "__main__":
    _offline.main(run)
