"""The agent stops and asks: ask_question is long-running, so the turn ends on its call."""

from __future__ import annotations

from typing import Any

from google.adk.agents import LlmAgent
from google.adk.tools.long_running_tool import LongRunningFunctionTool
from nemo_scripted import ScriptedLlm


def ask_question(title: str, questions: list[dict[str, Any]]) -> None:
    """Ask the user; the answer comes back as their next message."""
    return None


root_agent = LlmAgent(name="asks", model=ScriptedLlm(model="scripted/ask"),
                      tools=[LongRunningFunctionTool(ask_question)])  # fmt: skip
