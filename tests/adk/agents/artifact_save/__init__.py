"""An LlmAgent whose tool saves an artifact (ADK sends that event as two frames)."""

from . import agent as agent
