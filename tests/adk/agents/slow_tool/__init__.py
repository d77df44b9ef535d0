"""An LlmAgent whose tool stays silent for NEMO_ADK_SLOW_MS milliseconds."""

from . import agent as agent
