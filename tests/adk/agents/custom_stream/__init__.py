"""A custom BaseAgent: partial text no final repeats, a repeated partial, a tool call and result."""

from . import agent as agent
