"""The ``nemovideo`` commands behind ``cli.main`` (argument parsing and exit codes live there)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import attrs

from ._fsutil import atomic_write_bytes
from .client import NemoClient
from .session import Session

_SESSIONS_FILE = "cli-sessions.json"


class Bar:
    """A progress callback ``(done, total)`` drawing a tqdm bar on stderr when it can.

    No bar under ``--json``, when stderr is not a terminal, or when tqdm (the ``cli`` extra) is
    missing: scripts and logs get clean output.
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
            scale = self._unit == "B"
            self._bar = tqdm(total=total, desc=self._desc, unit=self._unit,
                             unit_scale=scale, file=sys.stderr, leave=False)  # fmt: skip
        self._bar.total = total
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def make_client(args: argparse.Namespace, **overrides: Any) -> NemoClient:
    if getattr(args, "api_url", None):
        overrides["base_url"] = args.api_url
    if getattr(args, "config_dir", None):
        overrides["config_dir"] = args.config_dir
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


def _value(obj: Any) -> Any:
    return attrs.asdict(obj) if attrs.has(type(obj)) else obj


async def run(args: argparse.Namespace) -> int:
    from .cli import EXIT_OK, emit

    if args.command == "demo":
        from ._cli_demo import run_demo

        return await run_demo(args)
    if args.command == "chat":
        from ._cli_repl import run_chat

        return await run_chat(args)
    async with make_client(args) as client:
        if args.command == "credits":
            bal = await client.credits()
            emit(args, f"credits: {bal.available} available, {bal.frozen} frozen, {bal.total} total",
                 attrs.asdict(bal))  # fmt: skip
        elif args.command == "state":
            session = await get_session(client, args)
            state = await session.state()
            emit(args, f"session {session.id}\n{state.draft.summary()}",
                 {"session_id": session.id, "summary": state.draft.summary(),
                  "draft": state.draft.to_json()})  # fmt: skip
        elif args.command == "upload":
            session = await get_session(client, args)
            bar = Bar(args, "upload")
            try:
                media = await session.upload(args.files, progress=bar)
            finally:
                bar.close()
            lines = [f"uploaded {m.name} ({m.media_id})" for m in media]
            emit(args, "\n".join([f"session {session.id}", *lines]),
                 {"session_id": session.id, "media": [_value(m) for m in media]})  # fmt: skip
        elif args.command == "export":
            session = await get_session(client, args)
            path = await export_to(args, session, args.out)
            emit(args, f"saved {path}", {"session_id": session.id, "path": str(path)})
    return EXIT_OK


async def export_to(args: argparse.Namespace, session: Session, out: Path) -> Path:
    """Export ``session``, wait with a progress bar, download into ``out`` (a dir or a file)."""
    job = await session.export(format=getattr(args, "format", "mp4"),
                               quality=getattr(args, "quality", "high"))  # fmt: skip
    bar = Bar(args, "render", unit="%")
    try:
        await job.wait(progress=bar)
    finally:
        bar.close()
    bar = Bar(args, "download")
    try:
        return await job.download(out, progress=bar)
    finally:
        bar.close()
