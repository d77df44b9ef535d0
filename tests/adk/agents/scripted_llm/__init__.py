"""An LlmAgent on the scripted offline model with a real edit_multitrack tool."""

from . import agent as agent
