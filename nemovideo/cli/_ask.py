"""``nemovideo chat`` pieces that do not draw: answers to a question, the reply as it streams in.

The agent can stop and ask (``ask_question``): ``reply.question`` holds a title and questions, each
with numbered options (the Assistant's reply text shows them). The REPL turns what the user types
(``2``, ``1,3``, a label, ``2; 1`` for several questions, ``skip``) into the choices
``Assistant.answer(choices)`` sends back as the next message.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from nemovideo.assistant._intents import translate_gui

__all__ = [
    "SKIP",
    "ReplyPrinter",
    "choices_for",
    "job_line",
    "parse_answer",
    "question_json",
    "unfinished",
]

# A sentence ends at its punctuation and a space, a newline, or the end of what has arrived (a
# stream that pauses after "...transitions." shows that sentence while the agent works on).
_SENTENCE_END = re.compile(r"(?<=[.!?。！？:])(?:[ \t]+|$)|\n")


def _options(question: Any) -> list[Any]:
    return list(getattr(question, "options", None) or ())


def choices_for(question: Any, typed: str) -> list[str] | None:
    """The option labels ``typed`` picks for one question, or None when it picks none.

    ``2``, ``1,3``, ``1 3`` pick by number (several only when the question allows it); a label
    typed in full (any case) picks that option.
    """
    options = _options(question)
    labels = [str(getattr(o, "label", o)) for o in options]
    words = [w for w in re.split(r"[,\s]+", typed.strip()) if w]
    if words and all(w.isdigit() for w in words):
        picked = [int(w) for w in words]
        if all(1 <= n <= len(labels) for n in picked):
            if len(picked) > 1 and not getattr(question, "allow_multiple", False):
                return None
            return [labels[n - 1] for n in dict.fromkeys(picked)]
        return None
    lowered = typed.strip().lower()
    for label in labels:
        if label.lower() == lowered:
            return [label]
    return None


SKIP = object()
"""``parse_answer``'s result for "skip": the question is answered with ``Skipped``."""


def parse_answer(event: Any, typed: str) -> Any:
    """The ``choices`` for ``Assistant.answer`` that ``typed`` stands for; None when it is not
    an answer (then it is sent as an ordinary message); ``SKIP`` for "skip".

    One question: its label (or a list of labels where several may be picked). Several: one
    answer per question, separated by ``;``, as ``{number: labels}``.
    """
    if typed.strip().lower() == "skip":
        return SKIP
    questions: Sequence[Any] = getattr(event, "questions", None) or ()
    parts = [typed] if len(questions) == 1 else typed.split(";")
    if not questions or len(parts) != len(questions):
        return None
    picks = [choices_for(q, part) for q, part in zip(questions, parts, strict=True)]
    if any(p is None for p in picks):
        return None
    shaped = [
        p if getattr(q, "allow_multiple", False) else p[0]  # type: ignore[index]
        for q, p in zip(questions, picks, strict=True)
    ]
    return shaped[0] if len(questions) == 1 else dict(enumerate(shaped, 1))


def question_json(event: Any) -> dict[str, Any] | None:
    """A question for ``--json``: title and questions with their options (ids and labels)."""
    if event is None:
        return None
    return {
        "title": getattr(event, "title", None),
        "questions": [
            {
                "id": getattr(q, "id", None),
                "prompt": getattr(q, "prompt", None),
                "allow_multiple": bool(getattr(q, "allow_multiple", False)),
                "options": [
                    {"id": getattr(o, "id", None), "label": getattr(o, "label", None)}
                    for o in _options(q)
                ],
            }
            for q in getattr(event, "questions", None) or ()
        ],
    }


class ReplyPrinter:
    """Prints the agent's words as they stream in, a sentence at a time, GUI talk removed.

    ``feed(chunk)`` takes each delta; finished sentences go through ``translate_gui`` and out
    through ``write``; ``finish()`` flushes the rest. ``shown`` is what was printed, so the caller
    prints only the part of the final reply text that goes beyond it.
    """

    def __init__(self, write: Callable[[str], None], on_first: Callable[[], None]) -> None:
        self._write, self._on_first = write, on_first
        self._pending = ""
        self.shown = ""

    def feed(self, chunk: str) -> None:
        if not chunk:
            return
        self._pending += chunk
        cut = None
        for match in _SENTENCE_END.finditer(self._pending):
            cut = match.end()
        if cut is not None:
            self._emit(self._pending[:cut])
            self._pending = self._pending[cut:]

    def _emit(self, text: str) -> None:
        shown = translate_gui(text).text if text.strip() else ""
        if not shown:
            return
        if not self.shown:
            self._on_first()
        elif not self.shown.endswith((" ", "\n")) and not shown.startswith((" ", "\n")):
            shown = " " + shown
        self.shown += shown
        self._write(shown)

    def finish(self) -> None:
        """Print what is left, and end the line."""
        if self._pending:
            self._emit(self._pending)
            self._pending = ""
        if self.shown and not self.shown.endswith("\n"):
            self._write("\n")

    def rest_of(self, text: str) -> str:
        """The part of the final ``text`` not already on screen (all of it when nothing was).

        Compared sentence by sentence, whitespace aside: the stream runs the agent's messages
        together on one line while the final text puts each on its own, and the Assistant may
        put lines of its own (an upload, a hint) before or after them. Each sentence on screen
        cancels one occurrence in ``text``, so a sentence the agent really said twice stays.
        """
        if not self.shown.strip():
            return text
        on_screen = [_squash(s) for s in _SENTENCE_END.split(self.shown) if s.strip()]
        rest: list[str] = []
        for line in text.splitlines():
            kept, dropped = [], False
            for sentence in _SENTENCE_END.split(line):
                key = _squash(sentence)
                if key in on_screen:
                    on_screen.remove(key)
                    dropped = True
                elif key:
                    kept.append(sentence.strip())
            if not dropped:
                rest.append(line)
            elif kept:
                rest.append(" ".join(kept))
        return "\n".join(rest).strip("\n")


def _squash(text: str) -> str:
    return " ".join(text.split())


def unfinished(assistant: Any) -> list[Any]:
    """The render jobs an assistant started that have not finished (``Assistant.render_jobs``)."""
    jobs = getattr(assistant, "render_jobs", ()) or ()
    return [job for job in jobs if getattr(job, "result", None) is None]


async def job_line(job: Any) -> str | None:
    """One line for ``/status``: the job's state and progress, and how to pick it up; None
    when the server says the job has finished (picked up elsewhere, or done after a Ctrl-C)."""
    resume = f"resume: /export --job {job.id}, or nemovideo export --job {job.id}"
    try:
        status = await job.refresh()
    except Exception as exc:  # a status line must not fail the whole /status
        return f"  {job.id}: status unknown ({exc}); {resume}"
    if getattr(status, "done", False):
        return None
    progress = f" {status.progress}%" if status.progress is not None else ""
    return f"  {job.id}: {status.state}{progress} ({resume})"
