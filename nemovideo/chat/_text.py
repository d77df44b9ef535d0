"""The reply text as a reader expects it: streamed deltas merged, repeats dropped, nothing lost.

ADK streams a model's words as ``partial`` deltas, then a final event repeating the whole text
(docs/protocol.md, "Chat"), so joining every text part would say everything twice. But a custom
agent may stream partial text that no final event repeats, and a stream may be cut after some
deltas: that text is still part of the answer. :class:`Transcript` keeps a final event's text and
drops the run of pending deltas it repeats (compared without whitespace); deltas before that run,
deltas no final repeats and deltas still pending at the end stay, in order::

    t = Transcript()
    for event in events:          # TextEvents
        t.add(event)
    print(t.text)
"""

from __future__ import annotations

from nemovideo.chat._events import TextEvent

__all__ = ["Transcript"]

_TEMPORARY_ISSUE = "i encountered a temporary issue"


def _bare(text: str) -> str:
    return "".join(text.split())


def _repeated_run(deltas: list[str], final: str) -> tuple[int, int] | None:
    """``(i, j)`` when ``deltas[i:j]`` spell ``final`` (whitespace aside), earliest run first."""
    whole = _bare(final)
    if not whole:
        return None
    if _bare("".join(deltas)) == whole:
        return 0, len(deltas)
    for i in range(len(deltas)):
        spelled = ""
        for j in range(i, len(deltas)):
            spelled += _bare(deltas[j])
            if spelled == whole:
                return i, j + 1
            if not whole.startswith(spelled):
                break
    return None


class Transcript:
    """Joins text events: deltas merged, finals kept, repeats dropped, unrepeated deltas kept."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._deltas: list[str] = []
        self._text: str | None = ""

    def add(self, event: TextEvent) -> None:
        self._text = None
        if event.partial:
            self._deltas.append(event.text)
            return
        if self._deltas:
            run = _repeated_run(self._deltas, event.text)
            if run is None:
                self._parts.append("".join(self._deltas))
                self._deltas.clear()
            else:
                i, j = run
                if i:
                    self._parts.append("".join(self._deltas[:i]))
                del self._deltas[:j]
        self._parts.append(event.text)

    @property
    def text(self) -> str:
        """The joined text, built once per change (a long reply's text is megabytes)."""
        if self._text is None:
            parts = [*self._parts, "".join(self._deltas)]
            parts = [s for s in (p.strip() for p in parts) if s]
            if len(parts) > 1 and parts[-1].lower().startswith(_TEMPORARY_ISSUE):
                parts.pop()
            self._text = "\n".join(parts)
        return self._text
