"""``nemovideo demo``: the main job from a fresh clone, offline.

Starts the embedded emulator (or, with ``--live``, uses the real API from the environment), uploads
the bundled sample images, asks for "turn these images into a 15-second video with smooth
transitions", prints the timeline, exports, downloads ``demo.mp4`` and says where it is.
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from nemovideo.assistant._intents import translate_gui
from nemovideo.cli._exit import EXIT_OK
from nemovideo.cli._out import check_target, prepare_out
from nemovideo.cli._session import make_client
from nemovideo.cli._term import Bar, emit, show
from nemovideo.client import NemoClient
from nemovideo.errors import NemoError

DEFAULT_PROMPT = "turn these images into a 15-second video with smooth transitions"


@contextlib.asynccontextmanager
async def _demo_client(args: argparse.Namespace, say: object) -> AsyncIterator[NemoClient]:
    assert callable(say)
    if args.live:
        async with make_client(args) as client:
            say(f"Using the live API at {client.config.base_url}")
            yield client
        return
    from nemovideo.testing._render.ffmpeg import RenderError, ffmpeg_exe

    try:
        ffmpeg_exe()  # checked now, not after the upload and the edit
    except RenderError as exc:
        raise NemoError(f"{exc} (nemovideo demo --live uses the real API instead)") from None
    from nemovideo.testing import Emulator

    with tempfile.TemporaryDirectory(prefix="nemovideo-demo-") as tmp:
        async with Emulator(data_dir=Path(tmp) / "emulator") as emu:
            say(
                f"Started the NemoVideo emulator at {emu.url} (offline: nothing leaves this machine)"
            )
            async with make_client(args, **_offline_settings(emu.url, Path(tmp) / "config")) as c:
                yield c


def _offline_settings(url: str, config_dir: Path) -> dict[str, object]:
    """The emulator renders in seconds: poll it every quarter second from the start."""
    return {
        "base_url": url,
        "config_dir": config_dir,
        "poll_interval": 0.25,
        "poll_initial_interval": 0.25,
    }


async def run_demo(args: argparse.Namespace) -> int:
    def say(line: str) -> None:
        if not args.json:
            show(line)

    prompt = args.prompt or DEFAULT_PROMPT
    target = prepare_out(args.out, "demo.mp4", force=args.force)
    async with _demo_client(args, say) as client:
        bal = await client.credits()
        say(f"Signed in anonymously as {client.user_id}: {bal.available} credits")
        session = await client.create_session(task_name="nemovideo demo")
        say(f"Created session {session.id}")
        from nemovideo.testing._upload.samples import (
            sample_images,  # the emulator's package: only for the demo
        )

        images = sample_images()
        bar = Bar(args, "upload")
        try:
            media = await session.upload(images, progress=bar)
        finally:
            bar.close()
        say(f"Uploaded {len(media)} images: {', '.join(m.name for m in media)}")
        say(f'Asking: "{prompt}"')
        reply = await session.send(prompt, on_waiting=lambda s: say(f"Still working... {s:.0f}s"))
        if reply.text:
            say(f"NemoVideo: {translate_gui(reply.text).text}")
        say(reply.draft.summary())
        job = await session.export()
        if args.live:  # offline, the emulator (and the job) end with the command
            args.submitted_job = job.id
        say(f"Rendering (job {job.id}) ...")
        bar = Bar(args, "render", unit="%")
        try:
            await job.wait(progress=bar)
        finally:
            bar.close()
        check_target(target, force=args.force)
        path = await job.download(target)
        size = path.stat().st_size
        say(f"Video ready! Saved {path.resolve()} ({size / 1e6:.1f} MB)")
        emit(
            args,
            "Demo finished.",
            {
                "session_id": session.id,
                "path": str(path.resolve()),
                "bytes": size,
                "summary": reply.draft.summary(),
            },
        )
    return EXIT_OK
