"""``RenderControls``: how the emulator renders (``emu.render``), and the render faults it injects.

Every field can be changed at any time, also mid-test::

    emu.render.width, emu.render.height, emu.render.fps = 320, 180, 10   # fast test renders
    emu.render.poll_shape = 3                # answer polls in the first version's shape
    emu.render.failure_shape = "envelope"    # a failed job polls as {"success": false, "error"}
    emu.render.fail_next("out of GPU memory")  # the next job fails with that reason
    emu.render.fail_project("sku-2")         # the next render of project "sku-2" fails
    emu.render.template = Path("clip.mp4")   # no ffmpeg: every job's output is a copy (load tests)
    emu.render.refuse_next("queue full")     # the next new submit is refused; no job starts
    emu.render.hold()                        # jobs stay "processing" until release()
    emu.render.cdn_missing = True            # outputs are not published on the CDN
    emu.render.cdn_ranges = False            # the CDN ignores Range: whole files, 200
    emu.render.truncate_downloads = 1        # the next fallback download is cut halfway
    emu.render.redirect_downloads = True     # the fallback answers 302 to the CDN origin
    emu.render.bare = True                   # submit and cancel answer without the envelope
    emu.render.error_style = "body"          # render failures on HTTP 200, success: false
    emu.render.strict_ids = True             # a re-sent submit is refused as a duplicate id
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from nemovideo.draft._model import Draft
from nemovideo.testing._server.hold import Hold

if TYPE_CHECKING:
    from nemovideo.testing._server.app import Emulator

__all__ = [
    "FAILURE_SHAPES",
    "POLL_SHAPES",
    "RENDER_ERROR_STYLES",
    "Refusal",
    "RenderControls",
    "render_controls",
]

POLL_SHAPES = (1, 2, 3)
FAILURE_SHAPES = ("data", "envelope")
RENDER_ERROR_STYLES = ("status", "body")
_MAX_SIDE = 1920


@attrs.frozen
class Refusal:
    """A submit the service refuses: ``{"success": false, "error": reason}`` with ``status``."""

    reason: str
    status: int


@attrs.define
class RenderControls(Hold):
    """How one emulator renders; every field can be changed at any time (see the module doc).

    ``width``/``height``/``fps``: the output size and rate (``None``: the draft's, at most 1920 on
    the long side). ``pending_s``: how long a job stays ``pending`` before it starts.
    ``poll_shape``: 1, 2 or 3, the documented poll answers. ``failure_shape``: how a failed job
    polls, ``"data"`` (``{"success": true, "data": {"status": "failed", "error"}}``, or the
    shape's own failed status) or ``"envelope"`` (``{"success": false, "error"}``, HTTP 200);
    docs/protocol.md documents both. ``bare``: submit and cancel answer the job itself, with no
    ``{"success", "data"}`` envelope (some versions do), failures as ``{"error"}``.
    ``error_style``: ``"status"`` sends render-envelope failures with their HTTP status (404, 400,
    409, 422), ``"body"`` with HTTP 200 and ``"success": false``. ``strict_ids``: every submit
    of an id the user already has is refused as a duplicate (409), also the re-send of the same
    submit after a lost answer, which a client must then answer by polling that job.
    """

    width: int | None = None
    height: int | None = None
    fps: int | None = None
    pending_s: float = 0.0
    poll_shape: int = attrs.field(default=1, validator=attrs.validators.in_(POLL_SHAPES))
    failure_shape: str = attrs.field(default="data", validator=attrs.validators.in_(FAILURE_SHAPES))
    cdn_missing: bool = False
    cdn_ranges: bool = True
    truncate_downloads: int = 0
    redirect_downloads: bool = False
    bare: bool = False
    error_style: str = attrs.field(
        default="status", validator=attrs.validators.in_(RENDER_ERROR_STYLES)
    )
    strict_ids: bool = False
    failures: list[str] = attrs.Factory(list)
    refusals: list[Refusal] = attrs.Factory(list)
    failing_projects: dict[str, str] = attrs.Factory(dict)
    template: Path | None = None

    def fail_next(self, reason: str = "Render failed: the renderer crashed") -> None:
        """The next job submitted fails with ``reason`` as its ``error``."""
        self.failures.append(reason)

    def fail_project(
        self, task_name: str, reason: str = "Render failed: the renderer crashed"
    ) -> None:
        """The next job submitted for a session whose project (``task_name``) is ``task_name``
        fails with ``reason``: a chosen job of a batch (which names each job's session after
        the job id) fails, whatever the order jobs run in."""
        self.failing_projects[task_name] = reason

    def failure_for(self, task_name: str) -> str | None:
        """The failure the next job of project ``task_name`` gets, consumed (None: it succeeds)."""
        reason = self.failing_projects.pop(task_name, None)
        if reason is None and self.failures:
            reason = self.failures.pop(0)
        return reason

    def refuse_next(
        self, reason: str = "Render queue is full; try again", status: int = 503
    ) -> None:
        """The next submit that would start a job is refused instead: no job, its id stays free.

        The answer is ``{"success": false, "error": reason}`` with HTTP ``status`` (200 in the
        ``"body"`` error style). A client then submits once more with a new id (docs/protocol.md
        "Render"); a submit re-sent for a job that exists still answers that job.
        """
        self.refusals.append(Refusal(reason, status))

    def hold(self) -> None:
        """Keep jobs ``processing`` (their output unpublished) until :meth:`release`."""
        super().hold()

    def size_for(self, draft: Draft) -> tuple[int, int, int]:
        """The ``(width, height, fps)`` a render of ``draft`` gets under these settings."""
        width = self.width or draft.width or 1920
        height = self.height or draft.height or 1080
        if self.width is None and self.height is None and max(width, height) > _MAX_SIDE:
            scale = _MAX_SIDE / max(width, height)
            width, height = round(width * scale), round(height * scale)
        fps = self.fps or round(draft.fps or 30)
        return width, height, max(1, fps)


def render_controls(emu: Emulator) -> RenderControls:
    """The render settings and faults of ``emu``: ``emu.render``."""
    return emu.render
