"""The ``nemovideo`` commands behind ``cli.main`` (argument parsing and exit codes live there)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from ._cli_out import check_target, prepare_out
from ._cli_term import Bar, note
from ._fsutil import atomic_write_bytes
from ._render_download import target_path
from .client import NemoClient
from .errors import SessionNotFoundError
from .session import Session
from .upload import UploadedMedia

if TYPE_CHECKING:
    from .render import RenderJob

_SESSIONS_FILE = "cli-sessions.json"
T = TypeVar("T")


def os_message(exc: OSError) -> str:
    """``"path: reason"`` for a file-system error, without errno noise."""
    if exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc)


def make_client(args: argparse.Namespace, **overrides: Any) -> NemoClient:
    """The command's client: ``--api-url``, ``--config-dir`` and ``--poll-interval`` win over
    the environment (``NEMO_API_URL``, ``NEMO_CONFIG_DIR``, ``NEMO_POLL_INTERVAL``) and
    ``config.json``."""
    if getattr(args, "api_url", None):
        overrides["base_url"] = args.api_url
    if getattr(args, "config_dir", None):
        overrides["config_dir"] = args.config_dir
    if getattr(args, "poll_interval", None) is not None:
        overrides["poll_interval"] = args.poll_interval
    return NemoClient(**overrides)


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
    entry = {"session_id": session.id, "task_id": session.task_id}
    if known.get(client.config.base_url) == entry:
        return
    known[client.config.base_url] = entry
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, json.dumps(known, indent=1).encode())


async def get_session(
    client: NemoClient, args: argparse.Namespace, *, check: bool = False
) -> Session:
    """``--session ID``, else the remembered one, else a new one (``--new`` forces a new one).

    A session named with ``--session`` is remembered only once the server has answered for it
    (``check=True`` asks it now, for commands such as ``chat`` that would otherwise replace an
    unknown session): a mistyped id exits 6 and leaves the remembered session alone.
    """
    if getattr(args, "session", None):
        session = client.session(args.session)
        if check:
            await session.state()
            remember_session(client, session)
        return session
    found = None if getattr(args, "new", False) else remembered_session(client)
    if found is not None:
        return found
    session = await client.create_session()
    remember_session(client, session)
    return session


async def on_session(
    client: NemoClient, args: argparse.Namespace, work: Callable[[Session], Awaitable[T]]
) -> tuple[Session, T, bool]:
    """Run ``work`` on the command's session: ``(session, result, new_session)``.

    A remembered session the server no longer knows (1002) is replaced by a new one, and the
    user is told, as the Assistant does; a session named with ``--session`` is not (exit 6), and
    the remembered one is kept.
    """
    session = await get_session(client, args)
    try:
        result = await work(session)
    except SessionNotFoundError:
        if getattr(args, "session", None):
            raise
    else:
        remember_session(client, session)
        return session, result, False
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
        prepare_out(args.out, "video.mp4", force=args.force)
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
                args.submitted_job = job.id
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

    The job id is printed (stderr) as soon as the job exists and kept in ``args.submitted_job``,
    so an interrupted command can say how to resume it. Returns the saved path, the server's
    video URL and the render job id.
    """
    job = await session.export(format=getattr(args, "format", "mp4"),
                               quality=getattr(args, "quality", "high"))  # fmt: skip
    args.submitted_job = job.id
    note(args, f"Rendering job {job.id} (if interrupted: nemovideo export --job {job.id})")
    return await _wait_and_download(args, job, out)


async def _wait_and_download(
    args: argparse.Namespace, job: RenderJob, out: Path
) -> tuple[Path, str | None, str]:
    bar = Bar(args, "render", unit="%")
    try:
        result = await job.wait(progress=bar)
    finally:
        bar.close()
    final = target_path(out, result.url, f"{job.id}.mp4")
    check_target(final, force=getattr(args, "force", False))
    bar = Bar(args, "download")
    try:
        return await job.download(final, progress=bar), result.url, job.id
    finally:
        bar.close()
