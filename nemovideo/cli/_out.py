"""The one ``--out`` rule of ``nemovideo export`` and ``nemovideo demo``.

``--out PATH`` is a directory when it is one already, ends with ``/`` or has no suffix
(``videos``: created when missing), and the video is saved there under its own name; otherwise it
is the file to write (``my.mp4``). An existing file is replaced only when it is a video (an earlier
output); anything else (``keep.txt``, a photo) needs ``--force``. Both are checked before anything
is rendered, and again for the name the server gives, just before the download.
"""

from __future__ import annotations

import os
from pathlib import Path

from nemovideo.errors import ValidationError
from nemovideo.render._download import target_path
from nemovideo.upload._check import sniff

__all__ = ["OUT_HELP", "check_target", "prepare_dir", "prepare_out"]

OUT_HELP = (
    "a directory (existing, ending in /, or without a suffix; created) or a file name; an existing "
    "file is replaced only when it is a video, unless --force (default: the current directory)"
)
_VIDEOS = frozenset({"mp4", "mov", "m4a", "webm", "mkv", "avi", "gif"})


def _is_video(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            head = fh.read(64)
    except OSError:
        return False
    return sniff(head) in _VIDEOS


def check_target(path: Path, *, force: bool) -> None:
    """Refuse to replace ``path`` when it exists and is not a video (unless ``force``)."""
    if force or not os.path.lexists(path):
        return
    if path.is_dir():
        raise ValidationError(f"Cannot save the video as {path}: it is a directory.")
    if not _is_video(path):
        raise ValidationError(
            f"Refusing to overwrite {path}: it exists and is not a video. "
            "Choose another --out, or add --force to replace it."
        )


def prepare_out(out: Path, fallback: str, *, force: bool) -> Path:
    """Apply the rule to ``out`` now: create the directory, check a named file; return the target.

    ``fallback`` is the file name used in a directory when the server gives none
    (``demo.mp4``). A bad path fails here, before anything is rendered.
    """
    target = target_path(out, None, fallback)
    prepare_dir(target.parent)
    check_target(target, force=force)
    return target


def prepare_dir(directory: Path) -> None:
    """Create ``directory`` now (``chat --out``), so a bad path fails before any work."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = "it is a file" if isinstance(exc, FileExistsError) else exc.strerror or str(exc)
        raise ValidationError(
            f"Cannot use {directory} as the output directory: {reason}."
        ) from None
