"""The reply text as a reader expects it: each turn's text once, nothing lost.

ADK aggregates a model turn (docs/protocol.md, "Chat"): it streams the words as ``partial``
deltas, then sends one final event carrying the turn's whole text, which repeats the deltas or
extends them (``"Hello "`` then ``"Hello gzip world."``). So the final text of a turn *replaces*
that turn's deltas. Deltas survive only where no final text follows: a cut stream, or a turn whose
final event holds only a function call (``end_turn``); a custom agent's deltas that no final event
follows stay too. A trailing "I encountered a temporary issue" after other text is dropped::

    t = Transcript()
    for event in events:          # TextEvents
        t.add(event)
    print(t.text)
"""

from __future__ import annotations

from nemovideo.chat._events import TextEvent

__all__ = ["Transcript"]

_TEMPORARY_ISSUE = "i encountered a temporary issue"


class Transcript:
    """Joins text events: a turn's final text replaces its deltas; unfollowed deltas are kept."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._deltas: list[str] = []
        self._text: str | None = ""
        self._kept: tuple[object, int] | None = None

    def add(self, event: TextEvent) -> None:
        self._text = None
        if event.partial:
            self._deltas.append(event.text)
            self._kept = None
            return
        if not event.text.strip():
            return
        kept = self._kept
        if kept is not None and kept[0] is event.raw and event.raw is not None:
            del self._parts[kept[1]]  # the call came first in this very frame: the turn's text
        self._kept = None
        self._deltas.clear()  # the turn's final text replaces its partial chunks
        self._parts.append(event.text)

    def end_turn(self, frame: object = None) -> None:
        """A final event without text (a function call, a function response) ended the turn:
        its deltas are the turn's only text and stay. ``frame`` is that event's ``raw``: should
        the same frame carry a final text after the call, the text replaces them after all."""
        if not self._deltas:
            return
        self._text = None
        self._parts.append("".join(self._deltas))
        self._deltas.clear()
        self._kept = (frame, len(self._parts) - 1) if frame is not None else None

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
