"""A render job as the emulator keeps it, and the poll answers it gives in each documented shape.

``emu.store.render_jobs`` maps a job id to a :class:`RenderRecord`. Tests may read and change a
record (``job.status = "failed"``), or put one in to stand for a job the server already has::

    emu.store.render_jobs["render_7"] = RenderRecord("render_7", user_id, status="processing")

For tests written against the earlier dict form, a record also reads and writes by its wire keys
(``job["outputUrl"]``, ``job["path"]``) and the table turns a plain mapping it is given into a
record.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import attrs

from nemovideo.render._formats import FORMATS

__all__ = ["JobTable", "RenderRecord"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_WIRE_KEYS = {"outputUrl": "output_url", "createdAt": "created_at", "completedAt": "completed_at"}
_SHAPE_1 = (
    ("id", "id"),
    ("status", "status"),
    ("progress", "progress"),
    ("outputUrl", "output_url"),
    ("createdAt", "created_at"),
    ("completedAt", "completed_at"),
    ("error", "error"),
)


def _file_for(job_id: str, output: Mapping[str, Any] | None = None) -> str:
    fmt = (output or {}).get("format")
    return _UNSAFE.sub("_", job_id) + "." + (fmt if fmt in FORMATS else "mp4")


@attrs.define(eq=False)
class RenderRecord:
    """One render job. ``status`` goes ``pending`` -> ``processing`` -> ``completed``/``failed``.

    ``file`` is the output's name under ``emu.files_dir`` (derived from the id and the asked
    ``output["format"]`` when not given: ``render_1.webm``);
    ``path`` where the finished MP4 is; ``output_url`` its CDN URL once published. ``status`` and
    ``progress`` may be ``None`` so a test can stand for a server answer that describes no job.
    """

    id: str
    user_id: str
    session_id: str | None = None
    draft: dict[str, Any] = attrs.Factory(dict)
    output: dict[str, Any] = attrs.Factory(dict)
    file: str = attrs.field(
        default=attrs.Factory(lambda self: _file_for(self.id, self.output), takes_self=True)
    )
    status: str | None = "pending"
    progress: int | None = 5
    created_at: str | None = None
    completed_at: str | None = None
    output_url: str | None = None
    error: str | None = None
    duration: float | None = None
    size: int | None = None
    path: str | None = None

    @staticmethod
    def file_for(key: str, output: Mapping[str, Any] | None = None) -> str:
        """The output file name for a job stored under ``key`` (a safe name, with the suffix of
        the asked ``output["format"]``, ``.mp4`` by default)."""
        return _file_for(key, output)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> RenderRecord:
        """A record from the dict form (wire keys such as ``outputUrl`` or attribute names)."""
        names = {f.name for f in attrs.fields(cls)}
        fields = {_WIRE_KEYS.get(key, key): value for key, value in data.items()}
        unknown = sorted(set(fields) - names)
        if unknown:
            raise KeyError(f"Not a render job field: {', '.join(unknown)}")
        return cls(**fields)

    def same_submit(self, user_id: str, session_id: str, draft: Any, output: Any) -> bool:
        """True when a submit re-sent with this job's id asks for this very job."""
        return (self.user_id, self.session_id, self.draft) == (user_id, session_id, draft) and (
            self.output == (output if isinstance(output, dict) else {})
        )

    def brief(self) -> dict[str, Any]:
        """``{"id", "status", "progress"}``: the submit and cancel answer."""
        return {"id": self.id, "status": self.status, "progress": self.progress}

    def poll_answer(self, shape: int) -> dict[str, Any]:
        """The poll answer in documented shape 1, 2 or 3 (docs/protocol.md, "Render")."""
        if shape == 2:
            answer: dict[str, Any] = {"status": self.status, "progress": self.progress}
            if self.output_url:
                answer["output"] = {"url": self.output_url}
        elif shape == 3:
            answer = {"taskId": self.id, "status": self.status, "progress": self.progress}
            if self.output_url:
                answer["output"] = {
                    "url": self.output_url,
                    "duration": self.duration,
                    "size": self.size,
                }
        else:
            data = {key: getattr(self, name) for key, name in _SHAPE_1}
            keep = {"id", "status", "progress"}
            return {
                "success": True,
                "data": {k: v for k, v in data.items() if k in keep or v is not None},
            }
        if self.error is not None:
            answer["error"] = self.error
        return answer

    # -- the dict form ------------------------------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        name = _WIRE_KEYS.get(key, key)
        if name not in attrs.fields_dict(RenderRecord):
            raise KeyError(key)
        return getattr(self, name)

    def __setitem__(self, key: str, value: Any) -> None:
        name = _WIRE_KEYS.get(key, key)
        if name not in attrs.fields_dict(RenderRecord):
            raise KeyError(key)
        setattr(self, name, value)

    def get(self, key: str, default: Any = None) -> Any:
        """``self[key]``, or ``default`` for a key that is not a field."""
        try:
            return self[key]
        except KeyError:
            return default


class JobTable(dict[str, RenderRecord]):
    """Render jobs by id; a plain mapping stored here becomes a :class:`RenderRecord`.

    Ids are unique per user, as the service keeps them: a job whose id another user already
    holds is stored under ``"<id>@<user_id>"`` (:meth:`key_for`), so tests keep reading the
    common case as ``render_jobs[job_id]`` and :meth:`find` answers each user their own job.
    """

    def key_for(self, user_id: str, job_id: str) -> str:
        """Where ``user_id``'s job ``job_id`` is (or would be) stored."""
        known = self.get(job_id)
        if known is None or known.user_id == user_id:
            return job_id
        return f"{job_id}@{user_id}"

    def find(self, user_id: str, job_id: str) -> RenderRecord | None:
        """``user_id``'s job ``job_id``, or None (another user's job is never answered)."""
        record = self.get(self.key_for(user_id, job_id))
        return record if record is not None and record.user_id == user_id else None

    def __setitem__(self, key: str, value: RenderRecord | Mapping[str, Any]) -> None:
        if not isinstance(value, RenderRecord):
            value = RenderRecord.from_mapping(value)
        super().__setitem__(key, value)
