"""Iterative editing: a rough cut, a look at the session state, refinements, then one export.

Shows how to read what the backend did after each instruction. ``reply.text`` is what it said;
``reply.changes`` is what actually changed in the draft, computed by the SDK, so an edit the
backend made silently (no text at all) is still visible::

    python examples/iterative.py [OUT_DIR]         # offline, against the bundled emulator
    NEMO_API_URL=https://mega-api-prod.nemovideo.ai python examples/iterative.py
"""

from __future__ import annotations

from pathlib import Path

import _offline

import nemovideo
from nemovideo.testing import sample_images

ROUGH_CUT = "turn these images into a video"
REFINEMENTS = (
    "make it 8 seconds",
    "add upbeat music at 20%",
    "make it vertical",
)


def report(reply: nemovideo.ChatReply) -> None:
    if reply.text:
        said = nemovideo.translate_gui(reply.text).text.replace("\n", " ")
        print(f"  NemoVideo: {said}")
    if reply.silent:
        print("  (the backend answered silently; the SDK compared the drafts)")
    for change in reply.changes:
        print(f"  changed: {change}")


async def run(client: nemovideo.NemoClient, out_dir: Path) -> Path:
    """Rough cut, inspect, refine, export; return the saved video's path."""
    session = await client.create_session(task_name="iterative")
    await session.upload(sample_images())

    print(f"> {ROUGH_CUT}")
    report(await session.send(ROUGH_CUT))

    state = await session.state()
    print(state.draft.summary())
    names = ", ".join(m.filename or "?" for m in state.video_infos)
    print(f"  {state.draft.duration:g} s, {state.draft.width}x{state.draft.height}; media: {names}")

    for instruction in REFINEMENTS:
        print(f"> {instruction}")
        reply = await session.send(instruction)
        report(reply)
        print(f"  {reply.draft.summary()}")

    job = await session.export()
    path = await job.download(out_dir / "iterative.mp4")
    print(f"Saved {path}")
    return path


if __name__ == "__main__":
    _offline.main(run)
