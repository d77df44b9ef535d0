"""The agent's questions: ``ask_question`` calls decoded, and the user's answer written back.

The backend's agent can stop a turn to ask the user something (docs/protocol.md, "Chat"): the turn
ends on a tool call named ``ask_question`` whose args hold ``{title, questions: [{id, prompt,
options: [{id, label}], allow_multiple}]}``. Nothing was changed, so there is nothing to poll for;
the answer goes back as the next message, in the vendor client's form: one line per answered
question, ``"1. <prompt>: <label>, <label>"``, or ``"Skipped"``::

    reply = await session.send("make a video")
    if reply.question is not None:
        print(reply.question)                      # the title and numbered options
        reply = await session.answer(reply.question, {"source": "beach"})

Choices name an option by its ``id``, its ``label`` (any case) or its 1-based number; a question
with ``allow_multiple`` takes a list. Anything else raises ``ValidationError`` before a byte is
sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from nemovideo._util.plain import Plain, tagged
from nemovideo.errors import ValidationError

__all__ = [
    "ASK_TOOL",
    "Choice",
    "Option",
    "Question",
    "QuestionEvent",
    "answer_text",
    "question_of",
]

ASK_TOOL = "ask_question"
SKIPPED = "Skipped"
Choice = str | int
"""One pick: an option's ``id``, its ``label``, or its 1-based number."""


@attrs.frozen
class Option(Plain):
    """One answer the user can pick.

    :ivar id: what the agent calls it (``"beach"``).
    :ivar label: what the user reads (``"Waves on a beach"``); sent back in the answer.
    """

    id: str
    label: str


@attrs.frozen
class Question(Plain):
    """One question of an ``ask_question`` call.

    :ivar id: the question's id (key it in ``session.answer(..., {id: choice})``).
    :ivar prompt: the question as the user reads it.
    :ivar options: the answers offered, in order (numbered from 1 when shown).
    :ivar allow_multiple: True when several options may be picked.
    """

    id: str
    prompt: str
    options: tuple[Option, ...] = ()
    allow_multiple: bool = False


@tagged
@attrs.frozen
class QuestionEvent(Plain):
    """The agent asks the user something; the turn ends here and nothing was changed.

    ``str(event)`` is the question with numbered options, ready to show. Answer it with
    ``session.answer(event, choices)``.

    :ivar title: the heading of the question ("Which video should I make?").
    :ivar questions: the questions, in order.
    :ivar call_id: the id of the ``ask_question`` tool call.
    :ivar event_id: the SSE frame's ``id``; None when the server sent none.
    :ivar raw: the call's arguments as sent.
    """

    title: str
    questions: tuple[Question, ...]
    call_id: str | None = None
    event_id: str | None = None
    raw: Any = attrs.field(default=None, repr=False, eq=False)

    def __str__(self) -> str:
        lines = [self.title] if self.title else []
        for n, question in enumerate(self.questions, 1):
            many = " (pick any)" if question.allow_multiple else ""
            lines.append(f"{n}. {question.prompt}{many}")
            lines.extend(f"   {k}) {option.label}" for k, option in enumerate(question.options, 1))
        return "\n".join(lines)


def _text(value: Any, fallback: str) -> str:
    return value.strip() if isinstance(value, str) and value.strip() else fallback


def _option(value: Any, n: int) -> Option:
    if isinstance(value, Mapping):
        label = _text(value.get("label"), _text(value.get("text"), _text(value.get("id"), str(n))))
        return Option(_text(value.get("id"), label), label)
    label = _text(value if isinstance(value, str) else None, str(n))
    return Option(label, label)


def question_of(
    args: Mapping[str, Any], call_id: str | None = None, event_id: str | None = None
) -> QuestionEvent:
    """The :class:`QuestionEvent` an ``ask_question`` call's ``args`` stand for (read liberally:
    a missing id becomes the 1-based number, a bare string option is its own id and label)."""
    items = args.get("questions")
    if not isinstance(items, list):
        items = [args] if isinstance(args.get("prompt") or args.get("question"), str) else []
    questions = []
    for n, item in enumerate(items, 1):
        if not isinstance(item, Mapping):
            item = {"prompt": item}
        options = item.get("options")
        picks = (
            tuple(_option(o, k) for k, o in enumerate(options, 1))
            if isinstance(options, list)
            else ()
        )
        prompt = _text(item.get("prompt"), _text(item.get("question"), _text(item.get("text"), "")))
        questions.append(
            Question(
                _text(item.get("id"), str(n)), prompt, picks, item.get("allow_multiple") is True
            )
        )
    return QuestionEvent(_text(args.get("title"), ""), tuple(questions), call_id, event_id, args)


def _pick(question: Question, choice: Any) -> Option:
    if isinstance(choice, int) and not isinstance(choice, bool):
        if 1 <= choice <= len(question.options):
            return question.options[choice - 1]
    elif isinstance(choice, str):
        wanted = choice.strip()
        for option in question.options:
            if option.id == wanted:
                return option
        for option in question.options:
            if option.label.casefold() == wanted.casefold():
                return option
    offered = ", ".join(f"{n}) {o.label} (id {o.id!r})" for n, o in enumerate(question.options, 1))
    raise ValidationError(
        f"{choice!r} is not an option of {question.prompt!r}; pick one of: {offered or 'none'}."
    )


def _picks(question: Question, value: Any) -> list[Option]:
    many = isinstance(value, Sequence) and not isinstance(value, str)
    chosen = [_pick(question, v) for v in value] if many else [_pick(question, value)]
    if len(chosen) > 1 and not question.allow_multiple:
        raise ValidationError(f"{question.prompt!r} takes one option, not {len(chosen)}.")
    return list(dict.fromkeys(chosen))


def answer_text(question: QuestionEvent, choices: Any = None) -> str:
    """The message that answers ``question``: ``"1. <prompt>: <label>, <label>"`` lines.

    ``choices`` maps question ids (or 1-based numbers) to a pick or a list of picks; for a
    single question, the pick (or list) alone will do. ``None`` or an empty mapping skips the
    question (``"Skipped"``). Raises ``ValidationError`` naming the valid options on a bad pick.
    """
    if choices is None:
        return SKIPPED
    if not isinstance(choices, Mapping):
        if len(question.questions) != 1:
            raise ValidationError(
                "This question has several parts: pass a dict of question id -> choice "
                f"(ids: {', '.join(q.id for q in question.questions)})."
            )
        choices = {question.questions[0].id: choices}
    by_key: dict[Any, Question] = {q.id: q for q in question.questions}
    by_key.update({n: q for n, q in enumerate(question.questions, 1)})
    unknown = [key for key in choices if key not in by_key]
    if unknown:
        ids = ", ".join(repr(q.id) for q in question.questions)
        raise ValidationError(f"No question {unknown[0]!r} was asked; the questions are {ids}.")
    picked = {
        by_key[key].id: _picks(by_key[key], value)
        for key, value in choices.items()
        if value is not None and value != []
    }
    lines = [
        f"{n}. {q.prompt}: {', '.join(o.label for o in picked[q.id])}"
        for n, q in enumerate(question.questions, 1)
        if q.id in picked
    ]
    return "\n".join(lines) or SKIPPED
