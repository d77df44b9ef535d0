"""A tool call during which ADK sends no byte at all (no heartbeat)."""

from __future__ import annotations

import asyncio

from google.adk.agents import LlmAgent
from nemo_scripted import ScriptedLlm, slow_ms


async def slow_render(seconds: int) -> dict[str, str]:
    """Take a while."""
    await asyncio.sleep(slow_ms())
    return {"status": "success"}


root_agent = LlmAgent(name="slow_tool", model=ScriptedLlm(model="scripted/slow"),
                      tools=[slow_render])  # fmt: skip
