"""A plain blocking script: no ``async``, no ``await``, the whole flow with ``SyncNemoClient``.

Uploads the bundled sample images, asks for a 6-second video, streams a follow-up edit event by
event, renders with a progress line and saves ``out/sync_script.mp4`` (or into OUT_DIR)::

    python examples/sync_script.py [OUT_DIR]      # offline: an emulator in a child process
    NEMO_API_URL=https://mega-api-prod.nemovideo.ai python examples/sync_script.py

``SyncNemoClient`` takes the same options as ``NemoClient`` and returns the same objects, blocking;
Ctrl-C during ``job.wait()`` cancels the wait cleanly (the render goes on: resume it by id).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import nemovideo
from nemovideo.sync import SyncNemoClient
from nemovideo.testing import sample_images

PROMPT = "turn these images into a 6-second video with smooth transitions"


def show_progress(percent: int, total: int) -> None:
    print(f"\r  rendering: {percent}%", end="\n" if percent >= total else "", flush=True)


def run(client: SyncNemoClient, out_dir: Path) -> Path:
    """Make the video and return where it was saved."""
    print(f"Credits: {client.credits().available}")
    session = client.create_session(task_name="sync script")
    media = session.upload(sample_images())
    print(f"Uploaded {len(media)} images to session {session.id}")

    reply = session.send(PROMPT)
    print(reply.draft.summary())

    with session.chat("add lo-fi background music at 35%") as stream:
        for event in stream:
            if isinstance(event, nemovideo.ToolCallEvent):
                print(f"  tool: {event.name}")
    print(f"Agent: {stream.text}")

    job = session.export()
    print(f"Rendering job {job.id}")
    try:
        job.wait(progress=show_progress)
    except KeyboardInterrupt:
        print(f"\nStopped waiting; resume later with client.renderer.resume({job.id!r})")
        raise
    path = job.download(out_dir / "sync_script.mp4")
    print(f"Saved {path}")
    return path


@contextlib.contextmanager
def offline_client() -> Iterator[SyncNemoClient]:
    """A client of an emulator in a child process (``python -m nemovideo.testing``)."""
    with tempfile.TemporaryDirectory(prefix="nemovideo-example-") as tmp:
        emulator = subprocess.Popen(
            [sys.executable, "-m", "nemovideo.testing", "--port", "0"],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert emulator.stdout is not None
            url = emulator.stdout.readline().rsplit(" ", 1)[-1].strip()
            print(f"[offline: NemoVideo emulator at {url}; set NEMO_API_URL for the real API]")
            with SyncNemoClient(
                base_url=url, config_dir=Path(tmp), poll_interval=0.25, poll_initial_interval=0.25
            ) as client:
                yield client
        finally:
            emulator.terminate()
            emulator.wait()


def main() -> int:
    out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("out")
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        with SyncNemoClient() if os.environ.get("NEMO_API_URL") else offline_client() as client:
            run(client, out_dir)
    except nemovideo.NemoError as exc:
        print(f"Failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
