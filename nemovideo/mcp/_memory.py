"""Which session each MCP connection is working on, remembered across restarts.

A model should not juggle session ids: ``new_session`` (or any tool given ``session_id``) makes a
session *current* for the connection that asked, and the other tools default to it. The latest
current session per API is also written to ``<config dir>/mcp-sessions.json`` (the CLI keeps its own
``cli-sessions.json`` the same way), so a restarted server (a desktop assistant relaunches it for
every conversation) picks the project up where it was. A read-only or missing config dir only
loses that convenience: nothing fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from nemovideo import NemoClient, Session

__all__ = ["SessionMemory"]

_FILE = "mcp-sessions.json"
_DEFAULT = ""


class SessionMemory:
    """Current session per connection key, with the latest one persisted per API base URL."""

    def __init__(self, client: NemoClient) -> None:
        self._client = client
        self._current: dict[str, Session] = {}
        self._path = Path(client.config.config_dir) / _FILE

    def current(self, connection: str | None) -> Session | None:
        """The connection's current session; else the one remembered on disk; else None."""
        found = self._current.get(connection or _DEFAULT)
        if found is not None:
            return found
        entry = self._read().get(self._client.config.base_url)
        if not isinstance(entry, dict) or not isinstance(entry.get("session_id"), str):
            return None
        task_id = entry.get("task_id")
        try:
            session = self._client.session(
                entry["session_id"], task_id=task_id if isinstance(task_id, str) else None
            )
        except ValueError:
            return None
        self._current[connection or _DEFAULT] = session
        return session

    def remember(self, connection: str | None, session: Session) -> None:
        """Make ``session`` current for ``connection`` and the one a restart starts from."""
        self._current[connection or _DEFAULT] = session
        known = self._read()
        entry = {"session_id": session.id, "task_id": session.task_id}
        if known.get(self._client.config.base_url) == entry:
            return
        known[self._client.config.base_url] = entry
        with contextlib.suppress(OSError):
            self._path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self._path.parent, prefix=".mcp-sessions-")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    json.dump(known, out, indent=1)
                os.replace(tmp, self._path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise

    def _read(self) -> dict[str, Any]:
        try:
            known = json.loads(self._path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return known if isinstance(known, dict) else {}
