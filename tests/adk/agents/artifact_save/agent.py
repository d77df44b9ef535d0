"""A tool that saves an artifact: the event carries actions.artifactDelta."""

from __future__ import annotations

from google.adk.agents import LlmAgent
from google.adk.tools.tool_context import ToolContext
from google.genai import types
from nemo_scripted import ScriptedLlm


async def save_draft(name: str, tool_context: ToolContext) -> dict[str, object]:
    """Save the draft as an artifact."""
    part = types.Part(inline_data=types.Blob(mime_type="application/json", data=b'{"t": []}'))
    version = await tool_context.save_artifact(name, part)
    return {"status": "success", "version": version}


root_agent = LlmAgent(name="artifact_save", model=ScriptedLlm(model="scripted/artifact"),
                      tools=[save_draft])  # fmt: skip
