"""The ``nemovideo`` commands behind ``cli.main`` (argument parsing and exit codes live there)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from ._fsutil import atomic_write_bytes
from ._render_download import target_path
from .client import NemoClient
from .errors import SessionNotFoundError, ValidationError
from .session import Session
from .upload import UploadedMedia

if TYPE_CHECKING:
    from .render import RenderJob

_SESSIONS_FILE = "cli-sessions.json"
T = TypeVar("T")


class Bar:
    """A progress callback ``(done, total)`` drawing a tqdm bar on stderr when it can.

    No bar under ``--json``, when stderr is not a terminal, or when tqdm (the ``cli`` extra) is
    missing: scripts and logs get clean output. ``stage(name)`` ends the current bar and makes
    the next one a ``name`` bar (percent for ``"render"``, bytes otherwise), so one ``Bar`` can
    follow an upload, a render and a download in turn.
    """

    def __init__(self, args: argparse.Namespace, desc: str, *, unit: str = "B") -> None:
        self._desc, self._unit = desc, unit
        self._bar: Any = None
        self._enabled = not getattr(args, "json", False) and sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        if not self._enabled:
            return
        if self._bar is None:
            try:
                from tqdm import tqdm
            except ImportError:
                self._enabled = False
                return
            if self._unit == "%":
                self._bar = tqdm(total=total, desc=self._desc, file=sys.stderr, leave=False,
                                 bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}")  # fmt: skip
            else:
                self._bar = tqdm(total=total, desc=self._desc, unit=self._unit, unit_scale=True,
                                 unit_divisor=1024, file=sys.stderr, leave=False)  # fmt: skip
        self._bar.total = total
        self._bar.update(done - self._bar.n)

    def stage(self, name: str) -> None:
        """Close the current bar; the next progress call starts a ``name`` bar."""
        self.close()
        self._desc, self._unit = name, "%" if name == "render" else "B"

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def note(args: argparse.Namespace, line: str) -> None:
    """A line for the person at the terminal (stderr); silent under ``--json``."""
    if not getattr(args, "json", False):
        print(line, file=sys.stderr, flush=True)


def os_message(exc: OSError) -> str:
    """``"path: reason"`` for a file-system error, without errno noise."""
    if exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc)


def make_client(args: argparse.Namespace, **overrides: Any) -> NemoClient:
    if getattr(args, "api_url", None):
        overrides["base_url"] = args.api_url
    if getattr(args, "config_dir", None):
        overrides["config_dir"] = args.config_dir
    return NemoClient(**overrides)


def prepare_out_dir(out: Path) -> None:
    """Create the directory ``--out`` names (``out`` itself, or its parent when ``out`` names a
    file such as ``video.mp4``) now, so a bad path fails before anything is rendered."""
    directory = target_path(out, None, "video.mp4").parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = "it is a file" if isinstance(exc, FileExistsError) else exc.strerror or str(exc)
        raise ValidationError(
            f"Cannot use {directory} as the output directory: {reason}."
        ) from None


def _sessions_path(client: NemoClient) -> Path:
    return client.config.config_dir / _SESSIONS_FILE


def remembered_session(client: NemoClient) -> Session | None:
    """The session this command line last used against this API, if any."""
    try:
        known = json.loads(_sessions_path(client).read_text(encoding="utf-8"))
        entry = known[client.config.base_url]
        return client.session(entry["session_id"], task_id=entry.get("task_id"))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def remember_session(client: NemoClient, session: Session) -> None:
    path = _sessions_path(client)
    try:
        known = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(known, dict):
            known = {}
    except (OSError, ValueError):
        known = {}
    known[client.config.base_url] = {"session_id": session.id, "task_id": session.task_id}
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, json.dumps(known, indent=1).encode())


async def get_session(client: NemoClient, args: argparse.Namespace) -> Session:
    """``--session ID``, else the remembered one, else a new one (``--new`` forces a new one)."""
    session: Session | None = None
    if getattr(args, "session", None):
        session = client.session(args.session)
    elif not getattr(args, "new", False):
        session = remembered_session(client)
    if session is None:
        session = await client.create_session()
    remember_session(client, session)
    return session


async def on_session(
    client: NemoClient, args: argparse.Namespace, work: Callable[[Session], Awaitable[T]]
) -> tuple[Session, T, bool]:
    """Run ``work`` on the command's session: ``(session, result, new_session)``.

    A remembered session the server no longer knows (1002) is replaced by a new one, and the
    user is told, as the Assistant does; a session named with ``--session`` is not (exit 6).
    """
    session = await get_session(client, args)
    try:
        return session, await work(session), False
    except SessionNotFoundError:
        if getattr(args, "session", None):
            raise
    old = session.id
    session = await client.create_session()
    remember_session(client, session)
    note(args, f"Session {old} was not found, so a new one was started: {session.id}")
    return session, await work(session), True


def _value(obj: Any) -> Any:
    return attrs.asdict(obj) if attrs.has(type(obj)) else obj


def media_json(media: UploadedMedia) -> dict[str, Any]:
    """One uploaded file for ``--json``: its id and URL first, then everything the API said."""
    return {"media_id": media.media_id, "url": media.url, **_value(media)}


async def run(args: argparse.Namespace) -> int:
    from .cli import EXIT_OK, emit

    if args.command == "demo":
        from ._cli_demo import run_demo

        return await run_demo(args)
    if args.command == "chat":
        from ._cli_repl import run_chat

        return await run_chat(args)
    if args.command == "export":
        prepare_out_dir(args.out)
    async with make_client(args) as client:
        if args.command == "credits":
            bal = await client.credits()
            emit(args, f"credits: {bal.available} available, {bal.frozen} frozen, {bal.total} total",
                 attrs.asdict(bal))  # fmt: skip
        elif args.command == "state":
            session, state, new = await on_session(client, args, lambda s: s.state())
            emit(args, f"session {session.id}\n{state.draft.summary()}",
                 {"session_id": session.id, "new_session": new, "summary": state.draft.summary(),
                  "draft": state.draft.to_json()})  # fmt: skip
        elif args.command == "upload":
            session, media, new = await on_session(client, args, lambda s: _upload(args, s))
            lines = [f"uploaded {m.name} ({m.media_id})" for m in media]
            emit(args, "\n".join([f"session {session.id}", *lines]),
                 {"session_id": session.id, "new_session": new,
                  "media": [media_json(m) for m in media]})  # fmt: skip
        elif args.command == "export":
            if getattr(args, "job", None):
                job = await client.renderer.resume(args.job)
                session_id, new = job.session_id, False
                path, url, job_id = await _wait_and_download(args, job, args.out)
            else:
                session, (path, url, job_id), new = await on_session(
                    client, args, lambda s: export_to(args, s, args.out)
                )
                session_id = session.id
            emit(args, f"saved {path}", {"session_id": session_id, "new_session": new,
                                         "path": str(path), "job_id": job_id, "url": url})  # fmt: skip
    return EXIT_OK


async def _upload(args: argparse.Namespace, session: Session) -> list[UploadedMedia]:
    bar = Bar(args, "upload")
    try:
        return await session.upload(args.files, progress=bar)
    finally:
        bar.close()


async def export_to(
    args: argparse.Namespace, session: Session, out: Path
) -> tuple[Path, str | None, str]:
    """Export ``session``, wait with a progress bar, download into ``out`` (a dir or a file).

    Returns the saved path, the server's video URL and the render job id.
    """
    job = await session.export(format=getattr(args, "format", "mp4"),
                               quality=getattr(args, "quality", "high"))  # fmt: skip
    return await _wait_and_download(args, job, out)


async def _wait_and_download(
    args: argparse.Namespace, job: RenderJob, out: Path
) -> tuple[Path, str | None, str]:
    bar = Bar(args, "render", unit="%")
    try:
        result = await job.wait(progress=bar)
    finally:
        bar.close()
    bar = Bar(args, "download")
    try:
        return await job.download(out, progress=bar), result.url, job.id
    finally:
        bar.close()
