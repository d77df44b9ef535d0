"""The batch manifest: one job per line (JSON Lines, or CSV with the same columns), checked whole.

A JSON Lines manifest::

    {"id": "sku-1", "files": ["photos/sku-1/a.jpg"], "instruction": "a 15-second video", "out": "videos/sku-1.mp4"}
    {"id": "sku-2", "urls": ["https://example.com/b.jpg"], "instruction": "a 10-second video"}

The same as CSV (a header row; ``files`` and ``urls`` separated by ``;``)::

    id,files,urls,instruction,out,format,quality
    sku-1,photos/sku-1/a.jpg;photos/sku-1/b.jpg,,a 15-second video,videos/sku-1.mp4,,

Paths are relative to the manifest. ``urls``, ``out``, ``format`` and ``quality`` are optional;
``out`` defaults to ``<out_dir>/<id>.mp4``. Every line is checked (files exist, formats, sizes,
duplicate ids, duplicate outputs) before anything is sent: ``ManifestError`` lists every problem
with its line number.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, get_args

import attrs

from nemovideo.errors import DEFAULT_MAX_UPLOAD_BYTES, NemoError, ValidationError
from nemovideo.render import ExportFormat, ExportQuality

__all__ = ["BatchJob", "Manifest", "ManifestError", "load_manifest", "manifest_from_jobs"]

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_KEYS = ("id", "files", "urls", "instruction", "out", "format", "quality")
_ALLOWED: dict[str, tuple[str, ...]] = {
    "format": get_args(ExportFormat),
    "quality": get_args(ExportQuality),
}
"""The values an export takes (docs/export.md), checked per line before anything is sent."""
_MAX_PROBLEMS_SHOWN = 20


class ManifestError(ValidationError):
    """A manifest with bad lines; ``problems`` holds ``(line, message)`` pairs, every one found.

    Raised before any request is made: nothing of the batch has been sent.
    """

    def __init__(self, source: str, problems: Iterable[tuple[int, str]]) -> None:
        self.source = source
        self.problems = tuple(problems)
        shown = [
            f"  line {line}: {text}" if line else f"  {text}"
            for line, text in self.problems[:_MAX_PROBLEMS_SHOWN]
        ]
        more = len(self.problems) - len(shown)
        if more > 0:
            shown.append(f"  ... and {more} more")
        count = len(self.problems)
        super().__init__(
            f"{source}: {count} problem{'s' if count != 1 else ''}; nothing was sent:\n"
            + "\n".join(shown)
        )

    def __reduce__(self) -> Any:
        return (ManifestError, (self.source, self.problems))


def _texts(values: Iterable[str]) -> tuple[str, ...]:
    return (values,) if isinstance(values, str) else tuple(values)


@attrs.frozen
class BatchJob:
    """One job: upload ``files`` (and have the server fetch ``urls``), send ``instruction``,
    render, and save the MP4 to ``out``.

    ``files`` are as written in the manifest (relative to ``base``); ``paths`` and ``output``
    resolve them. Build one directly for ``client.batch()``::

        BatchJob("sku-1", files=("a.jpg",), instruction="a 15-second video")
    """

    id: str
    instruction: str
    files: tuple[str, ...] = attrs.field(default=(), converter=_texts)
    urls: tuple[str, ...] = attrs.field(default=(), converter=_texts)
    out: str | None = None
    format: str = "mp4"
    quality: str = "high"
    line: int = attrs.field(default=0, eq=False)
    base: str = attrs.field(default=".", eq=False)

    @property
    def paths(self) -> tuple[Path, ...]:
        """The files to upload, resolved against the manifest's directory."""
        return tuple(Path(self.base, f) for f in self.files)

    def output(self, out_dir: str | os.PathLike[str]) -> Path:
        """Where the video goes: ``out`` (relative to the manifest), else ``out_dir/<id>.mp4``."""
        if self.out:
            return Path(self.base, self.out)
        return Path(out_dir, f"{self.id}.mp4")

    def to_dict(self) -> dict[str, Any]:
        """The job as a manifest line would write it (JSON-ready)."""
        return {
            "id": self.id,
            "files": list(self.files),
            "urls": list(self.urls),
            "instruction": self.instruction,
            "out": self.out,
            "format": self.format,
            "quality": self.quality,
        }


@attrs.frozen
class Manifest:
    """Checked jobs and the manifest's hash (what a journal is bound to)."""

    jobs: tuple[BatchJob, ...]
    digest: str
    source: str = "<jobs>"


@attrs.frozen
class _Problem:
    """A line that could not be decoded at all."""

    text: str


def _digest(jobs: Iterable[BatchJob]) -> str:
    text = json.dumps([j.to_dict() for j in jobs], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _strings(value: Any, what: str) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"{what} must be a list of non-empty strings")
    return tuple(v.strip() for v in value)


def _job(raw: Any, line: int, base: str) -> BatchJob:
    if not isinstance(raw, Mapping):
        raise ValueError("a job must be a JSON object")
    unknown = sorted(set(raw) - set(_KEYS))
    if unknown:
        raise ValueError(
            f"unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
            f"(a job has {', '.join(_KEYS)})"
        )
    job_id = raw.get("id")
    if not isinstance(job_id, str) or not _ID.match(job_id):
        raise ValueError(
            f"id {job_id!r} must be 1-128 letters, digits, '.', '_' or '-' (it names files)"
        )
    instruction = raw.get("instruction")
    if not isinstance(instruction, str) or not instruction.strip():
        raise ValueError("instruction must be a non-empty string")
    options: dict[str, str] = {}
    for key in ("out", "format", "quality"):
        value = raw.get(key)
        if value in (None, ""):
            continue
        if not isinstance(value, str):
            raise ValueError(f"{key} must be a string")
        options[key] = value.strip()
        allowed = _ALLOWED.get(key)
        if allowed is not None and options[key].lower() not in allowed:
            raise ValueError(f"{key} {value!r} is not supported; use one of: {', '.join(allowed)}")
        if allowed is not None:
            options[key] = options[key].lower()
    urls = _strings(raw.get("urls"), "urls")
    for url in urls:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"url {url!r} must start with http:// or https://")
    return BatchJob(
        id=job_id,
        instruction=instruction.strip(),
        files=_strings(raw.get("files"), "files"),
        urls=urls,
        line=line,
        base=base,
        **options,
    )


def _file_problems(job: BatchJob, limit: int) -> list[str]:
    from nemovideo.upload._check import check_input

    problems = []
    for name in job.files:
        path = os.path.join(job.base, name)
        try:
            check_input(path, limit)
        except (NemoError, OSError) as exc:
            if not os.path.isfile(path):  # asked only of a file that failed: one stat a file
                problems.append(f"file {name} does not exist ({path})")
            elif isinstance(exc, NemoError):
                problems.append(f"file {name}: {exc}")
            else:
                problems.append(f"file {name}: {exc.strerror or exc}")
    return problems


def _resolved(job: BatchJob, out_dir: str, folders: dict[str, str]) -> str:
    """``job.output(out_dir).resolve()`` as text, with each folder resolved once for all the
    outputs in it (a catalogue's videos share one or a few): only the file itself is looked at,
    in case it is a symbolic link. Strings, not ``Path``: this runs once a job before anything
    is sent, and pathlib's objects cost more than the checks."""
    target = os.path.join(job.base, job.out) if job.out else os.path.join(out_dir, f"{job.id}.mp4")
    parent, name = os.path.split(target)
    if name in ("", ".", "..") or os.path.islink(target):
        return str(Path(target).resolve())
    folder = folders.get(parent)
    if folder is None:
        folder = folders[parent] = str(Path(parent or ".").resolve())
    return os.path.join(folder, name)


def check_jobs(
    entries: Iterable[tuple[int, Any]],
    *,
    base: str,
    out_dir: str | os.PathLike[str],
    source: str,
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
) -> Manifest:
    """Check every ``(line, raw job)``; all problems at once as ``ManifestError``."""
    problems: list[tuple[int, str]] = []
    jobs: list[BatchJob] = []
    ids: dict[str, int] = {}
    outs: dict[str, int] = {}
    folders: dict[str, str] = {}
    out_text = os.fspath(out_dir)
    for line, raw in entries:
        if isinstance(raw, _Problem):
            problems.append((line, raw.text))
            continue
        try:
            job = raw if isinstance(raw, BatchJob) else _job(raw, line, base)
        except ValueError as exc:
            problems.append((line, str(exc)))
            continue
        line = job.line or line
        problems += [(line, p) for p in _file_problems(job, max_upload_bytes)]
        if job.id in ids:
            problems.append((line, f"duplicate id {job.id!r} (first on line {ids[job.id]})"))
            continue
        target = _resolved(job, out_text, folders)
        if job.out and os.path.splitext(target)[1].lower() != f".{job.format.lower()}":
            problems.append((line, f"out {job.out!r} should end with .{job.format}"))
        if target in outs:
            problems.append((line, f"duplicate out {target} (also line {outs[target]})"))
        outs.setdefault(target, line)
        ids[job.id] = line
        jobs.append(job)
    if not jobs and not problems:
        problems.append((0, "no jobs"))
    if problems:
        raise ManifestError(source, problems)
    return Manifest(tuple(jobs), _digest(jobs), source)


def _jsonl(text: str) -> list[tuple[int, Any]]:
    entries: list[tuple[int, Any]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            entries.append((number, json.loads(line)))
        except ValueError as exc:
            entries.append((number, _Problem(f"not JSON ({exc})")))
    return entries


def _csv(text: str) -> list[tuple[int, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    entries: list[tuple[int, Any]] = []
    for row in reader:
        number = reader.line_num
        if None in row:
            entries.append((number, _Problem("more cells than the header has columns")))
            continue
        raw: dict[str, Any] = {k.strip(): (v or "").strip() for k, v in row.items() if k}
        if not any(raw.values()):
            continue
        for key in ("files", "urls"):
            if key in raw:
                raw[key] = [p.strip() for p in raw[key].split(";") if p.strip()]
        entries.append((number, raw))
    return entries


def load_manifest(
    path: str | os.PathLike[str],
    *,
    out_dir: str | os.PathLike[str] | None = None,
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
) -> Manifest:
    """Read and check a ``.jsonl`` (or ``.csv``) manifest (blocking: it stats every file).

    :raises ManifestError: any bad line, unreadable file, duplicate id or output.
    """
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ManifestError(
            str(source), [(0, f"cannot read the manifest: {reason or exc}")]
        ) from None
    entries = _csv(text) if source.suffix.lower() == ".csv" else _jsonl(text)
    base = str(source.parent)
    return check_jobs(
        entries,
        base=base,
        out_dir=out_dir if out_dir is not None else base,
        source=str(source),
        max_upload_bytes=max_upload_bytes,
    )


def manifest_from_jobs(
    jobs: Iterable[BatchJob | Mapping[str, Any]],
    *,
    out_dir: str | os.PathLike[str] = ".",
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
) -> Manifest:
    """Check jobs given in Python (``BatchJob`` values or manifest-style dicts, paths relative to
    the current directory); problems are numbered by position, from 1."""
    return check_jobs(
        list(enumerate(jobs, 1)),
        base=".",
        out_dir=out_dir,
        source="<jobs>",
        max_upload_bytes=max_upload_bytes,
    )
