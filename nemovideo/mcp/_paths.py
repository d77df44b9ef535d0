"""Where the MCP server may read and write: every path a tool is given stays under ``--root``.

A model passes paths it read in a conversation; some of those are wrong and a few are hostile
(``../../.ssh/id_rsa``, a symlink out of the project). ``PathGuard`` resolves each one against the
root (relative paths are relative to it), follows symlinks, and refuses anything that lands
outside, before a byte is read or written::

    guard = PathGuard(Path("~/videos").expanduser())
    guard.readable("clips/a.jpg")       # -> /home/me/videos/clips/a.jpg, or PathRefused
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["PathGuard", "PathRefused"]


class PathRefused(Exception):
    """A path a tool may not use; the message says why and what to do instead."""


class PathGuard:
    """Confines the paths tools receive to one directory tree (``root``)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).expanduser().resolve()

    def __repr__(self) -> str:
        return f"<PathGuard root={str(self.root)!r}>"

    def _inside(self, text: str, what: str) -> Path:
        if not isinstance(text, str) or not text.strip() or "\x00" in text:
            raise PathRefused(f"{what}: expected a file path, got {text!r}.")
        candidate = Path(text.strip()).expanduser()
        if not candidate.is_absolute():
            candidate = self.root / candidate
        resolved = candidate.resolve()
        if resolved != self.root and self.root not in resolved.parents:
            raise PathRefused(
                f"{text}: outside the folder this server may use ({self.root}). Move or copy the "
                "file there, or start the server with --root pointing at a folder that holds it."
            )
        return resolved

    def readable(self, text: str) -> Path:
        """The resolved path of an existing file under the root, else ``PathRefused``."""
        path = self._inside(text, "upload")
        if not path.exists():
            raise PathRefused(f"{text}: no such file under {self.root}.")
        if not path.is_file():
            raise PathRefused(f"{text}: not a regular file.")
        return path

    def writable(self, text: str) -> Path:
        """The resolved target of a download under the root (a directory or a file name)."""
        return self._inside(text, "export")
