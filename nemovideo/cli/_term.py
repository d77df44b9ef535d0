"""What the ``nemovideo`` command prints: its results (``emit``), notes, progress bars and a spinner.

Results go to stdout, as text or, under ``--json``, as one JSON object. Bars and the spinner write
to stderr, and only when stderr is a terminal and ``--json`` is off, so scripts, pipes and logs get
clean output. They share one line: a spinner steps aside while a bar is drawn, and a bar
that reached its total is cleared at once, so no stale bar stays on screen after an upload.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

__all__ = ["Bar", "Spinner", "emit", "note", "on_terminal"]


def on_terminal(args: argparse.Namespace) -> bool:
    """True when stderr is a terminal and ``--json`` is off: the only time to draw."""
    return not getattr(args, "json", False) and sys.stderr.isatty()


def emit(args: argparse.Namespace, text: str, data: dict[str, Any] | None = None) -> None:
    """Print ``text`` for people, or ``data`` as one JSON line under ``--json`` (stdout)."""
    if getattr(args, "json", False):
        if data is not None:
            print(json.dumps(data, default=str, ensure_ascii=False), flush=True)
    else:
        print(text, flush=True)


def note(args: argparse.Namespace, line: str) -> None:
    """A line for the person at the terminal (stderr); silent under ``--json``."""
    if not getattr(args, "json", False):
        print(line, file=sys.stderr, flush=True)


class Bar:
    """A progress callback ``(done, total)`` drawing a tqdm bar on stderr when it can.

    No bar under ``--json``, when stderr is not a terminal, or when tqdm (the ``cli`` extra) is
    missing. ``stage(name)`` ends the current bar and makes the next one a ``name`` bar (percent
    for ``"render"``, bytes otherwise), so one ``Bar`` can follow an upload, a render and a
    download in turn. A render bar draws every percentage the server reports (they are few), so
    it moves as the job moves. A bar that reaches its total closes itself (``leave=False``: it is
    erased).
    """

    def __init__(self, args: argparse.Namespace, desc: str, *, unit: str = "B") -> None:
        self._desc, self._unit = desc, unit
        self._bar: Any = None
        self._finished = False
        self._enabled = on_terminal(args)

    @property
    def active(self) -> bool:
        """True while a bar is on screen."""
        return self._bar is not None

    def __call__(self, done: int, total: int) -> None:
        if not self._enabled or self._finished:
            return
        if self._bar is None:
            try:
                from tqdm import tqdm
            except ImportError:
                self._enabled = False
                return
            if self._unit == "%":
                self._bar = tqdm(total=total, desc=self._desc, file=sys.stderr, leave=False,
                                 mininterval=0, miniters=1,
                                 bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}")  # fmt: skip
            else:
                self._bar = tqdm(total=total, desc=self._desc, unit=self._unit, unit_scale=True,
                                 unit_divisor=1024, file=sys.stderr, leave=False)  # fmt: skip
        self._bar.total = total
        self._bar.update(done - self._bar.n)
        if total and done >= total:
            self.close()
            self._finished = True

    def stage(self, name: str) -> None:
        """Close the current bar; the next progress call starts a ``name`` bar."""
        self.close()
        self._finished = False
        self._desc, self._unit = name, "%" if name == "render" else "B"

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class Spinner:
    """``with Spinner(args, bar):`` shows ``⠋ working (12s)`` on stderr until the block ends.

    ``pause()`` erases it for good within the block (call it before printing the reply as it
    streams in). It never draws over an active ``bar``; off the terminal it does nothing.
    """

    FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

    def __init__(self, args: argparse.Namespace, bar: Bar | None = None, *, label: str = "working",
                 interval: float = 0.1) -> None:  # fmt: skip
        self._enabled = on_terminal(args)
        self._bar, self._label, self._interval = bar, label, interval
        self._task: asyncio.Task[None] | None = None
        self._drawn = False

    async def _spin(self) -> None:
        loop = asyncio.get_running_loop()
        start, frame = loop.time(), 0
        while True:
            if self._bar is not None and self._bar.active:
                self._erase()
            else:
                glyph = self.FRAMES[frame % len(self.FRAMES)]
                elapsed = loop.time() - start
                sys.stderr.write(f"\r{glyph} {self._label} ({elapsed:.0f}s)\x1b[K")
                sys.stderr.flush()
                self._drawn = True
                frame += 1
            await asyncio.sleep(self._interval)

    def _erase(self) -> None:
        if self._drawn:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            self._drawn = False

    def pause(self) -> None:
        """Stop and erase the spinner (idempotent)."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self._erase()

    def __enter__(self) -> Spinner:
        if self._enabled:
            self._task = asyncio.get_running_loop().create_task(self._spin())
        return self

    def __exit__(self, *exc: object) -> None:
        self.pause()

    def clear(self) -> None:
        """Erase the spinner's line (it draws again at its next step): call before printing."""
        self._erase()
