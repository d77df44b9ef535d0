"""The background side of the render proxy: each job rendered with ffmpeg in its own task.

A job goes ``pending`` (for ``emu.render.pending_s``) -> ``processing`` (progress follows ffmpeg,
10-95) -> ``completed`` (its MP4 under ``emu.files_dir``, published on the CDN origin unless
``cdn_missing``) or ``failed`` (with ``error``). It keeps running when the client goes away, as
the service's does; cancelling it, or closing the emulator, fails it with "Render cancelled".
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import time
from typing import TYPE_CHECKING

from aiohttp import web

from nemovideo.draft._model import Draft
from nemovideo.render._formats import RESOLUTIONS, frame_size
from nemovideo.testing._render.ffmpeg import render_draft
from nemovideo.testing._render.job import RenderRecord
from nemovideo.testing._server.keys import EMULATOR, RENDERS
from nemovideo.testing._server.store import iso_time

if TYPE_CHECKING:
    from nemovideo.testing._server.app import Emulator

__all__ = ["RenderRunner"]


class RenderRunner:
    """The running render tasks of one API origin, by output file (``app[RENDERS]``).

    Keyed by the record's ``file``, unique per stored job, since two users may pick one id.
    """

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.tasks: dict[str, asyncio.Task[None]] = {}

    @classmethod
    def install(cls, app: web.Application) -> None:
        """Give ``app`` (which holds its emulator) a runner, stopped when the app cleans up."""
        runner = app[RENDERS] = cls(app[EMULATOR])
        app.on_cleanup.append(lambda _: runner.close())

    def start(self, job: RenderRecord, failure: str | None) -> None:
        """Render ``job`` in the background; ``failure``: fail it with that reason instead."""
        self.tasks[job.file] = asyncio.create_task(self._run(job, failure))

    async def cancel(self, job: RenderRecord) -> None:
        """Stop the job's render if it is running (it then fails as cancelled)."""
        task = self.tasks.get(job.file)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def close(self) -> None:
        """Cancel every running render and wait for each to end."""
        tasks = list(self.tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self, job: RenderRecord, failure: str | None) -> None:
        emu, controls = self.emu, self.emu.render
        try:
            if controls.pending_s:
                await asyncio.sleep(controls.pending_s)
            job.status, job.progress = "processing", 10
            if failure is not None:
                raise RuntimeError(failure)
            draft = Draft.from_json(job.draft)
            width, height, fps = controls.size_for(draft)
            output = job.output
            if output.get("resolution") in RESOLUTIONS:
                width, height = frame_size(output["resolution"], width, height)

            def on_progress(fraction: float) -> None:
                job.progress = max(job.progress or 0, min(95, 10 + int(fraction * 85)))

            out = emu.files_dir / f".{job.file}"
            if controls.template is not None:
                await asyncio.to_thread(shutil.copyfile, controls.template, out)
            else:
                await render_draft(
                    job.draft,
                    emu.files_dir,
                    out,
                    width=width,
                    height=height,
                    fps=fps,
                    progress=on_progress,
                    format=output.get("format", "mp4"),
                    quality=output.get("quality", "high"),
                )
            await controls.wait_released()
            final = out if controls.cdn_missing else out.replace(emu.files_dir / job.file)
            job.status, job.progress = "completed", 100
            job.output_url = emu.cdn_file_url(job.file)
            job.completed_at = iso_time(time.time())
            job.duration = round(draft.duration, 3)
            job.size = final.stat().st_size
            job.path = str(final)
        except asyncio.CancelledError:
            job.status, job.error = "failed", "Render cancelled"
            raise
        except Exception as exc:
            job.status, job.error = "failed", str(exc) or type(exc).__name__
        finally:
            self.tasks.pop(job.file, None)
