"""An LlmAgent whose tool raises mid-stream (a multi-line message with quotes)."""

from . import agent as agent
