"""What the ``nemovideo`` command prints: its results (``emit``), notes, progress bars and a spinner.

Results go to stdout, as text or, under ``--json``, as one JSON object. Bars and the spinner write
to stderr, and only when stderr is a terminal and ``--json`` is off, so scripts, pipes and logs get
clean output. They share one line: a spinner steps aside while a bar is drawn, and a bar
that reached its total is cleared at once, so no stale bar stays on screen after an upload.

Server text is untrusted on screens too: everything printed for people passes through ``safe``
(escape sequences, control characters, bidi overrides and lone surrogates are shown as visible
``\\x1b`` escapes, a carriage return becomes a line break), so a message cannot clear the screen,
retitle the window or overwrite a line. ``--json`` output is ``json_line``: always one valid JSON
line, ASCII-escaped when stdout cannot encode all of Unicode. ``setup_streams`` makes stdout and
stderr escape what their encoding cannot hold instead of raising.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import math
import re
import sys
from typing import Any, TextIO

from nemovideo._util.text import printable

__all__ = [
    "Bar",
    "Spinner",
    "emit",
    "json_line",
    "note",
    "on_terminal",
    "safe",
    "setup_streams",
    "show",
]

_LINE_BREAKS = re.compile(r"\r\n?|[\x0b\x0c\x85\u2028\u2029]")


def safe(text: object) -> str:
    """``text`` as it may appear on a terminal: line breaks normalised to ``\\n``, every other
    control character, escape sequence (CSI, OSC), bidi override and lone surrogate escaped.

    >>> safe("ok\\x1b]0;pwned\\x07\\rline\\x1b[2J")
    'ok\\\\x1b]0;pwned\\\\x07\\nline\\\\x1b[2J'
    """
    return printable(_LINE_BREAKS.sub("\n", str(text)))


def setup_streams() -> None:
    """Let stdout and stderr write anything: what their encoding cannot hold is backslash-escaped
    (an ASCII or Latin-1 locale, a pipe), never a ``UnicodeEncodeError`` traceback."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            with contextlib.suppress(ValueError, OSError):
                stream.reconfigure(errors="backslashreplace")


def _unicode_stdout() -> bool:
    encoding = (getattr(sys.stdout, "encoding", None) or "").lower().replace("-", "")
    return encoding.startswith("utf")


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _plain(value: Any, depth: int = 0) -> Any:
    """``value`` made of what JSON can hold: a non-finite float is ``null``, a key a string,
    any other object its ``str``; nesting past 100 levels is cut."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if depth > 100:
        return "..."
    if isinstance(value, dict):
        return {str(k): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, depth + 1) for v in value]
    return str(value)


def json_line(data: Any) -> str:
    """``data`` as one line of valid JSON (RFC 8259: no ``NaN``), whatever it holds; ASCII when
    stdout is not UTF-8/16/32 or the text holds a lone surrogate (then a ``\\udXXX`` escape)."""
    plain = _plain(data)
    text = json.dumps(plain, ensure_ascii=not _unicode_stdout(), allow_nan=False)
    if not text.isascii() and _SURROGATE.search(text):
        text = json.dumps(plain, ensure_ascii=True, allow_nan=False)
    return text


def show(text: object, file: TextIO | None = None) -> None:
    """Print server-derived ``text`` for people (stdout, or ``file``), neutralised by ``safe``."""
    print(safe(text), file=file or sys.stdout, flush=True)


def on_terminal(args: argparse.Namespace) -> bool:
    """True when stderr is a terminal and ``--json`` is off: the only time to draw."""
    return not getattr(args, "json", False) and sys.stderr.isatty()


def emit(args: argparse.Namespace, text: str, data: dict[str, Any] | None = None) -> None:
    """Print ``text`` for people, or ``data`` as one JSON line under ``--json`` (stdout)."""
    if getattr(args, "json", False):
        if data is not None:
            print(json_line(data), flush=True)
    else:
        show(text)


def note(args: argparse.Namespace, line: str) -> None:
    """A line for the person at the terminal (stderr); silent under ``--json``."""
    if not getattr(args, "json", False):
        show(line, sys.stderr)


_PERCENT_BAR = "{desc}: {percentage:3.0f}%|{bar}| {elapsed}"


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
            style: dict[str, Any] = (
                {"mininterval": 0, "miniters": 1, "bar_format": _PERCENT_BAR}
                if self._unit == "%"
                else {"unit": self._unit, "unit_scale": True, "unit_divisor": 1024}
            )
            self._bar = tqdm(total=total, desc=self._desc, file=sys.stderr, leave=False, **style)
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

    def __init__(
        self,
        args: argparse.Namespace,
        bar: Bar | None = None,
        *,
        label: str = "working",
        interval: float = 0.1,
    ) -> None:
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
