"""The reply text as a reader expects it: each turn's text once, nothing lost.

ADK aggregates a model turn (docs/protocol.md, "Chat"): it streams the words as ``partial``
deltas, then sends one final event carrying the turn's whole text, which repeats the deltas or
extends them (``"Hello "`` then ``"Hello gzip world."``). So the final text of a turn *replaces*
that turn's deltas when it repeats them. Deltas survive where no final text follows (a cut stream,
or a turn whose final event holds only a function call: ``end_turn``), and where the final text
does not repeat them: a custom agent's deltas that no final event repeats are its own words.
The parts (final texts; surviving deltas, joined) are stripped, blank ones left out, and joined
by newlines; a trailing "I encountered a temporary issue" after other text is dropped::

    t = Transcript()
    for event in events:          # TextEvents
        t.add(event)
    print(t.text)

The text is built as the parts arrive, not joined at the end: a long reply's text is megabytes,
and the pieces and the joined text must not exist at once (issue 27: ``send()`` of a 9 M
character reply kept 25 MB beyond its text that way).
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
    joined = "".join(deltas)
    if joined == final or joined.strip() == final.strip():
        # ADK's usual final: its deltas exactly, or but for the white space at its ends
        return (0, len(deltas)) if final and not final.isspace() else None
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


def _temporary_issue(text: str) -> bool:
    # Lowering a prefix is enough: no character lowers to nothing, and those that lower to ASCII
    # letters do so alone; lowering all of a megabyte text just to test its start would copy it.
    return text[: len(_TEMPORARY_ISSUE)].lower().startswith(_TEMPORARY_ISSUE)


class Transcript:
    """Joins text events: a turn's final text replaces its deltas; unfollowed deltas are kept.

    The settled parts are one string that grows in place (it is held by a single reference, so
    ``+=`` extends it rather than copying it). Only the latest part is held apart, since the
    closing "temporary issue" rule, or a final text replacing deltas a turn's end closed
    (``end_turn``), may still drop it.
    Reading :attr:`text` while deltas are pending (or while the latest part may still be
    replaced) appends them and remembers where they start; the next change cuts them off again.
    """

    def __init__(self) -> None:
        self._done = ""  # the settled parts, stripped, joined by "\n"
        self._last: str | None = None  # the latest part, stripped, not blank
        self._deltas: list[str] = []
        self._kept = False  # ``_last`` is deltas a turn's end closed: a final text may replace them
        self._frame: object = None  # the ``raw`` of the event that closed them
        self._cut = -1  # where ``_done`` ends without what a read appended provisionally
        self._text: str | None = ""

    def add(self, event: TextEvent) -> None:
        if event.partial:
            if self._text is not None:  # else nothing was read since the last change
                self._change()
            self._deltas.append(event.text)
            self._kept = False
            return
        text = event.text
        if not text.strip():
            return
        if self._text is not None:
            self._change()
        last = self._last
        if (
            self._kept
            and last is not None
            and (
                (self._frame is event.raw and event.raw is not None)
                or _repeated_run([last], text) is not None
            )
        ):
            # the deltas a call or a tool's answer closed, which this final text repeats: ADK
            # 1.x sends the model turn's aggregated text after the tool ran
            self._last = None
        self._kept = False
        deltas = self._deltas
        if deltas:
            run = _repeated_run(deltas, text)
            if run is None:  # a custom agent's own words, which no final repeats: they stay
                self._part("".join(deltas))
                deltas.clear()
            else:
                i, j = run
                if i:
                    self._part("".join(deltas[:i]))
                del deltas[:j]
        self._part(text)

    def end_turn(self, frame: object = None) -> None:
        """A final event without text (a function call, a function response) ended the turn:
        its deltas are the turn's only text and stay, unless a final text replaces them after all:
        one in the same frame (``frame``, that event's ``raw``) after the call, or a later one
        that repeats them (ADK 1.x sends a turn's aggregated text after its tool ran)."""
        if not self._deltas:
            return
        if self._text is not None:
            self._change()
        self._kept = self._part("".join(self._deltas))  # a blank run is no part to replace
        self._deltas.clear()
        self._frame = frame

    @property
    def text(self) -> str:
        """The joined text, built once per change; reads in between return the same object."""
        if self._text is None:
            tail = "".join(self._deltas).strip()
            last = self._last
            closing = tail or last
            count = (self._done != "") + (last is not None) + (tail != "")
            drop = closing is not None and count > 1 and _temporary_issue(closing)
            if tail:
                if last is not None:  # no longer the latest part whatever comes: settled
                    self._append(last)
                    self._last = None
                if not drop:
                    self._cut = len(self._done)
                    self._append(tail)
            elif last is not None and not drop:
                if not self._kept:  # nothing can take it back: settled
                    self._last = None
                else:
                    self._cut = len(self._done)
                self._append(last)
            self._text = self._done
        return self._text

    def _change(self) -> None:
        self._text = None
        if self._cut >= 0:  # a read appended what was not settled: take it back out
            self._done, self._cut = self._done[: self._cut], -1

    def _part(self, text: str) -> bool:
        text = text.strip()
        if not text:
            return False
        if self._last is not None:
            self._append(self._last)
        self._last = text
        return True

    def _append(self, text: str) -> None:
        done, self._done = self._done, ""  # one reference left: += grows the str in place
        if done:
            done += "\n"
        done += text
        self._done = done
