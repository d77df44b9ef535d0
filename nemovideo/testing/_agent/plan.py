"""What the emulator's agent decides to do with one message: a :class:`Plan` of tool-call
:class:`Step` s. Its own module so the sentence readers (``agent``, ``phrases``, ``questions``) can
all build plans without importing each other."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from nemovideo.testing._agent.edits import Edit

__all__ = ["EDIT_TOOL", "GENERATED_SECONDS", "GENERATE_TOOL", "Plan", "Step"]

EDIT_TOOL = "edit_multitrack"
GENERATE_TOOL = "generate_video_with_seedance"
GENERATED_SECONDS = 5


@attrs.frozen
class Step:
    """One tool call: its arguments, the edit it makes to the session state, what it reports."""

    args: Mapping[str, Any]
    edit: Edit
    result: str
    tool: str = EDIT_TOOL


@attrs.frozen
class Plan:
    """The whole answer to one message. ``steps`` empty: a text-only answer, which costs nothing.

    ``question``: the turn ends on an ``ask_question`` call with these args (nothing is edited).
    """

    intro: str
    steps: tuple[Step, ...] = ()
    outro: str = ""
    question: Mapping[str, Any] | None = None

    @property
    def edits(self) -> bool:
        return bool(self.steps)

    @property
    def clips(self) -> int:
        """How many clips the plan generates (each costs ``generation_cost``)."""
        return sum(step.tool == GENERATE_TOOL for step in self.steps)
