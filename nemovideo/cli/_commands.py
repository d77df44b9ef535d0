"""The ``nemovideo`` commands behind ``cli.main`` (argument parsing lives there, exit codes in
``_cli_exit``, the command line's client and remembered session in ``_cli_session``)."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from nemovideo.assistant._advice import media_line
from nemovideo.cli._exit import EXIT_OK
from nemovideo.cli._out import check_target, prepare_out
from nemovideo.cli._session import make_client, on_session
from nemovideo.cli._term import Bar, emit, note
from nemovideo.render._download import target_path, video_suffix
from nemovideo.session import Session
from nemovideo.upload._uploader import UploadedMedia

if TYPE_CHECKING:
    from nemovideo.render._renderer import RenderJob


def _value(obj: Any) -> Any:
    return attrs.asdict(obj) if attrs.has(type(obj)) else obj


def media_json(media: UploadedMedia) -> dict[str, Any]:
    """One uploaded file for ``--json``: its id and URL first, then everything the API said."""
    return {"media_id": media.media_id, "url": media.url, **_value(media)}


async def run(args: argparse.Namespace) -> int:
    # demo and chat load the emulator's samples and the conversation layer: only when they run
    if args.command == "demo":
        from nemovideo.cli._demo import run_demo

        return await run_demo(args)
    if args.command == "batch":
        from nemovideo.cli._batch import run_batch_command

        return await run_batch_command(args)
    if args.command == "chat":
        from nemovideo.cli._repl import run_chat

        return await run_chat(args)
    if args.command == "export":
        prepare_out(args.out, f"video.{getattr(args, 'format', 'mp4')}", force=args.force)
    async with make_client(args) as client:
        if args.command == "credits":
            bal = await client.credits()
            emit(
                args,
                f"credits: {bal.available} available, {bal.frozen} frozen, {bal.total} total",
                attrs.asdict(bal),
            )
        elif args.command == "state":
            session, state, new = await on_session(client, args, lambda s: s.state())
            uploads = media_line(state)
            emit(
                args,
                "\n".join(filter(None, [f"session {session.id}", state.draft.summary(), uploads])),
                {
                    "session_id": session.id,
                    "new_session": new,
                    "summary": state.draft.summary(),
                    "media": [m.filename for m in state.video_infos],
                    "draft": state.draft.to_json(),
                },
            )
        elif args.command == "upload":
            session, media, new = await on_session(client, args, lambda s: _upload(args, s))
            lines = [f"uploaded {m.name} ({m.media_id})" for m in media]
            emit(
                args,
                "\n".join([f"session {session.id}", *lines]),
                {
                    "session_id": session.id,
                    "new_session": new,
                    "media": [media_json(m) for m in media],
                },
            )
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
            emit(
                args,
                f"saved {path}",
                {
                    "session_id": session_id,
                    "new_session": new,
                    "path": str(path),
                    "job_id": job_id,
                    "url": url,
                },
            )
    return EXIT_OK


async def _upload(args: argparse.Namespace, session: Session) -> list[UploadedMedia]:
    bar = Bar(args, "upload")
    try:
        return await session.upload(args.files, progress=bar)
    finally:
        bar.close()


def resume_command(args: argparse.Namespace, job_id: str) -> str:
    """The command that picks up render ``job_id`` where this one left it: the same ``--out``
    (so the video lands where this command would have put it), API and config dir."""
    words = ["nemovideo", "export", "--job", job_id]
    for flag, value in (
        ("--out", getattr(args, "out", None)),
        ("--api-url", getattr(args, "api_url", None)),
        ("--config-dir", getattr(args, "config_dir", None)),
    ):
        if value is not None and not (flag == "--out" and str(value) == "."):
            words += [flag, str(value)]
    if getattr(args, "force", False):
        words.append("--force")
    return shlex.join(words)


async def export_to(
    args: argparse.Namespace, session: Session, out: Path
) -> tuple[Path, str | None, str]:
    """Export ``session``, wait with a progress bar, download into ``out`` (a dir or a file).

    The job id is printed (stderr) as soon as the job exists and kept in ``args.submitted_job``,
    so an interrupted command can say how to resume it. Returns the saved path, the server's
    video URL and the render job id.
    """
    job = await session.export(
        format=getattr(args, "format", "mp4"),
        quality=getattr(args, "quality", "high"),
        resolution=getattr(args, "resolution", None),
    )
    args.submitted_job = job.id
    note(args, f"Rendering job {job.id} (if interrupted: {resume_command(args, job.id)})")
    return await _wait_and_download(args, job, out)


async def _wait_and_download(
    args: argparse.Namespace, job: RenderJob, out: Path
) -> tuple[Path, str | None, str]:
    bar = Bar(args, "render", unit="%")
    try:
        result = await job.wait(progress=bar)
    finally:
        bar.close()
    final = target_path(out, result.url, f"{job.id}{video_suffix(result.url)}")
    check_target(final, force=getattr(args, "force", False))
    bar = Bar(args, "download")
    try:
        return await job.download(final, progress=bar), result.url, job.id
    finally:
        bar.close()
