"""What a render poll says, read from whichever of its three documented shapes it came in.

``RenderStatus.from_json`` accepts shape 1 (``data.outputUrl``), 2 (top-level ``output.url``) and
3 (``taskId`` + ``output``), normalises the state word, and reads every number liberally (NaN,
text and huge values are unknown, never an exception). ``RenderResult`` is a finished job.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import attrs

from nemovideo._util.numbers import finite_float
from nemovideo._util.plain import Plain
from nemovideo.errors import TransportError

__all__ = ["RenderResult", "RenderStatus", "has_status"]

_DONE = frozenset({"completed", "complete", "success", "succeeded", "done", "finished"})
_FAILED = frozenset({"failed", "failure", "error", "cancelled", "canceled", "aborted"})


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, Mapping):
        return _text(value.get("message") or value.get("error") or value.get("detail"))
    return None


def has_status(data: Any) -> bool:
    if not isinstance(data, Mapping):
        return False
    value = data.get("status") or data.get("state")
    return isinstance(value, str) and bool(value.strip())


@attrs.frozen
class RenderStatus(Plain):
    """One poll answer, whichever of the three shapes it came in.

    ``state`` is normalised: ``"completed"``, ``"failed"`` or the server's in-progress word.

    :ivar job_id: the render job's id.
    :ivar state: ``"completed"``, ``"failed"``, or e.g. ``"processing"`` while it runs.
    :ivar progress: percent done, 0-100; None when the server did not say.
    :ivar url: where to download the output, once completed.
    :ivar error: why the render failed; None unless ``state == "failed"``.
    :ivar size: the output's size in bytes, when reported.
    :ivar duration: the output's length in seconds, when reported.
    :ivar raw: the poll answer as sent, for fields this class does not model.
    """

    job_id: str
    state: str
    progress: int | None = None
    url: str | None = None
    error: str | None = None
    size: int | None = None
    duration: float | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    @property
    def done(self) -> bool:
        """True when polling can stop: the job ``completed`` or ``failed``."""
        return self.state in ("completed", "failed")

    @classmethod
    def from_json(cls, job_id: str, data: Any) -> RenderStatus:
        """Read shape 1 (``data.outputUrl``), 2 (``output.url``) or 3 (``taskId`` + ``output``)."""
        if not isinstance(data, Mapping):
            raise TransportError(f"Render {job_id}: the poll answer was not an object: {data!r}")
        given = data.get("output")
        output: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
        raw_state = str(data.get("status") or data.get("state") or "unknown").strip().lower()
        state = (
            "completed" if raw_state in _DONE else "failed" if raw_state in _FAILED else raw_state
        )
        url = next(
            (
                v
                for v in (
                    data.get("outputUrl"),
                    data.get("output_url"),
                    data.get("downloadUrl"),
                    data.get("url"),
                    output.get("url"),
                    data.get("output"),
                )
                if isinstance(v, str) and v
            ),
            None,
        )
        progress = finite_float(data.get("progress"))
        size = finite_float(output.get("size", data.get("size")))
        duration = finite_float(output.get("duration", data.get("duration")))
        error = _text(data.get("error")) or _text(data.get("errorMessage"))
        if state == "failed" and error is None:
            error = _text(data.get("message")) or (None if raw_state == "failed" else raw_state)
        return cls(
            job_id=str(data.get("id") or data.get("taskId") or job_id),
            state=state,
            progress=None if progress is None else max(0, min(100, round(progress))),
            url=url,
            error=error,
            size=None if size is None else int(size),
            duration=duration,
            raw=dict(data),
        )


@attrs.frozen
class RenderResult(Plain):
    """A finished render: where to fetch it, and what the server said about it.

    In a notebook it displays as a video player.

    :ivar job_id: the render job's id.
    :ivar status: ``"completed"``.
    :ivar url: where to download the MP4 (``job.download()`` streams it to disk).
    :ivar size: the file's size in bytes, when reported.
    :ivar duration: the video's length in seconds, when reported.
    :ivar request_id: the id of the poll that found it completed (quote it to NemoVideo).
    """

    job_id: str
    status: str
    url: str | None
    size: int | None = None
    duration: float | None = None
    request_id: str | None = None

    def _repr_html_(self) -> str:
        if not self.url:
            return f"<p>Render {html.escape(self.job_id)}: {html.escape(self.status)}</p>"
        src = html.escape(self.url, quote=True)
        return f'<video src="{src}" controls style="max-width:100%"></video>'
