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

from ._cli_commands import Bar, make_client, prepare_out_dir
from .client import NemoClient
from .intents import translate_gui
from .testing._samples import sample_images

DEFAULT_PROMPT = "turn these images into a 15-second video with smooth transitions"


@contextlib.asynccontextmanager
async def _demo_client(args: argparse.Namespace, say: object) -> AsyncIterator[NemoClient]:
    assert callable(say)
    if args.live:
        async with make_client(args) as client:
            say(f"Using the live API at {client.config.base_url}")
            yield client
        return
    from .testing import Emulator

    with tempfile.TemporaryDirectory(prefix="nemovideo-demo-") as tmp:
        async with Emulator(data_dir=Path(tmp) / "emulator") as emu:
            say(
                f"Started the NemoVideo emulator at {emu.url} (offline: nothing leaves this machine)"
            )
            local = {"base_url": emu.url, "config_dir": Path(tmp) / "config",
                     "poll_interval": 0.25, "max_polls": 480}  # fmt: skip
            async with make_client(args, **local) as c:
                yield c


async def run_demo(args: argparse.Namespace) -> int:
    from .cli import EXIT_OK, emit

    def say(line: str) -> None:
        if not args.json:
            print(line, flush=True)

    prompt = args.prompt or DEFAULT_PROMPT
    out_dir: Path = args.out
    prepare_out_dir(out_dir / "demo.mp4")
    async with _demo_client(args, say) as client:
        bal = await client.credits()
        say(f"Signed in anonymously as {client.user_id}: {bal.available} credits")
        session = await client.create_session(task_name="nemovideo demo")
        say(f"Created session {session.id}")
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
        say(f"Rendering (job {job.id}) ...")
        bar = Bar(args, "render", unit="%")
        try:
            await job.wait(progress=bar)
        finally:
            bar.close()
        path = await job.download(out_dir / "demo.mp4")
        size = path.stat().st_size
        say(f"Video ready! Saved {path.resolve()} ({size / 1e6:.1f} MB)")
        emit(args, "Demo finished.", {"session_id": session.id, "path": str(path.resolve()),
                                      "bytes": size, "summary": reply.draft.summary()})  # fmt: skip
    return EXIT_OK
