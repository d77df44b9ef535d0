"""The model declines: ADK sends an ordinary event with errorCode and errorMessage."""

from __future__ import annotations

from google.adk.agents import LlmAgent
from nemo_scripted import ScriptedLlm

root_agent = LlmAgent(name="refuses", model=ScriptedLlm(model="scripted/refuse"))
