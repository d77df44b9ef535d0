"""Callback types shared by the services (written once, re-exported where users meet them)."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["ProgressCallback"]

ProgressCallback = Callable[[int, int], None]
"""``progress(done, total)``: bytes sent or saved so far and the total (uploads, downloads), or
a render's percent and 100."""
