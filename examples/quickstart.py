"""Quickstart: three images and one sentence in, a 15-second MP4 out.

Uploads the sample images bundled with the package, asks for "turn these images into a
15-second video with smooth transitions", prints the timeline, renders it with a progress line and
saves ``quickstart.mp4``::

    python examples/quickstart.py [OUT_DIR]        # offline, against the bundled emulator
    NEMO_API_URL=https://mega-api-prod.nemovideo.ai python examples/quickstart.py

Without ``NEMO_API_URL`` it starts :class:`nemovideo.testing.Emulator` on 127.0.0.1 (see
``_offline.py``); nothing else in this file knows the difference.
"""

from __future__ import annotations

from pathlib import Path

import _offline

import nemovideo
from nemovideo.testing import sample_images

PROMPT = "turn these images into a 15-second video with smooth transitions"


def show_progress(percent: int, total: int) -> None:
    print(f"\r  rendering: {percent}%", end="\n" if percent >= total else "", flush=True)


async def run(client: nemovideo.NemoClient, out_dir: Path) -> Path:
    """Make the video and return where it was saved."""
    session = await client.create_session(task_name="quickstart")
    media = await session.upload(sample_images())
    print(f"Uploaded {len(media)} images to session {session.id}")

    reply = await session.send(PROMPT)
    print(reply.draft.summary())

    job = await session.export()
    print(f"Rendering job {job.id} (resumable with client.renderer.resume({job.id!r}))")
    await job.wait(progress=show_progress)
    path = await job.download(out_dir / "quickstart.mp4")
    print(f"Saved {path}")
    return path


if __name__ == "__main__":
    _offline.main(run)
