"""Batch: several versions of one video, each rendered and saved under its own name, exactly once.

Each step is one job of a batch (``client.batch``) in one session (``one_session=True``): the
images are uploaded once, each instruction is sent in turn, and after each the draft is rendered
and saved, so you end up with every stage side by side (``batch_1_video.mp4``,
``batch_2_music.mp4``, ``batch_3_title.mp4``)::

    python examples/batch.py [OUT_DIR]             # offline, against the bundled emulator
    NEMO_API_URL=https://mega-api-prod.nemovideo.ai python examples/batch.py

Every step is recorded in ``OUT_DIR/batch.db`` before it happens: stop the script at any point
(Ctrl-C, ``kill -9``) and run it again to carry on; no instruction is sent twice, no render is
submitted twice, and finished videos are not downloaded again. For many products, one video each,
write a manifest and run ``nemovideo batch jobs.jsonl`` instead (docs/batch.md).
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


def jobs(out_dir: Path) -> list[nemovideo.BatchJob]:
    """One job per step; the images go with the first (one session: uploaded once)."""
    images = [str(p) for p in sample_images()]
    return [
        nemovideo.BatchJob(
            id=f"batch_{number}_{name}",
            instruction=instruction,
            files=images if number == 1 else (),
            out=str(out_dir / f"batch_{number}_{name}.mp4"),
        )
        for number, (name, instruction) in enumerate(STEPS, 1)
    ]


async def run(client: nemovideo.NemoClient, out_dir: Path) -> list[Path]:
    """Render one file per step of :data:`STEPS`; return their paths in order."""
    saved: list[Path] = []
    results = client.batch(jobs(out_dir), one_session=True, journal=out_dir / "batch.db")
    async for result in results:
        if result.status != "done" or result.path is None:
            raise SystemExit(f"{result.job_id}: {result.status}: {result.error}")
        again = " (done by an earlier run)" if result.resumed else ""
        print(f"{result.job_id}: saved {result.path} ({(result.size or 0) / 1e6:.1f} MB){again}")
        saved.append(result.path)
    return saved


if __name__ == "__main__":
    _offline.main(run)
