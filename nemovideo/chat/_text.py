"""The reply text as a reader expects it: each turn's text once, nothing lost.

ADK aggregates a model turn (docs/protocol.md, "Chat"): it streams the words as ``partial``
deltas, then sends one final event carrying the turn's whole text, which repeats the deltas or
extends them (``"Hello "`` then ``"Hello gzip world."``). So the final text of a turn *replaces*
that turn's deltas when it repeats them. Deltas survive where no final text follows (a cut stream,
or a turn whose final event holds only a function call: ``end_turn``), and where the final text
does not repeat them: a custom agent's deltas that no final event repeats are its own words. A trailing "I encountered a temporary issue" after other text is dropped::

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
    """``(i, j)`` when ``deltas[i:j]`` are what ``final`` repeats, white space aside: a run that
    spells it (earliest first), else a run ending the pending deltas that spells its start (ADK's
    final may extend its deltas: ``"Hello "`` then ``"Hello gzip world."``); ``None`` when the
    final repeats none of them (a custom agent's own partial words, which stay)."""
    whole = _bare(final)
    if not whole:
        return None
    bare = [_bare(d) for d in deltas]
    if "".join(bare) == whole:
        return 0, len(deltas)
    for i in range(len(bare)):
        spelled = ""
        for j in range(i, len(bare)):
            spelled += bare[j]
            if spelled == whole:
                return i, j + 1
            if not whole.startswith(spelled):
                break
        else:
            if spelled:  # the run reached the last delta and the final goes on: an extension
                return i, len(bare)
    return None


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
        if kept is not None and (
            (kept[0] is event.raw and event.raw is not None)
            or _repeated_run([self._parts[kept[1]]], event.text) is not None
        ):
            # the deltas a call or a tool's answer closed, which this final text repeats: ADK
            # 1.x sends the model turn's aggregated text after the tool ran
            del self._parts[kept[1]]
        self._kept = None
        if self._deltas:
            run = _repeated_run(self._deltas, event.text)
            if run is None:  # a custom agent's own words, which no final repeats: they stay
                self._parts.append("".join(self._deltas))
                self._deltas.clear()
            else:
                i, j = run
                if i:
                    self._parts.append("".join(self._deltas[:i]))
                del self._deltas[:j]
        self._parts.append(event.text)

    def end_turn(self, frame: object = None) -> None:
        """A final event without text (a function call, a function response) ended the turn:
        its deltas are the turn's only text and stay, unless a final text replaces them after all:
        one in the same frame (``frame``, that event's ``raw``) after the call, or a later one
        that repeats them (ADK 1.x sends a turn's aggregated text after its tool ran)."""
        if not self._deltas:
            return
        self._text = None
        self._parts.append("".join(self._deltas))
        self._deltas.clear()
        self._kept = (frame, len(self._parts) - 1)

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
