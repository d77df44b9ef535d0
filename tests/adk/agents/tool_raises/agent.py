"""The tool raises after the stream started: ADK ends the stream with an {"error"} frame."""

from __future__ import annotations

from google.adk.agents import LlmAgent
from nemo_scripted import ScriptedLlm

MESSAGE = 'Render "draft-7" failed:\nthe encoder said "no"\n\nretry later'


def explode(what: str) -> dict[str, str]:
    """Fail loudly."""
    raise ValueError(MESSAGE)


root_agent = LlmAgent(name="tool_raises", model=ScriptedLlm(model="scripted/raise"),
                      tools=[explode])  # fmt: skip
