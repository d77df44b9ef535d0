"""An LlmAgent that stops to ask the user a question (ask_question, long-running)."""

from . import agent as agent
