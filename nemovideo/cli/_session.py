"""The command line's client and its remembered session.

Every command but ``demo`` and ``emulator`` works on one project: the session it used last against
an API is remembered in ``<config dir>/cli-sessions.json``, so ``upload`` then ``chat`` then
``export`` reach the same session. Shared by the one-shot commands (``_cli_commands``), the chat
prompt (``_cli_repl``) and the demo (``_cli_demo``).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from nemovideo._util.files import atomic_write_bytes
from nemovideo.cli._term import note
from nemovideo.client import NemoClient
from nemovideo.errors import SessionNotFoundError
from nemovideo.session import Session

__all__ = [
    "get_session",
    "make_client",
    "on_session",
    "os_message",
    "remember_session",
    "remembered_session",
]

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
    the remembered one is kept. ``new_session`` is also true when the command started one
    (``--new``, or no session remembered yet).
    """
    named = bool(getattr(args, "session", None))
    fresh = not named and (getattr(args, "new", False) or remembered_session(client) is None)
    session = await get_session(client, args)
    try:
        result = await work(session)
    except SessionNotFoundError:
        if named:
            raise
    else:
        remember_session(client, session)
        return session, result, fresh
    old = session.id
    session = await client.create_session()
    remember_session(client, session)
    note(args, f"Session {old} was not found, so a new one was started: {session.id}")
    return session, await work(session), True
