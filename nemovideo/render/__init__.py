"""Export: submit a draft for rendering, poll the job, download the MP4.

Rendering takes 30-90 s and keeps running when the client goes away, so a job is addressed by its id
alone and can be picked up again after a restart::

    job = await session.export(format="mp4", quality="high")
    save_somewhere(job.id)                                  # e.g. "render_1718000000000"
    result = await job.wait(progress=lambda pct, total: print(f"{pct}%"))
    path = await job.download("out.mp4", progress=lambda done, total: ...)

    # later, in another process
    job = await client.renderer.resume("render_1718000000000")
    await job.download("videos/")                            # a directory: the server's file name

A wait is bounded by time (``config.render_timeout``, 10 minutes, or ``job.wait(timeout=...)``);
polls start 2 s apart and back off x1.5 up to ``config.poll_interval`` (30 s). Giving up raises
[`RenderTimeoutError`][nemovideo.errors.RenderTimeoutError] carrying the id to resume with. The poll answer is read in each of its three documented shapes (docs/protocol.md, "Render").
"""

from __future__ import annotations

from nemovideo.render._formats import ExportFormat, ExportQuality, ExportResolution
from nemovideo.render._renderer import (
    ProgressCallback,
    Renderer,
    RenderJob,
    RenderResult,
    RenderStatus,
    new_render_id,
)

__all__ = [
    "ExportFormat",
    "ExportQuality",
    "ExportResolution",
    "ProgressCallback",
    "RenderJob",
    "RenderResult",
    "RenderStatus",
    "Renderer",
    "new_render_id",
]
