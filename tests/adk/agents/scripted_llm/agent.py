"""An LlmAgent, a real tool, a scripted model: streaming on or off as the request asks."""

from __future__ import annotations

from typing import Any

from google.adk.agents import LlmAgent
from nemo_scripted import ScriptedLlm


def edit_multitrack(action: str, style: str = "", volume: float = 0.5) -> dict[str, Any]:
    """Edit the timeline."""
    return {"status": "success", "message": f"{action} {style} at {volume:.0%}"}


root_agent = LlmAgent(
    name="scripted_llm", model=ScriptedLlm(model="scripted/edit"), tools=[edit_multitrack]
)
